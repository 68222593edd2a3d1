/* The PMO domain rules (producers/pmo/domain.h) against a real PostgreSQL:
 * each command applied in its own transaction, derived events checked. One
 * fresh database for the file; each test works in its own organization. */
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "producers/pmo/domain.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

static PGconn *conn;
static char org[64];
static int command_seq;

#define DAY_MS 86400000LL
#define T0 1735689600000LL /* 2025-01-01T00:00:00Z */

/* Applies command JSON text {"type": ..., "data": {...}} in org as one
 * transaction (committed on success). Returns bl_pmo_apply's result; events
 * (may be NULL) get what it derived; err gets the failure. */
static int apply(const char *json_text, bl_pmo_events *events, bl_err *err)
{
    json_error_t jerr;
    json_t *cmd_json = json_loads(json_text, 0, &jerr);
    if (!cmd_json) {
        fprintf(stderr, "  bad test JSON: %s\n", jerr.text);
        return bl_err_set(err, BL_EINVAL, "test JSON");
    }
    char id[32];
    snprintf(id, sizeof id, "cmd-%d", ++command_seq);
    bl_pmo_command cmd = {
        .id = id, .type = json_string_value(json_object_get(cmd_json, "type")),
        .organization_id = org, .actor = "tester", .time_ms = T0 + 30 * DAY_MS,
        .data = json_object_get(cmd_json, "data"),
    };
    bl_pmo_events local = {0};
    bl_pmo_events *out = events ? events : &local;
    bl_domain_events_clear(out);
    int rc = bl_pg_begin(conn, err);
    if (rc == 0)
        rc = bl_pmo_apply(conn, &cmd, out, err);
    bl_err ignored = {0};
    if (rc == 0)
        rc = bl_pg_commit(conn, err);
    else
        bl_pg_rollback(conn, &ignored);
    bl_domain_events_clear(&local);
    json_decref(cmd_json);
    return rc;
}

/* Applies a command that must succeed; a failure is reported with its error. */
static int apply_ok(const char *json_text, bl_pmo_events *events)
{
    bl_err err = {0};
    int rc = apply(json_text, events, &err);
    if (rc != 0)
        fprintf(stderr, "  apply failed: %s\n  command: %s\n", err.msg, json_text);
    return rc;
}

static const char *ev_str(const bl_pmo_event *e, const char *field)
{
    return json_string_value(json_object_get(e->data, field));
}

static long long ev_int(const bl_pmo_event *e, const char *field)
{
    return (long long)json_integer_value(json_object_get(e->data, field));
}

static void new_org(void)
{
    bl_test_unique_name(org, sizeof org, "org");
}

static int create_project(const char *id, const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"project.create\",\"data\":{\"project_id\":\"%s\",\"name\":\"%s\","
             "\"owner_id\":\"u1\",\"budget_cents\":1000000,\"currency\":\"EUR\"}}",
             id, name);
    return apply_ok(cmd, NULL);
}

