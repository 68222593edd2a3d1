/* /v1 against the Powalyze document (../shared/seeds/000_dad3de8e38ff2b0c.txt
 * §6.2 and §15 Phase 2): the requests that change what the PMO domain
 * service holds, each sent as the document writes it, applied by the
 * service, then read back with every documented field checked for presence
 * and type: PUT and DELETE of a project (DELETE by an admin key), GET / PUT
 * of a risk and its resolve, GET of one report, decisions, resources and
 * sprints (GET, POST, PUT); and §4.4's risk.escalated delivery, received over
 * HTTP by a local sink in the document's payload with its X-Powalyze-Signature.
 * The create examples: test_v1_conformance_pmo.c; the rest of the document:
 * test_v1_conformance.c. */
#include "api/auth/keys.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/v1_pmo_fixture.h"
#include "tests/support/v1_shapes.h"
#include "tests/support/webhook_domain_path.h"
#include "tests/support/webhook_sink.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEST_KEYS BL_WEBHOOK_TEST_KEYS

static bl_test_api api;
static bl_v1_pmo pmo;
static char read_token[BL_API_TOKEN_SIZE];

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&api, method, path, token, NULL, body, r);
}

/* Sends a command (202 with command_id and status_url, as every /v1 write);
 * id gets its aggregate id. Returns the status. */
static long send_command(const char *method, const char *path, const char *token, const char *body, char *id,
                         size_t len)
{
    bl_test_reply r;
    long status = call(method, path, token, body, &r);
    if (status == 202) {
        bl_v1_has(r.json, "command_id", T_STRING);
        bl_v1_has(r.json, "status_url", T_STRING);
        if (id)
            snprintf(id, len, "%s", json_string_value(json_object_get(r.json, "aggregate_id")) ?: "");
    } else {
        fprintf(stderr, "  %s %s: %ld %s\n", method, path, status, r.body ? r.body : "");
    }
    bl_test_reply_clear(&r);
    return status;
}

/* GET path with the read key into r; REQUIREs 200 and returns data. */
static const json_t *read_data(const char *path, bl_test_reply *r)
{
    CHECK_EQ_INT(call("GET", path, read_token, NULL, r), 200);
    return json_object_get(r->json, "data");
}

/* method path (with token, body) answers status with the document's error code. */
static void answers_error(const char *method, const char *path, const char *token, const char *body, long status,
                          const char *code)
{
    bl_test_reply r;
    CHECK_EQ_INT(call(method, path, token, body, &r), status);
    bl_v1_check_error(&r, code);
    bl_test_reply_clear(&r);
}

/* The list at path (with its query) is the document's page with total rows. */
static void list_has_total(const char *path, long total)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", path, read_token, NULL, &r), 200);
    bl_v1_check_page(r.json, 50, 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")), total);
    bl_test_reply_clear(&r);
}

/* Each of names is a string field of o. */
static void has_strings(const json_t *o, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        bl_v1_has(o, names[i], T_STRING);
}

/* §6.2 Projects: PUT /v1/projects/:id changes a project; DELETE
 * /v1/projects/:id by an admin key removes it (a write key may not, §2.2). */
