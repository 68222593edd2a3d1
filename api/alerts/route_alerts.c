/* GET /v1/alerts (the organization's alerts, newest first, paginated;
 * status=open|resolved, severity, type, custom_api_id filters) and POST
 * /v1/alerts/:id/acknowledge; and the evaluator thread of this replica. */
#include "api/alerts/alerts.h"
#include "api/alerts/rule_spec.h"
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#define EVAL_MS_DEFAULT 10000

/* document 002's APIAlert (its field names), with what busline adds */
#define ALERT_JSON                                                                                                \
    "json_build_object('id', id, 'customAPIId', custom_api_id, 'subject', subject, 'type', type, 'threshold',"  \
    " threshold, 'currentValue', current_value, 'severity', severity, 'message', message, 'isResolved',"         \
    " resolved_at IS NOT NULL, 'createdAt', created_at, 'updatedAt', updated_at, 'resolvedAt', resolved_at,"     \
    " 'acknowledgedAt', acknowledged_at, 'acknowledgedBy', acknowledged_by, 'ruleId', rule_id)"

static const char *const sorts[] = {"created_at", "updated_at", "severity", "type", NULL};

static int list_alerts(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    static const char *const statuses[] = {"open", "resolved", "all", NULL};
    const char *status = bl_http_request_query(req->http, "status");
    const char *severity = bl_http_request_query(req->http, "severity");
    const char *type = bl_http_request_query(req->http, "type");
    const char *api = bl_http_request_query(req->http, "custom_api_id");
    json_t *errors = json_object();
    if (status && !bl_alert_rule_one_of(status, statuses))
        json_object_set_new(errors, "status", json_string("open, resolved or all"));
    if (severity && !bl_alert_rule_one_of(severity, bl_alert_rule_severities))
        json_object_set_new(errors, "severity", json_string("low, medium, high or critical"));
    if (type && !bl_alert_rule_one_of(type, bl_alert_rule_types))
        json_object_set_new(errors, "type", json_string("high-latency, error-rate, rate-limit, downtime or webhook-failure"));
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, "invalid_filter", "a filter of the alerts is not valid", errors);
    json_decref(errors);
    const char *params[] = {req->auth->org_id, status ? status : "all", severity, type, api};
    return bl_api_answer_page(req, resp,
                              "api_alerts WHERE organization_id = $1 AND ($2 = 'all' OR ($2 = 'open') = (resolved_at"
                              " IS NULL)) AND ($3::text IS NULL OR severity = $3) AND ($4::text IS NULL OR type = $4)"
                              " AND ($5::text IS NULL OR custom_api_id::text = $5)",
                              5, params, ALERT_JSON, sorts);
}

static int acknowledge_alert(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    const char *by = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
    const char *params[] = {req->auth->org_id, bl_http_request_param(req->http, "id"), by};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    /* the first acknowledgement stays: who saw it first, and when */
    PGresult *r = bl_pg_exec(conn,
                             "UPDATE api_alerts SET acknowledged_at = coalesce(acknowledged_at, now()),"
                             " acknowledged_by = coalesce(acknowledged_by, $3) WHERE organization_id = $1"
                             " AND id::text = $2 RETURNING " ALERT_JSON "::text",
                             3, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r) {
        bl_log_error("alerts: acknowledge failed", BL_FS("request_id", bl_http_request_id(req->http)),
                     BL_FS("error", err.msg));
        return -1;
    }
    int rc = PQntuples(r) == 1 ? bl_http_response_body_copy(resp, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)),
                                                            "application/json")
                               : bl_api_fail(req->http, resp, 404, NULL, "no such alert", NULL);
    PQclear(r);
    return rc;
}

static int document(bl_api_server *s, bl_err *err)
{
    static const char alert_text[] =
        "An alert is document 002's APIAlert: {id, customAPIId (null for webhook-failure), subject (custom_api:<id>"
        " or webhooks), type (high-latency: p95 response time in ms; error-rate: percent of calls answered 500 or"
        " more; rate-limit: percent answered 429; downtime: every call failed; webhook-failure: webhook deliveries"
        " failed past their 3rd attempt), threshold, currentValue, severity (low, medium, high, critical), message,"
        " isResolved, createdAt, updatedAt, resolvedAt, acknowledgedAt, acknowledgedBy, ruleId}. The evaluator opens"
        " an alert once, updates its currentValue while it lasts and resolves it when the condition clears; each"
        " opening and resolution is an event on events.ops.alert (alert.opened, alert.resolved).";
    json_t *list = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}}}", "summary",
                             "List the organization's alerts, newest first (limit, offset, sort; status=open|resolved|all,"
                             " severity, type, custom_api_id)",
                             "description", alert_text, "tags", "alerts", "responses", "200", "description",
                             "{data: [alert], pagination}", "400", "description", "a bad filter (invalid_filter)");
    json_t *ack = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}}}", "summary",
                            "Acknowledge an alert (the first acknowledgement is kept; it stays open until its"
                            " condition clears)",
                            "description", alert_text, "tags", "alerts", "responses", "200", "description", "the alert",
                            "404", "description", "no such alert in this organization (not_found)");
    if (!list || !ack) {
        json_decref(list);
        json_decref(ack);
        return bl_err_set(err, BL_ENOMEM, "alerts: out of memory");
    }
    if (bl_api_server_document(s, "GET", "/v1/alerts", list, err) != 0) {
        json_decref(ack);
        return -1;
    }
    return bl_api_server_document(s, "POST", "/v1/alerts/:id/acknowledge", ack, err);
}

static void evaluator_free(void *arg)
{
    bl_alert_evaluator_free(arg);
}

int bl_api_routes_alerts(bl_api_server *s, bl_err *err)
{
    static const bl_api_route routes[] = {
        {"GET", "/v1/alerts", BL_API_BY_METHOD, list_alerts},
        {"POST", "/v1/alerts/:id/acknowledge", BL_API_BY_METHOD, acknowledge_alert},
    };
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0 || document(s, err) != 0)
        return -1;
    const bl_api_config *cfg = bl_api_server_config(s);
    bl_pg_pool *pool = bl_api_server_pool(s);
    if (!pool || cfg->alert_eval_ms < 0)
        return 0;
    bl_err why = {0};
    bl_alert_evaluator *ev = bl_alert_evaluator_new(pool, cfg->schemas_dir, cfg->topic_prefix, &why);
    if (!ev) { /* the routes still answer; nothing opens alerts on this replica */
        bl_log_error("alerts: this replica does not evaluate alerts", BL_FS("error", why.msg));
        return 0;
    }
    if (bl_api_server_on_free(s, evaluator_free, ev, err) != 0)
        return -1;
    return bl_alert_evaluator_start(ev, cfg->alert_eval_ms ? (unsigned)cfg->alert_eval_ms : EVAL_MS_DEFAULT, err);
}
