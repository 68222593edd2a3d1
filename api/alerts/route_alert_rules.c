/* /v1/alert-rules: the organization's alert rules, which the evaluator
 * (evaluator.c) reads at every tick. List and read with read permission;
 * create, replace (PUT), change some fields (PATCH, e.g. {"enabled":false})
 * and delete with admin. A body is checked whole (rule_spec.h, and its
 * customAPIId must be an endpoint of the organization): 422 listing every
 * problem, nothing saved. Every change is an audit row in its transaction.
 * Document 002 names no path for rules, so they live beside /v1/alerts. */
#include "api/alerts/alerts.h"
#include "api/alerts/rule_spec.h"
#include "api/audit/audit_log.h"
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"
#include "core/field_problems.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_JSON                                                                                                   \
    "json_build_object('id', id, 'customAPIId', custom_api_id, 'scope', CASE WHEN custom_api_id IS NULL THEN 'bus'"  \
    " ELSE 'endpoint' END, 'type', type, 'threshold', threshold, 'comparison', comparison, 'window', window_seconds," \
    " 'minCalls', min_calls, 'severity', severity, 'enabled', enabled, 'channels', channels, 'isDefault',"           \
    " is_default, 'createdAt', created_at, 'updatedAt', updated_at)"

#define RULE_COLUMNS "custom_api_id, type, threshold, comparison, severity, window_seconds, min_calls, enabled, channels"

static const char *const sorts[] = {"created_at", "updated_at", "type", "severity", NULL};

static int list_rules(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    static const char *const scopes[] = {"bus", "endpoint", NULL};
    const char *type = bl_http_request_query(req->http, "type");
    const char *scope = bl_http_request_query(req->http, "scope");
    const char *api = bl_http_request_query(req->http, "custom_api_id");
    json_t *errors = json_object();
    if (!errors)
        return -1;
    if (type && !bl_alert_rule_one_of(type, bl_alert_rule_types))
        bl_field_problem(errors, "type", "high-latency, error-rate, rate-limit, downtime or webhook-failure");
    if (scope && !bl_alert_rule_one_of(scope, scopes))
        bl_field_problem(errors, "scope", "bus or endpoint");
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, "invalid_filter", "a filter of the alert rules is not valid", errors);
    json_decref(errors);
    const char *params[] = {req->auth->org_id, type, scope, api};
    return bl_api_answer_page(req, resp,
                              "alert_rules WHERE organization_id = $1 AND ($2::text IS NULL OR type = $2)"
                              " AND ($3::text IS NULL OR ($3 = 'bus') = (custom_api_id IS NULL))"
                              " AND ($4::text IS NULL OR custom_api_id::text = $4)",
                              4, params, RULE_JSON, sorts);
}

/* A rule's numbers, flag and channels as SQL parameter text. */
typedef struct rule_text {
    char threshold[40], window[16], min_calls[16], channels[1400];
    const char *enabled;
} rule_text;

static int rule_text_of(const bl_alert_rule_spec *s, rule_text *t)
{
    snprintf(t->threshold, sizeof t->threshold, "%.17g", s->threshold);
    snprintf(t->window, sizeof t->window, "%d", s->window_s);
    snprintf(t->min_calls, sizeof t->min_calls, "%d", s->min_calls);
    t->enabled = s->enabled ? "true" : "false";
    if (!s->channels) {
        snprintf(t->channels, sizeof t->channels, "[]");
        return 0;
    }
    size_t n = json_dumpb(s->channels, t->channels, sizeof t->channels - 1, JSON_COMPACT);
    if (n == 0 || n >= sizeof t->channels - 1)
        return -1;
    t->channels[n] = '\0';
    return 0;
}

/* Reads and checks body as a whole rule of req's organization on conn.
 * Returns 0 when valid, 1 after answering the 422, or -1. */