static void project_put_and_admin_delete_apply_as_documented(void)
{
    bl_v1_insert_project(&api, "prj_put", "Projet a modifier", "GREEN", 5000000, 0);
    REQUIRE(send_command("PUT", "/v1/projects/prj_put", api.write_token,
                         "{\"name\": \"Projet modifie\", \"progress\": 60, \"status\": \"RED\", \"budget\": 120000}",
                         NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, "/v1/projects/prj_put", read_token, 200, "name", "Projet modifie"));
    bl_test_reply r;
    const json_t *p = read_data("/v1/projects/prj_put", &r);
    bl_v1_has(p, "id", T_STRING);
    bl_v1_has(p, "name", T_STRING);
    bl_v1_has(p, "status", T_STRING);
    bl_v1_has(p, "rag_status", T_STRING);
    bl_v1_has(p, "progress", T_INTEGER);
    bl_v1_has(p, "budget", T_NUMBER);
    bl_v1_has(p, "spent", T_NUMBER);
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "progress")), 60);
    CHECK_EQ_STR(json_string_value(json_object_get(p, "rag_status")) ?: "", "RED");
    CHECK(json_number_value(json_object_get(p, "budget")) == 120000);
    bl_test_reply_clear(&r);
    /* a field the project has not is refused, naming it; a read key may not write */
    answers_error("PUT", "/v1/projects/prj_put", api.write_token, "{\"colour\": \"red\"}", 422, "validation_failed");
    answers_error("PUT", "/v1/projects/prj_put", read_token, "{\"progress\": 1}", 403, "forbidden");
    answers_error("DELETE", "/v1/projects/prj_put", NULL, NULL, 401, "unauthorized");
    /* §2.2: admin = everything + DELETE */
    REQUIRE(send_command("DELETE", "/v1/projects/prj_put", api.admin_token, NULL, NULL, 0) == 202);
    CHECK(bl_v1_pmo_step_until(&pmo, "/v1/projects/prj_put", read_token, 404, NULL, NULL));
    answers_error("GET", "/v1/projects/prj_put", read_token, NULL, 404, "not_found");
}

/* The documented fields of a risk (§6.2's POST example, read back). */
static void check_risk_fields(const json_t *k)
{
    const char *strings[] = {"id", "project_id", "title", "description", "severity", "mitigation"};
    has_strings(k, strings, sizeof strings / sizeof strings[0]);
    bl_v1_has(k, "probability", T_INTEGER);
    bl_v1_has(k, "impact", T_INTEGER);
}

/* §6.2 Risks: GET /v1/risks/:id, PUT /v1/risks/:id and PUT
 * /v1/risks/:id/resolve, on the risk the document's POST example makes. */
static void risk_get_put_and_resolve_apply_as_documented(void)
{
    const char *example = "{\n  \"project_id\": \"prj_abc123\",\n  \"title\": \"Retard livraison\",\n"
                          "  \"description\": \"Risque de retard de 2 semaines\",\n  \"severity\": \"high\",\n"
                          "  \"probability\": 75,\n  \"impact\": 80,\n  \"mitigation\": \"Ajouter 1 d\u00e9veloppeur\"\n}";
    char id[128], path[192];
    REQUIRE(send_command("POST", "/v1/risks", api.write_token, example, id, sizeof id) == 202);
    snprintf(path, sizeof path, "/v1/risks/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    bl_test_reply r;
    const json_t *k = read_data(path, &r);
    check_risk_fields(k);
    CHECK_EQ_STR(json_string_value(json_object_get(k, "id")) ?: "", id);
    CHECK_EQ_STR(json_string_value(json_object_get(k, "project_id")) ?: "", "prj_abc123");
    CHECK_EQ_STR(json_string_value(json_object_get(k, "title")) ?: "", "Retard livraison");
    CHECK_EQ_INT(json_integer_value(json_object_get(k, "probability")), 75);
    CHECK_EQ_INT(json_integer_value(json_object_get(k, "impact")), 80);
    bl_test_reply_clear(&r);

    /* PUT: the severity rises (risk.escalated), the probability changes */
    REQUIRE(send_command("PUT", path, api.write_token, "{\"severity\": \"critical\", \"probability\": 90}", NULL, 0) ==
            202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "probability", "90"));
    k = read_data(path, &r);
    check_risk_fields(k);
    CHECK_EQ_STR(json_string_value(json_object_get(k, "severity")) ?: "", "CRITICAL");
    CHECK_EQ_STR(json_string_value(json_object_get(k, "title")) ?: "", "Retard livraison");
    bl_test_reply_clear(&r);
    answers_error("PUT", path, api.write_token, "{\"severity\": \"extreme\"}", 422, "validation_failed");

    /* PUT .../resolve: "Marquer comme résolu" */
    char resolve[224];
    snprintf(resolve, sizeof resolve, "%s/resolve", path);
    answers_error("PUT", resolve, read_token, "{\"resolution\": \"Un d\u00e9veloppeur ajout\u00e9\"}", 403, "forbidden");
    REQUIRE(send_command("PUT", resolve, api.write_token, "{\"resolution\": \"Un d\u00e9veloppeur ajout\u00e9\"}",
                         NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "status", "RESOLVED"));
    k = read_data(path, &r);
    check_risk_fields(k);
    CHECK(json_is_string(json_object_get(k, "resolved_at")));
    bl_test_reply_clear(&r);
    /* the list filters on it */
    list_has_total("/v1/risks?status=RESOLVED&project_id=prj_abc123", 1);
    answers_error("GET", "/v1/risks/risk_nope", read_token, NULL, 404, "not_found");
}

