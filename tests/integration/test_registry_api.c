/* The registry's REST API, in-process on a fresh database: every endpoint's
 * success shape and Confluent error codes, ids shared by equal schemas,
 * compatibility per level, config, deletes, bad input, racing registrations. */
#include "schemas/registry_client.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/test.h"

#include <pthread.h>

static const char *const V1 =
    "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"}]}";
/* V1 with other spacing and a doc: the same canonical form. */
static const char *const V1_SPACED_DOC =
    "{ \"type\" : \"record\", \"name\" : \"Risk\", \"namespace\": \"t\", \"doc\": \"a risk\",\n"
    "  \"fields\" : [ { \"name\" : \"id\", \"type\" : \"string\", \"doc\": \"its id\" } ] }";
/* Adds an optional field: backward and forward compatible with V1. */
static const char *const V2_OPTIONAL =
    "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"title\",\"type\":[\"null\",\"string\"],\"default\":null}]}";
/* Adds a required field: not backward compatible with V1 (forward is). */
static const char *const V2_REQUIRED =
    "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"score\",\"type\":\"int\"}]}";

/* Replaces "score" by a required "owner": not backward compatible with V2_REQUIRED. */
static const char *const V3_OWNER =
    "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},{\"name\":\"owner\",\"type\":\"string\"}]}";

static bl_test_registry reg;

static char *schema_body(const char *schema)
{
    json_t *b = json_pack("{s:s}", "schema", schema);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

/* POSTs schema to path; returns the status and puts the answer in *out. */
static long post_schema(const char *path, const char *schema, json_t **out)
{
    char *body = schema_body(schema);
    long status = bl_test_registry_call(&reg, "POST", path, body, out);
    free(body);
    return status;
}

static int register_id(const char *subject, const char *schema)
{
    char path[256];
    snprintf(path, sizeof path, "/subjects/%s/versions", subject);
    json_t *out = NULL;
    long status = post_schema(path, schema, &out);
    int id = status == 200 ? (int)json_integer_value(json_object_get(out, "id")) : -(int)status;
    json_decref(out);
    return id;
}

/* Expects method path (body may be NULL) to answer status with error_code code. */
static void expect_error(const char *method, const char *path, const char *body, long status, long code)
{
    json_t *out = NULL;
    long got = bl_test_registry_call(&reg, method, path, body, &out);
    if (got != status || bl_test_error_code(out) != code)
        fprintf(stderr, "  %s %s -> %ld %ld (want %ld %ld)\n", method, path, got, bl_test_error_code(out),
                status, code);
    CHECK_EQ_INT(got, status);
    CHECK_EQ_INT(bl_test_error_code(out), code);
    CHECK(json_is_string(json_object_get(out, "message")));
    json_decref(out);
}

static void same_schema_gets_same_id_across_subjects_and_spellings(void)
{
    int a = register_id("same-a", V1);
    REQUIRE(a > 0);
    CHECK_EQ_INT(register_id("same-a", V1), a);
    CHECK_EQ_INT(register_id("same-a", V1_SPACED_DOC), a);
    CHECK_EQ_INT(register_id("same-b", V1_SPACED_DOC), a);
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/same-a/versions", NULL, &out), 200);
    CHECK_EQ_INT(json_array_size(out), 1);
    json_decref(out);
}

static void new_version_only_when_schema_changes(void)
{
    int a = register_id("evolve", V1);
    int b = register_id("evolve", V2_OPTIONAL);
    REQUIRE(a > 0 && b > 0);
    CHECK(a != b);
    CHECK_EQ_INT(register_id("evolve", V2_OPTIONAL), b);
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/evolve/versions", NULL, &out), 200);
    CHECK_EQ_INT(json_array_size(out), 2);
    CHECK_EQ_INT(json_integer_value(json_array_get(out, 1)), 2);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/evolve/versions/latest", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "subject")), "evolve");
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "version")), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "id")), b);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "schema")), V2_OPTIONAL);
    json_decref(out);
}