static void project_status_change_derives_status_changed_once(void)
{
    new_org();
    bl_pmo_events ev = {0};
    REQUIRE(apply_ok("{\"type\":\"project.create\",\"data\":{\"project_id\":\"P1\",\"name\":\"Apollo\","
                     "\"description\":null,\"owner_id\":\"u1\",\"budget_cents\":500000,\"currency\":\"EUR\","
                     "\"start_date\":1735689600000}}", &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "project.created");
    CHECK_EQ_STR(ev.items[0].subject, "P1");
    CHECK_EQ_STR(ev_str(&ev.items[0], "status"), "GREEN");
    CHECK_EQ_INT(ev_int(&ev.items[0], "start_date"), T0);
    CHECK(json_is_null(json_object_get(ev.items[0].data, "end_date")));

    REQUIRE(apply_ok("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"status\":\"RED\","
                     "\"progress\":40}}", &ev) == 0);
    REQUIRE(ev.count == 2);
    CHECK_EQ_STR(ev.items[0].type, "project.updated");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(ev.items[0].data, "changed_fields"), 0)),
                 "progress");
    CHECK_EQ_STR(ev.items[1].type, "project.status_changed");
    CHECK_EQ_STR(ev_str(&ev.items[1], "previous_status"), "GREEN");
    CHECK_EQ_STR(ev_str(&ev.items[1], "new_status"), "RED");
    CHECK_EQ_STR(ev_str(&ev.items[1], "project_name"), "Apollo");
    CHECK_EQ_INT(ev_int(&ev.items[1], "progress"), 40);

    /* Same status again, another attribute changed: no status_changed. */
    REQUIRE(apply_ok("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"status\":\"RED\","
                     "\"name\":\"Apollo 2\"}}", &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "project.updated");
    CHECK_EQ_STR(ev_str(&ev.items[0], "name"), "Apollo 2");
    CHECK(json_is_null(json_object_get(ev.items[0].data, "owner_id")));

    /* Nothing changes: nothing derived. */
    REQUIRE(apply_ok("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"status\":\"RED\"}}",
                     &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);

    REQUIRE(apply_ok("{\"type\":\"project.delete\",\"data\":{\"project_id\":\"P1\",\"reason\":\"done\"}}",
                     &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "project.deleted");
    CHECK_EQ_STR(ev_str(&ev.items[0], "name"), "Apollo 2");
    CHECK_EQ_STR(ev_str(&ev.items[0], "deleted_by"), "tester");
    bl_domain_events_clear(&ev);
}

/* Sets the severity of risk R1 and returns how many risk.escalated came out
 * (-1 on failure); previous gets the escalation's previous severity. */
static int set_severity(const char *severity, char *previous, size_t len)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"risk.update\",\"data\":{\"risk_id\":\"R1\",\"severity\":\"%s\"}}", severity);
    bl_pmo_events ev = {0};
    if (apply_ok(cmd, &ev) != 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < ev.count; i++) {
        if (strcmp(ev.items[i].type, "risk.escalated") != 0)
            continue;
        n++;
        snprintf(previous, len, "%s", ev_str(&ev.items[i], "previous_severity"));
        if (strcmp(ev_str(&ev.items[i], "severity"), severity) != 0)
            n = 100;
    }
    bl_domain_events_clear(&ev);
    return n;
}