static int check(const bl_api_request *req, PGconn *conn, const json_t *body, bl_alert_rule_spec *spec,
                 bl_http_response *resp)
{
    json_t *problems = json_object();
    if (!problems)
        return -1;
    if (!json_is_object(body)) {
        json_decref(problems);
        bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
        return 1;
    }
    bl_alert_rule_read(body, spec, problems);
    if (spec->custom_api_id) {
        const char *p[] = {req->auth->org_id, spec->custom_api_id};
        bl_err err = {0};
        PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM custom_apis WHERE organization_id = $1 AND id::text = $2", 2,
                                 p, &err);
        if (!r) {
            json_decref(problems);
            bl_log_error("alert rules: endpoint check failed", BL_FS("request_id", bl_http_request_id(req->http)),
                         BL_FS("error", err.msg));
            return -1;
        }
        if (PQntuples(r) == 0)
            bl_field_problem(problems, "customAPIId", "is no custom endpoint of this organization");
        PQclear(r);
    }
    if (json_object_size(problems) == 0) {
        json_decref(problems);
        return 0;
    }
    bl_api_fail(req->http, resp, 422, "invalid_alert_rule", "the alert rule is not valid: nothing was saved",
                problems);
    return 1;
}

/* Answers a failed write: not found 404, a second rule of the same type
 * and scope 409, anything else -1 (a 500, logged). */
static int write_failed(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    char state[6];
    if (err->code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, "no such alert rule", NULL);
    if (bl_pg_err_sqlstate(err, state) == 0 && strcmp(state, "23505") == 0)
        return bl_api_fail(req->http, resp, 409, "conflict",
                           "this scope already has a rule of that type: edit that one (GET /v1/alert-rules?type=...)",
                           NULL);
    bl_log_error("alert rules: write failed", BL_FS("request_id", bl_http_request_id(req->http)),
                 BL_FS("error", err->msg));
    return -1;
}

/* Answers the JSON text of r's first row and column with status, then clears r. */
static int answer_row(bl_http_response *resp, PGresult *r, int status)
{
    const char *text = PQgetvalue(r, 0, 0);
    int rc = bl_http_response_body_copy(resp, text, strlen(text), "application/json");
    bl_http_response_status(resp, status);
    PQclear(r);
    return rc;
}

static int create_rule(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    bl_alert_rule_spec spec;
    rule_text t;
    int rc = check(req, conn, req->body, &spec, resp);
    if (rc != 0 || rule_text_of(&spec, &t) != 0) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        return rc > 0 ? 0 : -1;
    }
    const char *p[] = {req->auth->org_id, spec.custom_api_id, spec.type, t.threshold, spec.comparison,
                       spec.severity, t.window, t.min_calls, t.enabled, t.channels};
    bl_audit_actor who = bl_audit_actor_of(req);
    PGresult *r = NULL;
    if (bl_pg_begin(conn, &err) == 0) {
        r = bl_pg_exec(conn,
                       "INSERT INTO alert_rules (organization_id, " RULE_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6,"
                       " $7, $8, $9, $10::jsonb) RETURNING " RULE_JSON "::text, id",
                       10, p, &err);
        if (!r || bl_audit_created(conn, &who, "alert_rule", "alert_rules", PQgetvalue(r, 0, 1), &err) != 0 ||
            bl_pg_commit(conn, &err) != 0) {
            PQclear(r);
            r = NULL;
            bl_pg_rollback(conn, &(bl_err){0});
        }
    }
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return r ? answer_row(resp, r, 201) : write_failed(req, resp, &err);
}

/* The rule :id of req's organization as its JSON (new reference), or NULL
 * with err (BL_ENOTFOUND when there is none). */
static json_t *rule_get(const bl_api_request *req, PGconn *conn, bl_err *err)
{
    const char *p[] = {req->auth->org_id, bl_http_request_param(req->http, "id")};
    PGresult *r = bl_pg_exec(conn, "SELECT " RULE_JSON "::text FROM alert_rules WHERE organization_id = $1"
                                   " AND id::text = $2",
                             2, p, err);
    if (!r)
        return NULL;
    json_t *rule = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    if (!rule)
        bl_err_set(err, PQntuples(r) == 1 ? BL_ENOMEM : BL_ENOTFOUND, "alert rules: no such rule");
    PQclear(r);
    return rule;
}

static int get_rule(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *rule = rule_get(req, conn, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!rule)
        return write_failed(req, resp, &err);
    int rc = bl_http_response_json(resp, 200, rule);
    json_decref(rule);
    return rc;
}