static void read_endpoints_answer_confluent_shapes(void)
{
    int id = register_id("reads", V1);
    REQUIRE(id > 0);
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects", NULL, &out), 200);
    int found = 0;
    for (size_t i = 0; i < json_array_size(out); i++)
        found |= strcmp(json_string_value(json_array_get(out, i)), "reads") == 0;
    CHECK(found);
    json_decref(out);

    char path[128];
    snprintf(path, sizeof path, "/schemas/ids/%d", id);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", path, NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "schema")), V1);
    json_decref(out);

    snprintf(path, sizeof path, "/schemas/ids/%d/versions", id);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", path, NULL, &out), 200);
    int pair = 0;
    for (size_t i = 0; i < json_array_size(out); i++) {
        json_t *e = json_array_get(out, i);
        pair |= strcmp(json_string_value(json_object_get(e, "subject")), "reads") == 0 &&
                json_integer_value(json_object_get(e, "version")) == 1;
    }
    CHECK(pair);
    json_decref(out);

    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/reads/versions/1/schema", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "type")), "record");
    json_decref(out);

    CHECK_EQ_INT(post_schema("/subjects/reads", V1_SPACED_DOC, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "subject")), "reads");
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "id")), id);
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "version")), 1);
    CHECK(json_is_string(json_object_get(out, "schema")));
    json_decref(out);
}

static void unknown_things_answer_404_codes(void)
{
    REQUIRE(register_id("known", V1) > 0);
    expect_error("GET", "/subjects/nope/versions", NULL, 404, 40401);
    expect_error("GET", "/subjects/nope/versions/1", NULL, 404, 40401);
    expect_error("GET", "/subjects/known/versions/9", NULL, 404, 40402);
    expect_error("GET", "/subjects/known/versions/9/schema", NULL, 404, 40402);
    expect_error("GET", "/schemas/ids/999999", NULL, 404, 40403);
    expect_error("GET", "/schemas/ids/999999/versions", NULL, 404, 40403);
    char *other = schema_body(V2_REQUIRED);
    expect_error("POST", "/subjects/known", other, 404, 40403);
    expect_error("POST", "/subjects/nope", other, 404, 40401);
    expect_error("POST", "/compatibility/subjects/nope/versions/latest", other, 404, 40401);
    expect_error("POST", "/compatibility/subjects/known/versions/7", other, 404, 40402);
    free(other);
    expect_error("DELETE", "/subjects/nope", NULL, 404, 40401);
    expect_error("DELETE", "/subjects/known/versions/5", NULL, 404, 40402);
    expect_error("GET", "/config/known", NULL, 404, 40408);
    expect_error("DELETE", "/config/known", NULL, 404, 40401);
}

static void bad_input_is_refused_with_its_code(void)
{
    REQUIRE(register_id("badin", V1) > 0);
    /* Confluent's rest-utils answers unparseable JSON with 400 / error_code 400. */
    expect_error("POST", "/subjects/badin/versions", "{not json", 400, 400);
    expect_error("POST", "/subjects/badin/versions", "{\"schema\": {\"type\": \"string\"}}", 400, 400);
    expect_error("POST", "/subjects/badin/versions", "{}", 422, 42201);
    expect_error("POST", "/subjects/badin/versions", "{\"schema\": \"{\\\"type\\\": \\\"recrod\\\"}\"}", 422, 42201);
    expect_error("POST", "/subjects/badin/versions", "{\"schema\": \"not json at all\"}", 422, 42201);
    expect_error("POST", "/subjects/badin/versions", "{\"schema\": \"syntax = \\\"proto3\\\";\", \"schemaType\": \"PROTOBUF\"}", 422, 42201);
    const char *versions[] = {"abc", "0", "-5", "2147483648", "1.5"};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/subjects/badin/versions/%s", versions[i]);
        expect_error("GET", path, NULL, 422, 42202);
        expect_error("DELETE", path, NULL, 422, 42202);
    }
    expect_error("PUT", "/config", "{\"compatibility\": \"SIDEWAYS\"}", 422, 42203);
    expect_error("PUT", "/config/badin", "{}", 422, 42203);
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call_typed(&reg, "POST", "/subjects/badin/versions", "text/plain",
                                             "{}", &out), 415);
    json_decref(out);
    /* The other accepted request types. */
    char *body = schema_body(V1);
    CHECK_EQ_INT(bl_test_registry_call_typed(&reg, "POST", "/subjects/badin/versions", "application/json",
                                             body, &out), 200);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call_typed(&reg, "POST", "/subjects/badin/versions",
                                             "application/octet-stream", body, &out), 200);
    json_decref(out);
    free(body);
}

