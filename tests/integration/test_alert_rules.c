/* /v1/alert-rules against real PostgreSQL, and the evaluator reading them:
 * a new organization holds the default rules, editable like its own; a bad
 * rule is refused with every problem and nothing saved; editing a rule
 * changes when an alert opens (and an open alert follows the edit: its
 * current value updated, resolved when the edited condition clears); a
 * disabled rule opens nothing, and disabling resolves; every change is in
 * /v1/audit; `busline api` refuses a bad --alert-interval. The calls of the watched endpoints are written as metric rows
 * (what the API's metric writer records, test_custom_api_metrics covers
 * that path), so each evaluation sees exactly the calls the test made. The
 * server's own evaluator runs beside the test's: assertions are on rows. */
#include "api/alerts/alerts.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_custom t;
static bl_alert_evaluator *ev;

static long sql_long(const char *sql, const char *a, const char *b)
{
    const char *p[] = {a, b};
    char out[32] = "";
    return bl_test_sql_value(t.api.pool, sql, b ? 2 : 1, p, out, sizeof out) == 0 ? atol(out) : -1;
}

static double sql_double(const char *sql, const char *a)
{
    const char *p[] = {a};
    char out[48] = "";
    return bl_test_sql_value(t.api.pool, sql, 1, p, out, sizeof out) == 0 && out[0] ? atof(out) : -1;
}

static long call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r)
{
    return bl_test_api_call(&t.api, method, path, token, NULL, body, r);
}

/* The id of the organization's rule of type in scope (custom_api_id NULL =
 * bus-wide), read over the API, into id (40 bytes); "" when none. */
static void rule_id_of(const char *type, const char *custom_api_id, char *id)
{
    char path[200];
    snprintf(path, sizeof path, "/v1/alert-rules?type=%s&%s%s", type, custom_api_id ? "custom_api_id=" : "scope=bus",
             custom_api_id ? custom_api_id : "");
    bl_test_reply r;
    id[0] = '\0';
    if (call("GET", path, t.api.write_token, NULL, &r) == 200 && json_array_size(json_object_get(r.json, "data")) == 1)
        snprintf(id, 40, "%s",
                 json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0), "id")) ?: "");
    bl_test_reply_clear(&r);
}

/* PATCHes rule id with body (admin); returns the status. */
static long patch(const char *id, const char *body)
{
    char path[120];
    snprintf(path, sizeof path, "/v1/alert-rules/%s", id);
    bl_test_reply r;
    long st = call("PATCH", path, t.api.admin_token, body, &r);
    if (st != 200)
        fprintf(stderr, "  PATCH %s %s: %ld %s\n", id, body, st, r.body);
    bl_test_reply_clear(&r);
    return st;
}

/* Records n calls of endpoint id answered status in ms, just now. */
static int record_calls(const char *id, int n, double ms, int status)
{
    char ns[16], mss[32], sts[16];
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(mss, sizeof mss, "%.3f", ms);
    snprintf(sts, sizeof sts, "%d", status);
    const char *p[] = {id, t.api.org, ns, mss, sts};
    return bl_test_sql(t.api.pool,
                       "INSERT INTO custom_api_metrics (custom_api_id, organization_id, recorded_at, response_time_ms,"
                       " status_code) SELECT $1, $2, now(), $4::float8, $5::int FROM generate_series(1, $3::int)",
                       5, p);
}

static long create_endpoint(const char *path, char *id)
{
    char def[512];
    snprintf(def, sizeof def,
             "{\"name\":\"watched\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"}}", path);
    return bl_test_custom_create(&t, def, id);
}

static void evaluate(void)
{
    bl_err err = {0};
    bl_alert_tick tick;
    int rc = bl_alert_evaluate(ev, &tick, &err);
    if (rc != 0)
        fprintf(stderr, "  evaluate: %s\n", err.msg);
    CHECK_EQ_INT(rc, 0);
}

static long open_alerts(const char *api_id, const char *type)
{
    return sql_long("SELECT count(*) FROM api_alerts WHERE custom_api_id::text = $1 AND type = $2"
                    " AND resolved_at IS NULL",
                    api_id, type);
}