/* §6.2 Reports: GET /v1/reports/:id answers the report POST
 * /v1/reports/generate made, with the fields of the document's "Réponse". */
static void report_is_read_back_by_id(void)
{
    bl_test_reply r;
    REQUIRE(bl_v1_pmo_call(&pmo, "POST", "/v1/reports/generate", api.write_token,
                           "{\"type\": \"executive\", \"project_ids\": [\"prj_abc123\"], \"format\": \"markdown\"}",
                           &r) == 201);
    char id[128], path[192];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(json_object_get(r.json, "data"), "id")) ?: "");
    bl_test_reply_clear(&r);
    REQUIRE(id[0]);
    snprintf(path, sizeof path, "/v1/reports/%s", id);
    const json_t *d = read_data(path, &r);
    bl_v1_has(d, "id", T_STRING);
    bl_v1_has(d, "type", T_STRING);
    bl_v1_has(d, "content", T_STRING);
    bl_v1_has(d, "generated_at", T_STRING);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "id")) ?: "", id);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "type")) ?: "", "executive");
    CHECK(strstr(json_string_value(json_object_get(d, "content")) ?: "", "Transformation Digitale") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(call("GET", "/v1/reports", read_token, NULL, &r) == 200);
    bl_v1_check_page(r.json, 50, 0);
    CHECK(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "total")) >= 1);
    bl_test_reply_clear(&r);
    answers_error("GET", "/v1/reports/report_nope", read_token, NULL, 404, "not_found");
}

/* §15 Phase 2: /v1/decisions (GET, POST, PUT), and §4.3's approval. */
static void decisions_are_created_changed_and_approved(void)
{
    char id[128], path[192];
    REQUIRE(send_command("POST", "/v1/decisions", api.write_token,
                         "{\"project_id\": \"prj_abc123\", \"title\": \"Recruter un d\u00e9veloppeur\","
                         " \"description\": \"Pour tenir la date\", \"decision_maker\": \"sponsor\"}",
                         id, sizeof id) == 202);
    snprintf(path, sizeof path, "/v1/decisions/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    REQUIRE(send_command("PUT", path, api.write_token, "{\"title\": \"Recruter deux d\u00e9veloppeurs\"}", NULL, 0) ==
            202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "title", "Recruter deux d\u00e9veloppeurs"));
    char approve[224];
    snprintf(approve, sizeof approve, "%s/approve", path);
    REQUIRE(send_command("PUT", approve, api.write_token, "{\"rationale\": \"budget disponible\"}", NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "status", "APPROVED"));
    bl_test_reply r;
    const json_t *d = read_data(path, &r);
    const char *strings[] = {"id", "project_id", "title", "description", "decision_maker", "status"};
    has_strings(d, strings, sizeof strings / sizeof strings[0]);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "decision_maker")) ?: "", "sponsor");
    bl_test_reply_clear(&r);
    list_has_total("/v1/decisions?status=APPROVED", 1);
    answers_error("POST", "/v1/decisions", api.write_token, "{\"project_id\": \"prj_abc123\"}", 422, "validation_failed");
    answers_error("GET", "/v1/decisions/dec_nope", read_token, NULL, 404, "not_found");
}