/* Saves body as rule :id (checked whole), audited. */
static int save_rule(const bl_api_request *req, PGconn *conn, const json_t *body, bl_http_response *resp)
{
    bl_alert_rule_spec spec;
    rule_text t;
    int rc = check(req, conn, body, &spec, resp);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    if (rule_text_of(&spec, &t) != 0)
        return -1;
    const char *id = bl_http_request_param(req->http, "id");
    const char *p[] = {req->auth->org_id, id, spec.custom_api_id, spec.type, t.threshold, spec.comparison,
                       spec.severity, t.window, t.min_calls, t.enabled, t.channels};
    bl_audit_actor who = bl_audit_actor_of(req);
    bl_audit_change ch = {.entity_type = "alert_rule", .table = "alert_rules", .entity_id = id, .action = "update"};
    bl_err err = {0};
    PGresult *r = NULL;
    if (bl_audit_exec(conn, &who, &ch,
                      "UPDATE alert_rules SET (" RULE_COLUMNS ", updated_at) = ($3, $4, $5, $6, $7, $8, $9, $10,"
                      " $11::jsonb, now()) WHERE organization_id = $1 AND id::text = $2 RETURNING " RULE_JSON "::text",
                      11, p, &r, &err) != 0)
        return write_failed(req, resp, &err);
    return answer_row(resp, r, 200);
}

static int replace_rule(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *rule = rule_get(req, conn, &err); /* 404 before 422 */
    int rc = rule ? save_rule(req, conn, req->body, resp) : write_failed(req, resp, &err);
    json_decref(rule);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rc;
}

/* PATCH: the fields given over the rule as it is, checked whole. */
static int patch_rule(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    if (!json_is_object(req->body))
        return bl_api_fail(req->http, resp, 400, NULL, "a JSON object body is required", NULL);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *rule = rule_get(req, conn, &err);
    int rc;
    if (!rule)
        rc = write_failed(req, resp, &err);
    else if (json_object_update(rule, (json_t *)req->body) != 0)
        rc = -1;
    else
        rc = save_rule(req, conn, rule, resp);
    json_decref(rule);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rc;
}

