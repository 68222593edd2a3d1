/* The event catalog's JSON Schemas and examples (schemas/avro_json_schema.h,
 * connectors/webhook/workers/payload_schema.h): for every event type of the
 * source catalog, the example body satisfies the schema as an independent
 * validator (Python's jsonschema, draft 2020-12) reads it, and a body with
 * a field missing, a field too many, a wrong event name or a symbol an enum
 * lacks does not; each example is a value the Avro schema takes, and the
 * body the Avro writer makes of it is the example again. */
#include "connectors/webhook/workers/payload_schema.h"
#include "schemas/avro_json_schema.h"
#include "schemas/catalog.h"
#include "tests/support/json_schema_check.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    const bl_catalog_msg *m;
    json_t *schema, *example; /* the body's */
} entry;

/* The schema and example body of m (both NULL on failure, printed). */
static entry entry_of(const bl_catalog *cat, const bl_catalog_msg *m)
{
    entry e = {.m = m};
    bl_err err = {0};
    const bl_catalog_topic *t = bl_catalog_topic_find(cat, m->topic, &err);
    bl_avro_schema *S = t ? bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), &err) : NULL;
    json_t *data_schema = S ? bl_avro_json_schema(S, m->record_name, &err) : NULL;
    json_t *data = data_schema ? bl_avro_json_example(S, m->record_name, &err) : NULL;
    if (data) {
        e.example = bl_webhook_payload_example(m->type, data, &err);
        e.schema = e.example ? bl_webhook_payload_schema(m->type, json_incref(data_schema), &err) : NULL;
    }
    if (!e.schema)
        fprintf(stderr, "  %s: %s\n", m->type, err.msg);
    json_decref(data_schema);
    json_decref(data);
    bl_avro_schema_free(S);
    return e;
}

static void add_case(json_t *cases, const json_t *schema, json_t *instance)
{
    json_array_append_new(cases, json_pack("{s:O, s:o}", "schema", schema, "instance", instance));
}

/* The first field of data whose schema is an enum, or NULL. */
static const char *enum_field(const json_t *schema)
{
    const json_t *props = json_object_get(json_object_get(json_object_get(schema, "properties"), "data"), "properties");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)props, k, v) if (json_object_get(v, "enum")) return k;
    return NULL;
}

static void every_example_satisfies_its_schema_and_mutants_do_not(void)
{
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(BUSLINE_SOURCE_DIR "/schemas", &err);
    REQUIRE(cat);
    json_t *cases = json_array();
    size_t types = 0, expected_valid = 0;
    static char want[1024][8]; /* "valid" / "invalid" per case */
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_EVENT)
            continue;
        entry e = entry_of(cat, m);
        CHECK(e.schema != NULL);
        if (!e.schema)
            continue;
        types++;
        size_t at = json_array_size(cases);
        add_case(cases, e.schema, json_deep_copy(e.example));
        snprintf(want[at], sizeof want[at], "valid");
        expected_valid++;
        /* a field missing */
        json_t *mut = json_deep_copy(e.example);
        json_t *data = json_object_get(mut, "data");
        void *first = json_object_iter(data);
        if (first) {
            json_object_del(data, json_object_iter_key(first));
            add_case(cases, e.schema, mut);
            snprintf(want[json_array_size(cases) - 1], 8, "invalid");
        } else
            json_decref(mut);
        /* a field too many */
        mut = json_deep_copy(e.example);
        json_object_set_new(json_object_get(mut, "data"), "not_a_field", json_true());
        add_case(cases, e.schema, mut);
        snprintf(want[json_array_size(cases) - 1], 8, "invalid");
        /* another event's name */
        mut = json_deep_copy(e.example);
        json_object_set_new(mut, "event", json_string("not.this.type"));
        add_case(cases, e.schema, mut);
        snprintf(want[json_array_size(cases) - 1], 8, "invalid");
        /* a symbol the enum lacks */
        const char *ef = enum_field(e.schema);
        if (ef) {
            mut = json_deep_copy(e.example);
            json_object_set_new(json_object_get(mut, "data"), ef, json_string("NOT_A_SYMBOL"));
            add_case(cases, e.schema, mut);
            snprintf(want[json_array_size(cases) - 1], 8, "invalid");
        }
        json_decref(e.schema);
        json_decref(e.example);
    }
    CHECK_EQ_INT(types, bl_catalog_msg_count_kind(cat, BL_MSG_EVENT));
    REQUIRE(json_array_size(cases) < 1024);
    static char verdicts[1024][BL_TEST_VERDICT_MAX];
    size_t n = bl_test_json_schema_check(cases, verdicts, 1024);
    CHECK_EQ_INT(n, json_array_size(cases));
    size_t valid = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = strncmp(verdicts[i], want[i], strlen(want[i])) == 0 &&
                 (want[i][0] == 'i' || strcmp(verdicts[i], "valid") == 0);
        if (!ok)
            fprintf(stderr, "  case %zu: wanted %s, got %s\n  %s\n", i, want[i], verdicts[i],
                    json_dumps(json_object_get(json_array_get(cases, i), "instance"), JSON_COMPACT));
        CHECK(ok);
        valid += strcmp(verdicts[i], "valid") == 0;
    }
    CHECK_EQ_INT(valid, expected_valid);
    json_decref(cases);
    bl_catalog_free(cat);
}