/* §15 Phase 2: /v1/resources (GET, POST, PUT): a person's FTE on a project. */
static void resources_are_created_and_changed(void)
{
    char id[128], path[192];
    REQUIRE(send_command("POST", "/v1/resources", api.write_token,
                         "{\"person_id\": \"u-42\", \"person_name\": \"Alice Martin\", \"project_id\": \"prj_abc123\","
                         " \"allocation_pct\": 80, \"role\": \"developer\", \"start_date\": \"2026-03-01\"}",
                         id, sizeof id) == 202);
    snprintf(path, sizeof path, "/v1/resources/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    /* over 100% FTE (resource.overallocated in §4.3) is a valid allocation */
    REQUIRE(send_command("PUT", path, api.write_token, "{\"allocation_pct\": 120}", NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "allocation_pct", "120"));
    bl_test_reply r;
    const json_t *d = read_data(path, &r);
    const char *strings[] = {"id", "person_id", "person_name", "project_id", "role", "start_date"};
    has_strings(d, strings, sizeof strings / sizeof strings[0]);
    bl_v1_has(d, "allocation_pct", T_INTEGER);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "person_name")) ?: "", "Alice Martin");
    bl_test_reply_clear(&r);
    list_has_total("/v1/resources?project_id=prj_abc123", 1);
    answers_error("PUT", path, api.write_token, "{\"allocation_pct\": \"lots\"}", 422, "validation_failed");
    answers_error("GET", "/v1/resources/res_nope", read_token, NULL, 404, "not_found");
}

/* §15 Phase 2: /v1/sprints (GET, POST, PUT). */
static void sprints_are_created_and_changed(void)
{
    char id[128], path[192];
    REQUIRE(send_command("POST", "/v1/sprints", api.write_token,
                         "{\"project_id\": \"prj_abc123\", \"name\": \"Sprint 1\", \"starts_at\": \"2026-03-02\","
                         " \"ends_at\": \"2026-03-13\", \"committed_points\": 30}",
                         id, sizeof id) == 202);
    snprintf(path, sizeof path, "/v1/sprints/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    REQUIRE(send_command("PUT", path, api.write_token, "{\"name\": \"Sprint 1 (MVP)\", \"committed_points\": 34}",
                         NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "committed_points", "34"));
    bl_test_reply r;
    const json_t *d = read_data(path, &r);
    const char *strings[] = {"id", "project_id", "name", "starts_at", "ends_at"};
    has_strings(d, strings, sizeof strings / sizeof strings[0]);
    bl_v1_has(d, "committed_points", T_INTEGER);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "name")) ?: "", "Sprint 1 (MVP)");
    bl_test_reply_clear(&r);
    list_has_total("/v1/sprints?project_id=prj_abc123", 1);
    answers_error("POST", "/v1/sprints", read_token, "{\"name\": \"x\"}", 403, "forbidden");
    answers_error("GET", "/v1/sprints/spr_nope", read_token, NULL, 404, "not_found");
}

typedef struct risk_hit {
    const char *risk_id;
    sink_hit found; /* its body borrowed from the sink */
} risk_hit;

/* Whether a delivery of risk_id's risk.escalated came (copied into found);
 * earlier tests' escalations reach the sink too. */
static int has_risk_hit(webhook_sink *s, void *user)
{
    risk_hit *want = user;
    sink_hit hits[8];
    size_t n = webhook_sink_hits_to(s, "/webhook/powalyze", hits, 8);
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_loadb(hits[i].body, hits[i].body_len, 0, NULL);
        const char *id = json_string_value(json_object_get(json_object_get(j, "data"), "risk_id"));
        int same = id && strcmp(id, want->risk_id) == 0;
        json_decref(j);
        if (same) {
            want->found = hits[i];
            return 1;
        }
    }
    return 0;
}

/* §4.4 + §10.1: a webhook on risk.escalated receives, over HTTP, the
 * document's payload {event, timestamp, organization_id, data} when a risk's
 * severity rises to critical, signed with X-Powalyze-Signature. */