static void a_new_organization_holds_the_default_rules(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", "/v1/alert-rules?limit=100", t.api.write_token, NULL, &r), 200);
    const json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT(json_array_size(data), 5);
    size_t i;
    const json_t *rule;
    int seen = 0;
    json_array_foreach(data, i, rule) {
        CHECK(json_is_true(json_object_get(rule, "isDefault")));
        CHECK(json_is_true(json_object_get(rule, "enabled")));
        CHECK_EQ_STR(json_string_value(json_object_get(rule, "scope")), "bus");
        CHECK(json_is_null(json_object_get(rule, "customAPIId")));
        const char *type = json_string_value(json_object_get(rule, "type"));
        double th = json_number_value(json_object_get(rule, "threshold"));
        const char *cmp = json_string_value(json_object_get(rule, "comparison"));
        if (strcmp(type, "high-latency") == 0)
            seen += th == 2000 && strcmp(cmp, "gt") == 0;
        else if (strcmp(type, "error-rate") == 0)
            seen += th == 5 && strcmp(cmp, "gt") == 0;
        else if (strcmp(type, "downtime") == 0)
            seen += th == 100 && strcmp(cmp, "gte") == 0;
        else if (strcmp(type, "webhook-failure") == 0)
            seen += th == 0 && json_integer_value(json_object_get(rule, "window")) == 300;
        else if (strcmp(type, "rate-limit") == 0)
            seen += th == 10;
    }
    CHECK_EQ_INT(seen, 5);
    bl_test_reply_clear(&r);
    /* the other organization has its own copies, which this one never sees */
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM alert_rules WHERE organization_id = $1 AND is_default", t.api.other_org,
                          NULL),
                 5);
}

static void a_bad_rule_is_refused_with_every_problem(void)
{
    char mine[40], theirs[40];
    REQUIRE(create_endpoint("/refused", mine) == 201);
    long before = sql_long("SELECT count(*) FROM alert_rules WHERE organization_id = $1", t.api.org, NULL);
    bl_test_reply r;
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token,
                      "{\"type\":\"latency\",\"threshold\":-1,\"severity\":\"urgent\",\"comparison\":\"above\","
                      "\"window\":5,\"minCalls\":0,\"enabled\":\"yes\",\"channels\":[\"ops pager\"],\"colour\":1}",
                      &r),
                 422);
    CHECK_EQ_STR(bl_test_reply_error_code(&r), "invalid_alert_rule");
    const json_t *fe = json_object_get(json_object_get(r.json, "error"), "field_errors");
    static const char *const fields[] = {"type", "threshold", "severity", "comparison", "window", "minCalls",
                                         "enabled", "channels", "colour"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!json_is_array(json_object_get(fe, fields[i])))
            fprintf(stderr, "  no problem named for %s: %s\n", fields[i], r.body);
        CHECK(json_is_array(json_object_get(fe, fields[i])));
    }
    bl_test_reply_clear(&r);
    /* a percentage above 100; webhook-failure on one endpoint; required fields */
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token,
                      "{\"type\":\"error-rate\",\"threshold\":150,\"severity\":\"low\"}", &r),
                 422);
    CHECK(json_is_array(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "threshold")));
    bl_test_reply_clear(&r);
    char body[300];
    snprintf(body, sizeof body, "{\"type\":\"webhook-failure\",\"threshold\":1,\"severity\":\"low\",\"customAPIId\":\"%s\"}",
             mine);
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token, body, &r), 422);
    CHECK(json_is_array(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "customAPIId")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token, "{}", &r), 422);
    fe = json_object_get(json_object_get(r.json, "error"), "field_errors");
    CHECK(json_object_get(fe, "type") && json_object_get(fe, "threshold") && json_object_get(fe, "severity"));
    bl_test_reply_clear(&r);
    /* another organization's endpoint is no endpoint of this one */
    const char *op[] = {t.api.other_org};
    REQUIRE(bl_test_sql_value(t.api.pool, "INSERT INTO custom_apis (organization_id, name, path, path_key, method, config,"
                                          " version) VALUES ($1, 'theirs', '/theirs', '/theirs', 'GET', '{}', '1.0.0')"
                                          " RETURNING id",
                              1, op, theirs, sizeof theirs) == 0);
    snprintf(body, sizeof body, "{\"type\":\"error-rate\",\"threshold\":1,\"severity\":\"low\",\"customAPIId\":\"%s\"}",
             theirs);
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token, body, &r), 422);
    CHECK(json_is_array(json_object_get(json_object_get(json_object_get(r.json, "error"), "field_errors"), "customAPIId")));
    bl_test_reply_clear(&r);
    /* a second bus-wide high-latency rule: edit the one there is */
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token,
                      "{\"type\":\"high-latency\",\"threshold\":1,\"severity\":\"low\"}", &r),
                 409);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM alert_rules WHERE organization_id = $1", t.api.org, NULL), before);
    /* a write key may read rules, not change them */
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.write_token,
                      "{\"type\":\"error-rate\",\"threshold\":1,\"severity\":\"low\"}", &r),
                 403);
    bl_test_reply_clear(&r);
}