static void compatibility_follows_the_effective_level(void)
{
    REQUIRE(register_id("compat", V1) > 0);
    json_t *out = NULL;
    /* Default BACKWARD: a new required field is refused with Confluent's message. */
    CHECK_EQ_INT(post_schema("/subjects/compat/versions", V2_REQUIRED, &out), 409);
    CHECK_EQ_INT(bl_test_error_code(out), 409);
    const char *msg = json_string_value(json_object_get(out, "message"));
    CHECK(msg && strstr(msg, "Schema being registered is incompatible with an earlier schema for subject \"compat\"") == msg);
    CHECK(msg && strstr(msg, "score"));
    json_decref(out);

    CHECK_EQ_INT(post_schema("/compatibility/subjects/compat/versions/latest?verbose=true", V2_REQUIRED, &out), 200);
    CHECK(json_is_false(json_object_get(out, "is_compatible")));
    CHECK(json_array_size(json_object_get(out, "messages")) >= 1);
    json_decref(out);
    CHECK_EQ_INT(post_schema("/compatibility/subjects/compat/versions/1", V2_OPTIONAL, &out), 200);
    CHECK(json_is_true(json_object_get(out, "is_compatible")));
    CHECK(!json_object_get(out, "messages"));
    json_decref(out);

    /* FORWARD on the subject: the same evolution is accepted; global stays. */
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config/compat", "{\"compatibility\":\"FORWARD\"}", &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "compatibility")), "FORWARD");
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/config/compat", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "compatibilityLevel")), "FORWARD");
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/config", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "compatibilityLevel")), "BACKWARD");
    json_decref(out);
    CHECK(register_id("compat", V2_REQUIRED) > 0);

    /* Back to the global level (set to FULL): removing the required field
     * again is forward- but not backward-compatible with the latest. */
    CHECK_EQ_INT(bl_test_registry_call(&reg, "DELETE", "/config/compat", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "compatibilityLevel")), "FORWARD");
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config", "{\"compatibility\":\"FULL\"}", &out), 200);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/config/compat?defaultToGlobal=true", NULL, &out), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(out, "compatibilityLevel")), "FULL");
    json_decref(out);
    CHECK_EQ_INT(register_id("compat", V3_OWNER), -409);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config", "{\"compatibility\":\"BACKWARD\"}", &out), 200);
    json_decref(out);
}

static void transitive_levels_check_every_live_version(void)
{
    json_t *out = NULL;
    REQUIRE(register_id("trans", V1) > 0);
    REQUIRE(register_id("trans", V2_OPTIONAL) > 0);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config/trans", "{\"compatibility\":\"FORWARD_TRANSITIVE\"}", &out), 200);
    json_decref(out);
    /* Drops "title" (fine for readers of v2: it has a default) and adds a
     * required field v1 and v2 readers ignore: forward compatible with both. */
    CHECK(register_id("trans", V2_REQUIRED) > 0);
    /* BACKWARD_TRANSITIVE: V1 reads as V3_OWNER's reader? No: owner has no
     * default, so v1 data cannot be read; refused. */
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config/trans", "{\"compatibility\":\"BACKWARD_TRANSITIVE\"}", &out), 200);
    json_decref(out);
    CHECK_EQ_INT(register_id("trans", V3_OWNER), -409);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "PUT", "/config/trans", "{\"compatibility\":\"NONE\"}", &out), 200);
    json_decref(out);
    CHECK(register_id("trans", "{\"type\":\"string\"}") > 0);
}

static void deletes_are_soft_then_permanent(void)
{
    REQUIRE(register_id("del", V1) > 0);
    REQUIRE(register_id("del", V2_OPTIONAL) > 0);
    json_t *out = NULL;
    expect_error("DELETE", "/subjects/del/versions/1?permanent=true", NULL, 404, 40407);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "DELETE", "/subjects/del/versions/1", NULL, &out), 200);
    CHECK_EQ_INT(json_integer_value(out), 1);
    json_decref(out);
    expect_error("DELETE", "/subjects/del/versions/1", NULL, 404, 40406);
    expect_error("GET", "/subjects/del/versions/1", NULL, 404, 40402);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/del/versions/1?deleted=true", NULL, &out), 200);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "DELETE", "/subjects/del/versions/1?permanent=true", NULL, &out), 200);
    json_decref(out);
    expect_error("DELETE", "/subjects/del?permanent=true", NULL, 404, 40405);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "DELETE", "/subjects/del", NULL, &out), 200);
    CHECK_EQ_INT(json_array_size(out), 1);
    CHECK_EQ_INT(json_integer_value(json_array_get(out, 0)), 2);
    json_decref(out);
    expect_error("DELETE", "/subjects/del", NULL, 404, 40404);
    expect_error("GET", "/subjects/del/versions", NULL, 404, 40401);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "DELETE", "/subjects/del?permanent=true", NULL, &out), 200);
    json_decref(out);
    expect_error("DELETE", "/subjects/del?permanent=true", NULL, 404, 40401);
    /* Re-registering after deletion starts a fresh version; the id is kept. */
    CHECK_EQ_INT(register_id("del", V1), register_id("other-del", V1));
}

