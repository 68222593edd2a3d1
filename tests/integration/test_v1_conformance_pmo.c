/* /v1 against the Powalyze document's example bodies that need the PMO
 * domain service beside the API (§6.2 projects, the report of §6): sent as
 * written, answered after the command's outcome, read back with every
 * documented field (the rest of the document: test_v1_conformance.c). */
#include "api/auth/keys.h"
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/v1_pmo_fixture.h"
#include "tests/support/v1_shapes.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define TEST_KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static bl_test_api api;
static char read_token[BL_API_TOKEN_SIZE];
static bl_v1_pmo pmo; /* the PMO domain service on the API's database and topics */


static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&api, method, path, token, NULL, body, r);
}

/* §6.2 Projects: the example POST body exactly as written (no id, owner or
 * currency; "budget" in euros; "status" and "rag_status" in the document's
 * spelling; full-dates) is accepted, and the project reads back with it. */
static void project_example_body_is_accepted_as_written(void)
{
    const char *body = "{\n  \"name\": \"Nouveau projet API\",\n  \"description\": \"Cr\u00e9\u00e9 via API\",\n"
                       "  \"status\": \"planned\",\n  \"rag_status\": \"GREEN\",\n  \"budget\": 100000,\n"
                       "  \"start_date\": \"2026-03-01\",\n  \"end_date\": \"2026-12-31\"\n}";
    bl_test_reply r;
    REQUIRE(call("POST", "/v1/projects", api.write_token, body, &r) == 202);
    bl_v1_has(r.json, "command_id", T_STRING);
    bl_v1_has(r.json, "status_url", T_STRING);
    char id[128], path[192];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(r.json, "aggregate_id")) ?: "");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, "/v1/projects/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    REQUIRE(call("GET", path, read_token, NULL, &r) == 200);
    const json_t *p = json_object_get(r.json, "data");
    bl_v1_has(p, "id", T_STRING);
    bl_v1_has(p, "name", T_STRING);
    bl_v1_has(p, "status", T_STRING);
    bl_v1_has(p, "rag_status", T_STRING);
    bl_v1_has(p, "budget", T_NUMBER);
    CHECK_EQ_STR(json_string_value(json_object_get(p, "name")) ?: "", "Nouveau projet API");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "status")) ?: "", "planned");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "rag_status")) ?: "", "GREEN");
    CHECK(json_number_value(json_object_get(p, "budget")) == 100000);
    CHECK_EQ_STR(json_string_value(json_object_get(p, "currency")) ?: "", "EUR");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "owner_id")) ?: "", api.write_key_id);
    CHECK(strncmp(json_string_value(json_object_get(p, "start_date")) ?: "", "2026-03-01T00:00:00", 19) == 0);
    bl_test_reply_clear(&r);
    /* the list filters on the document's status (the seeded projects are planned too) */
    REQUIRE(call("GET", "/v1/projects?status=planned&sort=name.asc", read_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 1), "id")) ?: "",
                 id);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/projects?status=in_progress", read_token, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), 0);
    bl_test_reply_clear(&r);
    /* a status that is no phase is refused, naming the field */
    REQUIRE(call("POST", "/v1/projects", api.write_token, "{\"name\":\"x\",\"status\":\"dreaming\"}", &r) == 422);
    bl_v1_check_error(&r, "validation_failed");
    bl_test_reply_clear(&r);
}

/* §6.2 Reports: the example POST body as written is answered as the
 * document's "Réponse": {"data": {id, type, content, generated_at,
 * duration_ms}}, the report covering the two projects asked for. */
static void report_example_body_is_answered_as_documented(void)
{
    const char *body = "{\n  \"type\": \"executive\",\n  \"project_ids\": [\"prj_abc123\", \"prj_def456\"],\n"
                       "  \"include_risks\": true,\n  \"include_decisions\": true,\n  \"format\": \"markdown\"\n}";
    bl_test_reply r;
    REQUIRE(bl_v1_pmo_call(&pmo, "POST", "/v1/reports/generate", api.write_token, body, &r) == 201);
    const json_t *d = json_object_get(r.json, "data");
    bl_v1_has(d, "id", T_STRING);
    bl_v1_has(d, "type", T_STRING);
    bl_v1_has(d, "content", T_STRING);
    bl_v1_has(d, "generated_at", T_STRING);
    bl_v1_has(d, "duration_ms", T_INTEGER);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "type")) ?: "", "executive");
    const char *content = json_string_value(json_object_get(d, "content")) ?: "";
    CHECK(strncmp(content, "# ", 2) == 0);
    CHECK(strstr(content, "Transformation Digitale") != NULL);
    CHECK(strstr(content, "Migration ERP") != NULL);
    CHECK(strstr(content, "## Risks") != NULL);
    bl_test_reply_clear(&r);
    /* without its risks section when asked so */
    REQUIRE(bl_v1_pmo_call(&pmo, "POST", "/v1/reports/generate", api.write_token,
                                 "{\"type\":\"executive\",\"project_ids\":[\"prj_def456\"],\"include_risks\":false,"
                                 "\"format\":\"markdown\"}", &r) == 201);
    content = json_string_value(json_object_get(json_object_get(r.json, "data"), "content")) ?: "";
    CHECK(strstr(content, "## Risks") == NULL);
    CHECK(strstr(content, "Transformation Digitale") == NULL);
    bl_test_reply_clear(&r);
    /* an unknown project is the document's 404 */
    REQUIRE(bl_v1_pmo_call(&pmo, "POST", "/v1/reports/generate", api.write_token,
                                 "{\"type\":\"executive\",\"project_ids\":[\"prj_nope\"],\"format\":\"markdown\"}",
                                 &r) == 404);
    bl_v1_check_error(&r, "not_found");
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_api_start(&api, 1) != 0) {
        bl_test_api_stop(&api);
        return 1;
    }
    bl_api_key_spec spec = {.org_id = api.org, .name = "Power BI", .perm = BL_API_PERM_READ,
                            .rate_per_hour = 100000};
    /* the PMO service beside the API, with its dead-letter topic for refusals */
    if (bl_v1_pmo_start(&pmo, &api) == 0 && bl_test_make_key(api.pool, &spec, read_token, NULL) == 0) {
        bl_v1_insert_project(&api, "prj_abc123", "Transformation Digitale", "GREEN", 15000000, 6750000);
        bl_v1_insert_project(&api, "prj_def456", "Migration ERP", "RED", 9000000, 100);
        BL_RUN(project_example_body_is_accepted_as_written);
        BL_RUN(report_example_body_is_answered_as_documented);
    } else {
        bl_test_failures++;
    }
    bl_v1_pmo_stop(&pmo);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