static void an_edited_rule_changes_when_an_alert_opens(void)
{
    char api[40], rule[40];
    REQUIRE(create_endpoint("/edited", api) == 201);
    rule_id_of("high-latency", NULL, rule);
    REQUIRE(rule[0]);
    /* 5 calls at 300 ms: under the default 2000 ms, nothing opens */
    REQUIRE(record_calls(api, 5, 300, 200) == 0);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 0);
    /* the bus-wide rule edited to 200 ms, critical: the same calls open it */
    CHECK_EQ_INT(patch(rule, "{\"threshold\":200,\"severity\":\"critical\",\"channels\":[\"ops-pager\"]}"), 200);
    evaluate();
    evaluate(); /* once */
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 1);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM api_alerts WHERE custom_api_id::text = $1 AND threshold = 200"
                          " AND severity = 'critical' AND rule_id::text = $2",
                          api, rule),
                 1);
    double first = sql_double("SELECT current_value FROM api_alerts WHERE custom_api_id::text = $1"
                              " AND resolved_at IS NULL",
                              api);
    CHECK(first > 299 && first < 301);
    /* its alert.opened event carries the rule's channels */
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM busline_outbox WHERE event_type = 'alert.opened' AND position('ops-pager'::bytea"
                          " IN payload) > 0 AND aggregate_id IN (SELECT id::text FROM api_alerts"
                          " WHERE custom_api_id::text = $1)",
                          api, NULL),
                 1);
    /* slower calls: the same alert, its current value updated */
    REQUIRE(record_calls(api, 20, 900, 200) == 0);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 1);
    double now = sql_double("SELECT current_value FROM api_alerts WHERE custom_api_id::text = $1 AND resolved_at"
                            " IS NULL",
                            api);
    CHECK(now > 800);
    /* edited past the value: the open alert resolves itself */
    CHECK_EQ_INT(patch(rule, "{\"threshold\":5000,\"comparison\":\"gt\"}"), 200);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 0);
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM api_alerts WHERE custom_api_id::text = $1 AND resolved_at IS NOT NULL",
                          api, NULL),
                 1);
    /* comparison lt: a p95 below 1000 ms fires */
    CHECK_EQ_INT(patch(rule, "{\"threshold\":1000,\"comparison\":\"lt\",\"severity\":\"low\"}"), 200);
    REQUIRE(record_calls(api, 200, 10, 200) == 0);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 1);
    CHECK_EQ_INT(patch(rule, "{\"threshold\":2000,\"comparison\":\"gt\",\"severity\":\"medium\",\"channels\":[]}"), 200);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "high-latency"), 0);
}

static void a_disabled_rule_opens_nothing(void)
{
    char api[40], rule[40], path[120];
    REQUIRE(create_endpoint("/disabled", api) == 201);
    /* this endpoint's own error-rate rule, disabled: it wins over the bus-wide one */
    char body[300];
    snprintf(body, sizeof body, "{\"type\":\"error-rate\",\"threshold\":1,\"severity\":\"high\",\"customAPIId\":\"%s\","
             "\"window\":120,\"minCalls\":2,\"enabled\":false}", api);
    bl_test_reply r;
    CHECK_EQ_INT(call("POST", "/v1/alert-rules", t.api.admin_token, body, &r), 201);
    snprintf(rule, sizeof rule, "%s", json_string_value(json_object_get(r.json, "id")) ?: "");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "scope")), "endpoint");
    CHECK(json_is_false(json_object_get(r.json, "isDefault")));
    CHECK(json_is_false(json_object_get(r.json, "enabled")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "window")), 120);
    bl_test_reply_clear(&r);
    REQUIRE(rule[0]);
    REQUIRE(record_calls(api, 10, 5, 503) == 0);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "error-rate"), 0);
    CHECK_EQ_INT(open_alerts(api, "downtime"), 1); /* the bus-wide downtime rule still watches it */
    /* enabled: it opens; disabled again: its open alert resolves */
    CHECK_EQ_INT(patch(rule, "{\"enabled\":true}"), 200);
    evaluate();
    CHECK_EQ_INT(sql_long("SELECT count(*) FROM api_alerts WHERE custom_api_id::text = $1 AND type = 'error-rate'"
                          " AND resolved_at IS NULL AND rule_id::text = $2 AND threshold = 1",
                          api, rule),
                 1);
    CHECK_EQ_INT(patch(rule, "{\"enabled\":false}"), 200);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "error-rate"), 0);
    /* the bus-wide downtime rule disabled: the open downtime alert resolves too */
    char downtime[40];
    rule_id_of("downtime", NULL, downtime);
    REQUIRE(downtime[0]);
    CHECK_EQ_INT(patch(downtime, "{\"enabled\":false}"), 200);
    evaluate();
    CHECK_EQ_INT(open_alerts(api, "downtime"), 0);
    CHECK_EQ_INT(patch(downtime, "{\"enabled\":true}"), 200);
    /* PUT replaces the whole rule; GET reads it back; DELETE removes it */
    snprintf(path, sizeof path, "/v1/alert-rules/%s", rule);
    snprintf(body, sizeof body, "{\"type\":\"error-rate\",\"threshold\":50,\"severity\":\"medium\",\"customAPIId\":\"%s\"}",
             api);
    CHECK_EQ_INT(call("PUT", path, t.api.admin_token, body, &r), 200);
    CHECK(json_is_true(json_object_get(r.json, "enabled")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "window")), 300);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("PUT", path, t.api.admin_token, "{\"threshold\":50}", &r), 422);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", path, t.api.write_token, NULL, &r), 200);
    CHECK(json_number_value(json_object_get(r.json, "threshold")) == 50);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", path, t.api.other_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("DELETE", path, t.api.admin_token, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("GET", path, t.api.write_token, NULL, &r), 404);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(call("PATCH", "/v1/alert-rules/not-a-rule", t.api.admin_token, "{\"enabled\":true}", &r), 404);
    bl_test_reply_clear(&r);
}