static void operations_endpoints_answer(void)
{
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/healthz", NULL, &out), 200);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/readyz", NULL, &out), 200);
    json_decref(out);
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/metrics", NULL, NULL), 200);
    expect_error("GET", "/no/such/path", NULL, 404, 404);
}

struct racer {
    int id;
    int rc;
};

static void *race_register(void *arg)
{
    struct racer *r = arg;
    bl_err err = {0};
    bl_registry_client *c = bl_registry_client_new(reg.base_url, 30000, &err);
    r->rc = c ? bl_registry_client_register(c, "race", V2_OPTIONAL, &r->id, &err) : -1;
    if (r->rc != 0)
        fprintf(stderr, "  racer: %s\n", err.msg);
    bl_registry_client_free(c);
    return NULL;
}

static void eight_racing_registrations_make_one_id_and_one_version(void)
{
    pthread_t threads[8];
    struct racer racers[8] = {{0}};
    for (int i = 0; i < 8; i++)
        REQUIRE(pthread_create(&threads[i], NULL, race_register, &racers[i]) == 0);
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(racers[i].rc, 0);
        CHECK_EQ_INT(racers[i].id, racers[0].id);
    }
    json_t *out = NULL;
    CHECK_EQ_INT(bl_test_registry_call(&reg, "GET", "/subjects/race/versions", NULL, &out), 200);
    CHECK_EQ_INT(json_array_size(out), 1);
    json_decref(out);
}

static void client_reads_what_the_server_stores(void)
{
    bl_err err = {0};
    bl_registry_client *c = bl_registry_client_new(reg.base_url, 0, &err);
    REQUIRE(c);
    int id = 0;
    CHECK_EQ_INT(bl_registry_client_register(c, "client-s", V1, &id, &err), 0);
    char *text = bl_registry_client_schema_by_id(c, id, &err);
    CHECK_EQ_STR(text, V1);
    free(text);
    CHECK(!bl_registry_client_fetch_schema(c, 987654, &err));
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_registry_version v = {0};
    CHECK_EQ_INT(bl_registry_client_get(c, "client-s", BL_REG_LATEST, &v, &err), 0);
    CHECK_EQ_INT(v.id, id);
    CHECK_EQ_INT(v.version, 1);
    bl_registry_version_clear(&v);
    bool ok = true;
    bl_registry_strings why = {0};
    CHECK_EQ_INT(bl_registry_client_check(c, "client-s", BL_REG_LATEST, V2_REQUIRED, &ok, &why, &err), 0);
    CHECK(!ok);
    CHECK(why.count >= 1);
    bl_registry_strings_clear(&why);
    CHECK_EQ_INT(bl_registry_client_register(c, "client-s", V2_REQUIRED, &id, &err), -1);
    CHECK_EQ_INT(err.code, BL_REG_INCOMPATIBLE);
    CHECK_EQ_INT(bl_registry_client_get(c, "client-none", BL_REG_LATEST, &v, &err), -1);
    CHECK_EQ_INT(err.code, BL_REG_SUBJECT_NOT_FOUND);
    bl_registry_client_free(c);
}

int main(void)
{
    if (bl_test_registry_start(&reg) != 0) {
        bl_test_registry_stop(&reg);
        return 1;
    }
    BL_RUN(same_schema_gets_same_id_across_subjects_and_spellings);
    BL_RUN(new_version_only_when_schema_changes);
    BL_RUN(read_endpoints_answer_confluent_shapes);
    BL_RUN(unknown_things_answer_404_codes);
    BL_RUN(bad_input_is_refused_with_its_code);
    BL_RUN(compatibility_follows_the_effective_level);
    BL_RUN(transitive_levels_check_every_live_version);
    BL_RUN(deletes_are_soft_then_permanent);
    BL_RUN(operations_endpoints_answer);
    BL_RUN(eight_racing_registrations_make_one_id_and_one_version);
    BL_RUN(client_reads_what_the_server_stores);
    bl_test_registry_stop(&reg);
    return bl_test_summary();
}