/* The example's data in the event envelope of its topic, read by the Avro
 * JSON reader and written back by the plain writer, as the fan-out does. */
static json_t *avro_round_trip(const bl_catalog *cat, const bl_catalog_msg *m, const json_t *data, bl_err *err)
{
    const bl_catalog_topic *t = bl_catalog_topic_find(cat, m->topic, err);
    bl_avro_schema *S = t ? bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), err) : NULL;
    if (!S)
        return NULL;
    json_t *env = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "id", "0b7c1f4e-2d0a-4f8e-9a57-3c1d2e4f5a6b",
                            "type", m->type, "time", "2026-03-01T09:00:00.000Z", "source", "test",
                            "organization_id", "org_1042", "subject", "s1", "data", data);
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = m->record_name};
    avro_value_t v;
    json_t *back = NULL;
    if (bl_avro_value_new(S, &v, err) == 0) {
        if (bl_avro_from_json(S, env, &opts, &v, err) == 0)
            back = bl_avro_to_json(S, &v, BL_AVRO_JSON_PLAIN, err);
        avro_value_decref(&v);
    }
    json_decref(env);
    bl_avro_schema_free(S);
    json_t *out = back ? json_incref(json_object_get(back, "data")) : NULL;
    json_decref(back);
    return out;
}

static void every_example_is_an_avro_value_the_writer_gives_back(void)
{
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(BUSLINE_SOURCE_DIR "/schemas", &err);
    REQUIRE(cat);
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_EVENT)
            continue;
        entry e = entry_of(cat, m);
        const json_t *data = json_object_get(e.example, "data");
        json_t *back = data ? avro_round_trip(cat, m, data, &err) : NULL;
        if (!back || !json_equal(back, data)) {
            char *a = json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS), *b = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
            fprintf(stderr, "  %s: %s\n  example %s\n  written %s\n", m->type, back ? "differs" : err.msg, a, b);
            free(a);
            free(b);
        }
        CHECK(back && json_equal(back, data));
        json_decref(back);
        json_decref(e.schema);
        json_decref(e.example);
    }
    bl_catalog_free(cat);
}

/* The mapping on a schema written here: a name referenced in its namespace,
 * an optional field, a timestamp, an array, a map, a recursive record. */
static void mapping_follows_the_plain_writer(void)
{
    static const char text[] =
        "{\"type\":\"record\",\"name\":\"Outer\",\"namespace\":\"t.ns\",\"doc\":\"the outer one\",\"fields\":["
        "{\"name\":\"level\",\"type\":{\"type\":\"enum\",\"name\":\"Level\",\"symbols\":[\"LOW\",\"HIGH\"]}},"
        "{\"name\":\"again\",\"type\":\"Level\",\"doc\":\"by reference\"},"
        "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
        "{\"name\":\"counts\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"
        "{\"name\":\"next\",\"type\":[\"null\",\"Outer\"],\"default\":null},"
        "{\"name\":\"owner_id\",\"type\":\"string\",\"default\":\"o-7\"}]}";
    bl_err err = {0};
    bl_avro_schema *S = bl_avro_schema_parse(text, strlen(text), &err);
    REQUIRE(S);
    json_t *s = bl_avro_json_schema(S, "t.ns.Outer", &err);
    REQUIRE(s);
    const json_t *p = json_object_get(s, "properties");
    CHECK_EQ_STR(json_string_value(json_object_get(s, "description")), "the outer one");
    CHECK(json_is_false(json_object_get(s, "additionalProperties")));
    CHECK_EQ_INT(json_array_size(json_object_get(s, "required")), 8);
    CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(p, "again"), "enum")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(p, "again"), "description")), "by reference");
    CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(p, "note"), "anyOf")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(p, "at"), "format")), "date-time");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(p, "tags"), "items"), "type")),
                 "string");
    CHECK_EQ_STR(json_string_value(json_object_get(
                     json_object_get(json_object_get(p, "counts"), "additionalProperties"), "type")),
                 "integer");
    /* the recursive branch stops at an object, not an endless schema */
    const json_t *next = json_array_get(json_object_get(json_object_get(p, "next"), "anyOf"), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(next, "type")), "object");
    CHECK(json_object_get(next, "properties") == NULL);
    json_decref(s);

    json_t *x = bl_avro_json_example(S, "t.ns.Outer", &err);
    REQUIRE(x);
    CHECK_EQ_STR(json_string_value(json_object_get(x, "owner_id")), "o-7"); /* the default */
    CHECK_EQ_STR(json_string_value(json_object_get(x, "at")), "2026-03-01T09:00:00.000Z");
    CHECK(json_is_string(json_object_get(x, "note")));
    CHECK_EQ_INT(json_array_size(json_object_get(x, "tags")), 1);
    CHECK(json_is_integer(json_object_get(json_object_get(x, "counts"), "key")));
    json_decref(x);

    err = (bl_err){0};
    CHECK(bl_avro_json_schema(S, "t.ns.Level", &err) == NULL); /* an enum, not a record */
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_avro_schema_free(S);
}

int main(void)
{
    BL_RUN(every_example_satisfies_its_schema_and_mutants_do_not);
    BL_RUN(every_example_is_an_avro_value_the_writer_gives_back);
    BL_RUN(mapping_follows_the_plain_writer);
    return bl_test_summary();
}