static void risk_escalated_only_when_severity_rises_to_high_or_critical(void)
{
    new_org();
    REQUIRE(create_project("P1", "Apollo") == 0);
    bl_pmo_events ev = {0};
    REQUIRE(apply_ok("{\"type\":\"risk.create\",\"data\":{\"risk_id\":\"R1\",\"project_id\":\"P1\","
                     "\"title\":\"Vendor late\",\"description\":\"d\",\"severity\":\"LOW\","
                     "\"probability\":30,\"impact\":50}}", &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "risk.created");
    CHECK_EQ_STR(ev_str(&ev.items[0], "project_name"), "Apollo");
    bl_domain_events_clear(&ev);

    char prev[16] = "";
    CHECK_EQ_INT(set_severity("MEDIUM", prev, sizeof prev), 0);   /* rise, but not to HIGH */
    CHECK_EQ_INT(set_severity("HIGH", prev, sizeof prev), 1);
    CHECK_EQ_STR(prev, "MEDIUM");
    CHECK_EQ_INT(set_severity("HIGH", prev, sizeof prev), 0);     /* unchanged */
    CHECK_EQ_INT(set_severity("MEDIUM", prev, sizeof prev), 0);   /* fall */
    CHECK_EQ_INT(set_severity("CRITICAL", prev, sizeof prev), 1);
    CHECK_EQ_STR(prev, "MEDIUM");
    CHECK_EQ_INT(set_severity("HIGH", prev, sizeof prev), 0);     /* fall to HIGH */

    REQUIRE(apply_ok("{\"type\":\"risk.resolve\",\"data\":{\"risk_id\":\"R1\",\"resolution\":\"swapped vendor\"}}",
                     &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "risk.resolved");
    CHECK_EQ_STR(ev_str(&ev.items[0], "resolution"), "swapped vendor");
    bl_domain_events_clear(&ev);

    bl_err err = {0};
    CHECK(apply("{\"type\":\"risk.update\",\"data\":{\"risk_id\":\"R1\",\"severity\":\"CRITICAL\"}}",
                NULL, &err) != 0);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
}

static int allocate(const char *resource, const char *person, const char *project, int pct,
                    long long start, long long end, bl_pmo_events *ev)
{
    char cmd[512], end_text[32];
    if (end)
        snprintf(end_text, sizeof end_text, "%lld", end);
    else
        snprintf(end_text, sizeof end_text, "null");
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"resource.create\",\"data\":{\"resource_id\":\"%s\",\"person_id\":\"%s\","
             "\"person_name\":\"Ada\",\"project_id\":\"%s\",\"allocation_pct\":%d,"
             "\"start_date\":%lld,\"end_date\":%s}}",
             resource, person, project, pct, start, end_text);
    return apply_ok(cmd, ev);
}

static void resource_overallocated_when_allocation_passes_100_pct(void)
{
    new_org();
    REQUIRE(create_project("P1", "Apollo") == 0);
    REQUIRE(create_project("P2", "Gemini") == 0);
    REQUIRE(create_project("P3", "Mercury") == 0);
    bl_pmo_events ev = {0};
    REQUIRE(allocate("A1", "ada", "P1", 60, T0, 0, &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    /* Another period entirely: does not add up with A1... */
    REQUIRE(allocate("A0", "ada", "P3", 90, T0 - 100 * DAY_MS, T0 - 10 * DAY_MS, &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    /* ...this one does: exactly 100 % is not over. */
    REQUIRE(allocate("A2", "ada", "P2", 40, T0 + 10 * DAY_MS, T0 + 40 * DAY_MS, &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    REQUIRE(allocate("A3", "ada", "P3", 10, T0 + 20 * DAY_MS, T0 + 30 * DAY_MS, &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "resource.overallocated");
    CHECK_EQ_STR(ev.items[0].subject, "ada");
    CHECK_EQ_INT(ev_int(&ev.items[0], "allocation_pct"), 110);
    CHECK_EQ_INT(ev_int(&ev.items[0], "period_start"), T0 + 20 * DAY_MS);
    CHECK_EQ_INT(ev_int(&ev.items[0], "period_end"), T0 + 30 * DAY_MS);
    json_t *assignments = json_object_get(ev.items[0].data, "assignments");
    CHECK_EQ_INT(json_array_size(assignments), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(assignments, 1), "project_name")),
                 "Gemini");
    /* Already over: more load is not a new crossing. */
    REQUIRE(apply_ok("{\"type\":\"resource.update\",\"data\":{\"resource_id\":\"A3\",\"allocation_pct\":20}}",
                     &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    /* Back to 100 %, then over again through an update. */
    REQUIRE(apply_ok("{\"type\":\"resource.update\",\"data\":{\"resource_id\":\"A3\",\"allocation_pct\":0}}",
                     &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    REQUIRE(apply_ok("{\"type\":\"resource.update\",\"data\":{\"resource_id\":\"A1\",\"allocation_pct\":65}}",
                     &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_INT(ev_int(&ev.items[0], "allocation_pct"), 105);
    bl_domain_events_clear(&ev);
}

/* Creates and completes sprint id of project with velocity points; returns
 * how many sprint.velocity_drop came out (-1 on failure), drop_pct set. */
static int complete_sprint(const char *project, const char *id, int n, int points, double *drop_pct,
                           long long *window)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"sprint.create\",\"data\":{\"sprint_id\":\"%s\",\"project_id\":\"%s\","
             "\"name\":\"Sprint %d\",\"starts_at\":%lld,\"ends_at\":%lld,\"committed_points\":12}}",
             id, project, n, T0 + n * 14 * DAY_MS, T0 + (n + 1) * 14 * DAY_MS);
    if (apply_ok(cmd, NULL) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "{\"type\":\"sprint.update\",\"data\":{\"sprint_id\":\"%s\",\"completed_points\":%d}}",
             id, points);
    bl_pmo_events ev = {0};
    if (apply_ok(cmd, &ev) != 0)
        return -1;
    int drops = 0, completed = 0;
    for (size_t i = 0; i < ev.count; i++) {
        if (strcmp(ev.items[i].type, "sprint.completed") == 0 && ev_int(&ev.items[i], "velocity") == points)
            completed++;
        if (strcmp(ev.items[i].type, "sprint.velocity_drop") == 0) {
            drops++;
            *drop_pct = json_real_value(json_object_get(ev.items[i].data, "drop_pct"));
            *window = ev_int(&ev.items[i], "window_sprints");
        }
    }
    bl_domain_events_clear(&ev);
    return completed == 1 ? drops : -1;
}

static void sprint_velocity_drop_from_20_pct_below_average(void)
{
    new_org();
    REQUIRE(create_project("P1", "Apollo") == 0);
    REQUIRE(create_project("P2", "Gemini") == 0);
    double drop = 0;
    long long window = 0;
    CHECK_EQ_INT(complete_sprint("P1", "S1", 1, 10, &drop, &window), 0); /* no history */
    CHECK_EQ_INT(complete_sprint("P1", "S2", 2, 10, &drop, &window), 0);
    CHECK_EQ_INT(complete_sprint("P1", "S3", 3, 8, &drop, &window), 1);  /* exactly 20 % */
    CHECK(drop > 19.999 && drop < 20.001);
    CHECK_EQ_INT(window, 2);
    CHECK_EQ_INT(complete_sprint("P2", "S4", 1, 10, &drop, &window), 0);
    CHECK_EQ_INT(complete_sprint("P2", "S5", 2, 10, &drop, &window), 0);
    CHECK_EQ_INT(complete_sprint("P2", "S6", 3, 9, &drop, &window), 0);  /* 10 %: no */

    /* A completed sprint's points updated again: not completed twice. */
    bl_pmo_events ev = {0};
    REQUIRE(apply_ok("{\"type\":\"sprint.update\",\"data\":{\"sprint_id\":\"S6\",\"completed_points\":2}}",
                     &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    REQUIRE(apply_ok("{\"type\":\"sprint.delete\",\"data\":{\"sprint_id\":\"S6\"}}", &ev) == 0);
    CHECK_EQ_INT(ev.count, 0);
    bl_err err = {0};
    CHECK(apply("{\"type\":\"sprint.delete\",\"data\":{\"sprint_id\":\"S6\"}}", NULL, &err) != 0);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_domain_events_clear(&ev);
}

static void report_markdown_lists_projects_risks_and_decisions(void)
{
    new_org();
    REQUIRE(create_project("P1", "Apollo") == 0);
    REQUIRE(create_project("P2", "Gemini | Ops") == 0);
    REQUIRE(apply_ok("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P2\",\"status\":\"RED\"}}",
                     NULL) == 0);
    REQUIRE(apply_ok("{\"type\":\"risk.create\",\"data\":{\"risk_id\":\"R1\",\"project_id\":\"P1\","
                     "\"title\":\"Vendor late\",\"description\":\"d\",\"severity\":\"CRITICAL\","
                     "\"probability\":30,\"impact\":50}}", NULL) == 0);
    REQUIRE(apply_ok("{\"type\":\"decision.create\",\"data\":{\"decision_id\":\"D1\",\"project_id\":\"P2\","
                     "\"title\":\"Choose cloud\",\"description\":\"AWS or GCP\",\"decision_maker\":\"board\","
                     "\"due_at\":null}}", NULL) == 0);
    REQUIRE(apply_ok("{\"type\":\"decision.approve\",\"data\":{\"decision_id\":\"D1\",\"rationale\":\"cost\"}}",
                     NULL) == 0);
    bl_pmo_events ev = {0};
    REQUIRE(apply_ok("{\"type\":\"report.generate\",\"data\":{\"report_id\":\"REP1\",\"project_id\":null,"
                     "\"format\":\"MARKDOWN\",\"title\":\"Weekly\",\"period_start\":1735689600000,"
                     "\"period_end\":\"2025-03-01T00:00:00Z\"}}", &ev) == 0);
    REQUIRE(ev.count == 1);
    CHECK_EQ_STR(ev.items[0].type, "report.generated");
    CHECK_EQ_INT(ev_int(&ev.items[0], "period_end"), 1740787200000LL);
    const char *md = ev_str(&ev.items[0], "markdown");
    REQUIRE(md != NULL);
    CHECK(strncmp(md, "# Weekly\n", 9) == 0);
    CHECK(strstr(md, "Period: 2025-01-01 to 2025-03-01") != NULL);
    CHECK(strstr(md, "## Projects (2)") != NULL);
    CHECK(strstr(md, "| Apollo (P1) | GREEN | 0 % | 10000.00 EUR | 1 | 0 |") != NULL);
    CHECK(strstr(md, "| Gemini \\| Ops (P2) | RED |") != NULL);
    CHECK(strstr(md, "Gemini \\| Ops") < strstr(md, "Apollo")); /* RED first */
    CHECK(strstr(md, "## Risks (1)") != NULL);
    CHECK(strstr(md, "| Vendor late (R1) | Apollo | CRITICAL | 30 % | 50 | OPEN |") != NULL);
    CHECK(strstr(md, "## Decisions (1)") != NULL);
    CHECK(strstr(md, "| Choose cloud (D1) | Gemini \\| Ops | APPROVED | board | - | cost |") != NULL);

    /* The report is stored; the same id again is a conflict. */
    bl_err err = {0};
    CHECK(apply("{\"type\":\"report.generate\",\"data\":{\"report_id\":\"REP1\",\"format\":\"MARKDOWN\","
                "\"period_start\":0,\"period_end\":1}}", NULL, &err) != 0);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    bl_domain_events_clear(&ev);
}

/* Applies a command that must fail with code, permanently, as class. */
static void expect_refused(const char *json_text, int code, const char *cls)
{
    bl_err err = {0};
    const char *got = NULL;
    CHECK(apply(json_text, NULL, &err) != 0);
    CHECK_EQ_INT(err.code, code);
    CHECK(bl_domain_error_is_permanent(&err, &got));
    CHECK_EQ_STR(got, cls);
}

static void bad_commands_are_refused_with_a_permanent_reason(void)
{
    new_org();
    REQUIRE(create_project("P1", "Apollo") == 0);
    expect_refused("{\"type\":\"project.update\",\"data\":{\"project_id\":\"nope\",\"name\":\"x\"}}",
                   BL_ENOTFOUND, "not_found");
    expect_refused("{\"type\":\"risk.create\",\"data\":{\"risk_id\":\"R1\",\"project_id\":\"nope\","
                   "\"title\":\"t\",\"description\":\"d\",\"severity\":\"LOW\",\"probability\":1,\"impact\":1}}",
                   BL_ENOTFOUND, "not_found");
    expect_refused("{\"type\":\"risk.delete\",\"data\":{\"risk_id\":\"nope\"}}", BL_ENOTFOUND, "not_found");
    expect_refused("{\"type\":\"project.teleport\",\"data\":{}}", BL_EINVAL, "invalid");
    expect_refused("{\"type\":\"project.create\",\"data\":{\"project_id\":\"P2\"}}", BL_EINVAL, "invalid");
    expect_refused("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"progress\":\"half\"}}",
                   BL_EINVAL, "invalid");
    expect_refused("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"progress\":101}}",
                   BL_EINVAL, "invalid");
    expect_refused("{\"type\":\"project.create\",\"data\":{\"project_id\":\"P1\",\"name\":\"n\","
                   "\"owner_id\":\"u\",\"budget_cents\":1,\"currency\":\"EUR\"}}",
                   BL_ECONFLICT, "conflict");
    expect_refused("{\"type\":\"project.update\",\"data\":{\"project_id\":\"P1\",\"start_date\":\"someday\"}}",
                   BL_EPG, "invalid");
    /* Nothing of the refused commands stayed. */
    char where[128];
    snprintf(where, sizeof where, "%s", org);
    const char *params[] = {where};
    bl_err err = {0};
    PGresult *res = bl_pg_exec(conn, "SELECT count(*) FROM pmo_projects WHERE organization_id = $1",
                               1, params, &err);
    REQUIRE(res != NULL);
    CHECK_EQ_STR(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
}

int main(void)
{
    char url[512];
    bl_err err = {0};
    if (bl_test_pg_fresh_db(url, sizeof url, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    conn = bl_pg_connect(url, &err);
    if (!conn || bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        PQfinish(conn);
        bl_test_pg_drop_db(url);
        return 1;
    }
    BL_RUN(project_status_change_derives_status_changed_once);
    BL_RUN(risk_escalated_only_when_severity_rises_to_high_or_critical);
    BL_RUN(resource_overallocated_when_allocation_passes_100_pct);
    BL_RUN(sprint_velocity_drop_from_20_pct_below_average);
    BL_RUN(report_markdown_lists_projects_risks_and_decisions);
    BL_RUN(bad_commands_are_refused_with_a_permanent_reason);
    PQfinish(conn);
    bl_test_pg_drop_db(url);
    return bl_test_summary();
}