static void risk_escalated_reaches_a_webhook_in_the_documents_payload(void)
{
    wh_domain_path p = {0};
    webhook_sink sink = {0};
    bl_test_reply r = {0};
    char url[160], body[512], secret[BL_WEBHOOK_SECRET_TEXT_MAX], id[128], path[192];
    char topic[200];
    snprintf(topic, sizeof topic, "%sevents.pmo.risk", api.prefix);
    if (wh_domain_path_open(&p, api.registry.pg_url, topic) != 0 || webhook_sink_start(&sink, NULL, NULL) != 0) {
        CHECK(!"the webhook path started");
        goto done;
    }
    webhook_sink_url(&sink, "/webhook/powalyze", url, sizeof url);
    snprintf(body, sizeof body,
             "{\"name\":\"Alertes risques critiques\",\"url\":\"%s\",\"events\":[\"risk.escalated\"]}", url);
    if (call("POST", "/v1/webhooks", api.admin_token, body, &r) != 201) {
        CHECK(!"webhook created");
        goto done;
    }
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r.json, "secret")) ?: "");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(wh_e2e_wait_cache(&p.wh, 1), 0);
    if (send_command("POST", "/v1/risks", api.write_token,
                     "{\"project_id\": \"prj_abc123\", \"title\": \"D\u00e9passement budget\","
                     " \"description\": \"Budget d\u00e9pass\u00e9 de 22%\", \"severity\": \"medium\","
                     " \"probability\": 80, \"impact\": 90}",
                     id, sizeof id) != 202)
        goto done;
    snprintf(path, sizeof path, "/v1/risks/%s", id);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, NULL, NULL));
    REQUIRE(send_command("PUT", path, api.write_token, "{\"severity\": \"high\"}", NULL, 0) == 202);
    REQUIRE(bl_v1_pmo_step_until(&pmo, path, read_token, 200, "severity", "HIGH"));
    risk_hit want_hit = {.risk_id = id};
    if (!webhook_sink_wait(&sink, has_risk_hit, &want_hit, 30000)) {
        CHECK(!"risk.escalated of the risk was delivered");
        goto done;
    }
    const sink_hit *h = &want_hit.found;
    json_t *j = json_loadb(h->body, h->body_len, 0, NULL);
    bl_v1_has(j, "event", T_STRING);
    bl_v1_has(j, "timestamp", T_STRING);
    bl_v1_has(j, "organization_id", T_STRING);
    bl_v1_has(j, "data", T_OBJECT);
    CHECK_EQ_INT(json_object_size(j), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "event")) ?: "", "risk.escalated");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "organization_id")) ?: "", api.org);
    const json_t *d = json_object_get(j, "data");
    /* the document's data.id is busline's risk_id (said in the report of this change) */
    const char *strings[] = {"risk_id", "title", "description", "severity", "project_id", "project_name"};
    has_strings(d, strings, sizeof strings / sizeof strings[0]);
    bl_v1_has(d, "probability", T_INTEGER);
    bl_v1_has(d, "impact", T_INTEGER);
    CHECK(strcasecmp(json_string_value(json_object_get(d, "severity")) ?: "", "high") == 0);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "title")) ?: "", "D\u00e9passement budget");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "project_id")) ?: "", "prj_abc123");
    CHECK_EQ_STR(json_string_value(json_object_get(d, "project_name")) ?: "", "Transformation Digitale");
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "probability")), 80);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "impact")), 90);
    json_decref(j);
    char args[512], want[128];
    snprintf(args, sizeof args, "text-keyed %s", secret);
    wh_python_verify(args, h->body, want, sizeof want);
    CHECK(strncmp(h->powalyze, "sha256=", 7) == 0);
    CHECK_EQ_STR(h->powalyze, want);
done:
    bl_test_reply_clear(&r);
    webhook_sink_stop(&sink);
    wh_domain_path_close(&p);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    bl_api_key_spec spec = {.org_id = api.org, .name = "Power BI", .perm = BL_API_PERM_READ,
                            .rate_per_hour = 100000};
    if (bl_test_api_start(&api, 1) == 0 && bl_v1_pmo_start(&pmo, &api) == 0 &&
        bl_test_make_key(api.pool, &spec, read_token, NULL) == 0) {
        bl_v1_insert_project(&api, "prj_abc123", "Transformation Digitale", "GREEN", 15000000, 6750000);
        BL_RUN(project_put_and_admin_delete_apply_as_documented);
        BL_RUN(risk_get_put_and_resolve_apply_as_documented);
        BL_RUN(report_is_read_back_by_id);
        BL_RUN(decisions_are_created_changed_and_approved);
        BL_RUN(resources_are_created_and_changed);
        BL_RUN(sprints_are_created_and_changed);
        BL_RUN(risk_escalated_reaches_a_webhook_in_the_documents_payload);
    } else {
        bl_test_failures++;
    }
    bl_v1_pmo_stop(&pmo);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