static void every_rule_change_is_audited(void)
{
    bl_test_reply r;
    CHECK_EQ_INT(call("GET", "/v1/audit?entity_type=alert_rule&limit=100", t.api.admin_token, NULL, &r), 200);
    const json_t *data = json_object_get(r.json, "data");
    int created = 0, updated = 0, deleted = 0, with_before_after = 0;
    size_t i;
    const json_t *row;
    json_array_foreach(data, i, row) {
        const char *action = json_string_value(json_object_get(row, "action"));
        created += strcmp(action, "create") == 0;
        deleted += strcmp(action, "delete") == 0;
        if (strcmp(action, "update") == 0) {
            updated++;
            const json_t *b = json_object_get(row, "before"), *a = json_object_get(row, "after");
            with_before_after += json_is_object(b) && json_is_object(a) &&
                                 !json_equal(json_object_get(b, "enabled"), json_object_get(a, "enabled"));
        }
    }
    CHECK_EQ_INT(created, 1);
    CHECK_EQ_INT(deleted, 1);
    CHECK(updated >= 9);
    CHECK(with_before_after >= 2); /* enabled flipped, before and after */
    bl_test_reply_clear(&r);
}

static void a_bad_alert_interval_is_refused_with_its_name(void)
{
    static char out[32768];
    CHECK_EQ_INT(bl_test_run_busline(NULL, "api --alert-interval 10ms", out, sizeof out), 2);
    CHECK(strstr(out, "--alert-interval=10ms: must be between 1s and 1h") != NULL);
    CHECK_EQ_INT(bl_test_run_busline("BUSLINE_API_ALERT_INTERVAL=soon", "api", out, sizeof out), 2);
    CHECK(strstr(out, "BUSLINE_API_ALERT_INTERVAL=soon: not a duration") != NULL);
    CHECK_EQ_INT(bl_test_run_busline(NULL, "api --help", out, sizeof out), 0);
    CHECK(strstr(out, "--alert-interval") && strstr(out, "BUSLINE_API_ALERT_INTERVAL; default 10s"));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    bl_err err = {0};
    if (bl_test_custom_start(&t, 0, 0, 0) == 0 && (ev = bl_alert_evaluator_new(t.api.pool, NULL, t.api.prefix, &err))) {
        BL_RUN(a_new_organization_holds_the_default_rules);
        BL_RUN(a_bad_rule_is_refused_with_every_problem);
        BL_RUN(an_edited_rule_changes_when_an_alert_opens);
        BL_RUN(a_disabled_rule_opens_nothing);
        BL_RUN(every_rule_change_is_audited);
        BL_RUN(a_bad_alert_interval_is_refused_with_its_name);
    } else {
        fprintf(stderr, "  setup: %s\n", err.msg);
        bl_test_failures++;
    }
    bl_alert_evaluator_free(ev);
    bl_test_custom_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