static int delete_rule(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *id = bl_http_request_param(req->http, "id");
    const char *p[] = {req->auth->org_id, id};
    bl_audit_actor who = bl_audit_actor_of(req);
    bl_audit_change ch = {.entity_type = "alert_rule", .table = "alert_rules", .entity_id = id, .action = "delete"};
    int rc = bl_audit_exec(conn, &who, &ch,
                           "DELETE FROM alert_rules WHERE organization_id = $1 AND id::text = $2 RETURNING id", 2, p,
                           NULL, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (rc != 0)
        return write_failed(req, resp, &err);
    bl_http_response_status(resp, 204);
    return 0;
}

/* ---- the OpenAPI operations ---- */

#define RULE_PROPS                                                                                                  \
    "\"type\":{\"enum\":[\"high-latency\",\"error-rate\",\"rate-limit\",\"downtime\",\"webhook-failure\"]},"        \
    "\"customAPIId\":{\"type\":[\"string\",\"null\"],\"description\":\"the custom endpoint watched; null: every"     \
    " endpoint of the organization (bus-wide; webhook-failure is always bus-wide)\"},"                               \
    "\"threshold\":{\"type\":\"number\",\"minimum\":0,\"description\":\"ms for high-latency (p95), percent (0-100)"  \
    " for error-rate, rate-limit and downtime, deliveries for webhook-failure\"},"                                   \
    "\"comparison\":{\"enum\":[\"gt\",\"gte\",\"lt\",\"lte\"],\"description\":\"value against threshold; default"   \
    " gt (gte for downtime)\"},"                                                                                      \
    "\"window\":{\"type\":\"integer\",\"minimum\":60,\"maximum\":86400,\"description\":\"seconds measured; default"  \
    " 300\"},"                                                                                                        \
    "\"minCalls\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000000,\"description\":\"calls (deliveries) in"  \
    " the window before it can fire; default 1\"},"                                                                  \
    "\"severity\":{\"enum\":[\"low\",\"medium\",\"high\",\"critical\"]},"                                            \
    "\"enabled\":{\"type\":\"boolean\",\"description\":\"default true; a disabled rule opens nothing and resolves"   \
    " its open alert\"},"                                                                                             \
    "\"channels\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":\"string\",\"pattern\":"                   \
    "\"^[A-Za-z0-9._:#@/-]{1,100}$\"},\"description\":\"labels carried in the rule's alert.opened and alert.resolved" \
    " events (data.channels) for subscribers to route by\"}"

static const char rule_body[] =
    "{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"type\","
    "\"threshold\",\"severity\"],\"properties\":{" RULE_PROPS "}}}}}";
static const char patch_body[] =
    "{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\",\"properties\":{"
    RULE_PROPS "}}}}}";

static const char rules_text[] =
    "An alert rule says when the evaluator opens an alert: {id, customAPIId, scope (bus: every custom endpoint of"
    " the organization, or endpoint), type, threshold, comparison, window, minCalls, severity, enabled, channels,"
    " isDefault, createdAt, updatedAt}. For each endpoint and type the endpoint's own rule wins over the bus-wide"
    " one; one rule per scope and type (409 for a second). Every organization starts with the default rules"
    " (isDefault): high-latency p95 > 2000 ms, error-rate > 5 %, rate-limit > 10 %, downtime >= 100 % (5 calls in"
    " 300 s), webhook-failure > 0 deliveries failed past their 3rd attempt; edit, disable or delete them like any"
    " other. An edit applies at the next evaluation, to open alerts too. Every change is in /v1/audit"
    " (entity_type alert_rule).";

static const struct {
    const char *method, *pattern, *summary, *status, *answer;
    const char *body;
} docs[] = {
    {"GET", "/v1/alert-rules",
     "List the organization's alert rules (paginated: limit, offset, sort; type, scope=bus|endpoint, custom_api_id)",
     "200", "{data: [rule], pagination}", NULL},
    {"POST", "/v1/alert-rules", "Create an alert rule", "201", "the rule", rule_body},
    {"GET", "/v1/alert-rules/:id", "Read an alert rule", "200", "the rule", NULL},
    {"PUT", "/v1/alert-rules/:id", "Replace an alert rule (a whole rule)", "200", "the rule", rule_body},
    {"PATCH", "/v1/alert-rules/:id", "Change some fields of an alert rule (e.g. {\"enabled\": false})", "200",
     "the rule", patch_body},
    {"DELETE", "/v1/alert-rules/:id", "Delete an alert rule (its type is then not watched in its scope)", "204",
     "nothing", NULL},
};

static int document(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *op = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "summary",
                               docs[i].summary, "description", rules_text, "tags", "alerts", "responses",
                               docs[i].status, "description", docs[i].answer, "400", "description",
                               "a bad filter or body (invalid_filter)", "404", "description",
                               "no such alert rule in this organization (not_found)", "409", "description",
                               "this scope already has a rule of that type (conflict)", "422", "description",
                               "field_errors names every problem; nothing saved (invalid_alert_rule)");
        json_t *body = docs[i].body ? json_loads(docs[i].body, 0, NULL) : NULL;
        if (!op || (docs[i].body && !body)) {
            json_decref(op);
            json_decref(body);
            return bl_err_set(err, BL_ENOMEM, "alert rules: cannot build the OpenAPI operations");
        }
        if (body)
            json_object_set_new(op, "requestBody", body);
        if (bl_api_server_document(s, docs[i].method, docs[i].pattern, op, err) != 0)
            return -1;
    }
    return 0;
}

int bl_api_routes_alert_rules(bl_api_server *s, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/alert-rules", BL_API_BY_METHOD, list_rules},
        {"POST", "/v1/alert-rules", BL_API_ADMIN, create_rule},
        {"GET", "/v1/alert-rules/:id", BL_API_BY_METHOD, get_rule},
        {"PUT", "/v1/alert-rules/:id", BL_API_ADMIN, replace_rule},
        {"PATCH", "/v1/alert-rules/:id", BL_API_ADMIN, patch_rule},
        {"DELETE", "/v1/alert-rules/:id", BL_API_ADMIN, delete_rule},
    };
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    return document(s, err);
}
