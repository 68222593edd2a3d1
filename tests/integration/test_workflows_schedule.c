/* `schedule` workflow triggers, run by real `busline workflows` processes
 * on a real Kafka and PostgreSQL: a saved schedule keeps its next fire in
 * PostgreSQL (computed in its time zone); a due fire starts exactly one
 * execution while two replicas race for it; fires missed while no replica
 * ran (the processes killed) run once after the restart, as the earliest
 * missed fire; and a fire already started is never started again by a
 * restart. Bad expressions and zones are refused before anything is saved. */
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "tests/support/api_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/wf_fixture.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 60000

static bl_test_api t;
static char topic[200], group[128], log_path[256];

static pid_t start_orchestrator(void)
{
    return bl_test_wf_start(&t, topic, group, log_path, 2);
}

static long save_workflow(const char *method, const char *path, const char *cron, const char *tz, char id[64])
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"name\":\"nightly report\",\"trigger\":{\"type\":\"schedule\",\"config\":{\"cron\":\"%s\""
             ",\"timezone\":\"%s\"}},\"steps\":[{\"id\":\"stamp\",\"type\":\"transformation\",\"config\":{\"type\":"
             "\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.input.scheduledAt\",\"target\":\"$.at\"}]}}]}",
             cron, tz);
    bl_test_reply r;
    long st = bl_test_api_call(&t, method, path, t.admin_token, NULL, body, &r);
    if (id)
        snprintf(id, 64, "%s", st < 300 ? json_string_value(json_object_get(r.json, "id")) : "");
    bl_test_reply_clear(&r);
    return st;
}

static long sql_count(const char *sql, const char *param)
{
    char n[32] = "";
    const char *p[] = {param};
    if (bl_test_sql_value(t.pool, sql, 1, p, n, sizeof n) != 0)
        return -1;
    return strtol(n, NULL, 10);
}

static long await_completed(const char *wid, long n)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    long seen = 0;
    while ((seen = sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1"
                             " AND status = 'completed'",
                             wid)) < n &&
           bl_clock_mono_ms() < deadline)
        usleep(50000);
    return seen;
}

/* Waits until workflow wid's next fire is in the future again (fired). */
static bool await_moved(const char *wid)
{
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at > now()",
                     wid) != 1)
        if (bl_clock_mono_ms() > deadline)
            return false;
        else
            usleep(50000);
    return true;
}

/* The next 1 January 03:00 in Paris, as PostgreSQL's own zone data has it:
 * what "0 3 1 1 *" in Europe/Paris must fire at next. */
#define NEXT_NEW_YEAR_3AM_PARIS                                                                                  \
    "((date_trunc('year', now() AT TIME ZONE 'Europe/Paris') + interval '1 year 3 hours') AT TIME ZONE"         \
    " 'Europe/Paris')"

static void saved_schedule_keeps_its_next_fire_in_its_time_zone(void)
{
    char wid[64];
    REQUIRE(save_workflow("POST", "/v1/workflows", "0 3 1 1 *", "Europe/Paris", wid) == 201);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at = "
                           NEXT_NEW_YEAR_3AM_PARIS,
                           wid),
                 1);
    /* a new version with the same schedule keeps the fire; another expression moves it */
    char path[128];
    snprintf(path, sizeof path, "/v1/workflows/%s", wid);
    const char *p[] = {wid};
    REQUIRE(bl_test_sql(t.pool, "UPDATE workflow_schedules SET next_fire_at = '2031-01-01T00:00:00Z'"
                        " WHERE workflow_id = $1", 1, p) == 0);
    CHECK_EQ_INT(save_workflow("PUT", path, "0 3 1 1 *", "Europe/Paris", NULL), 200);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at ="
                           " '2031-01-01T00:00:00Z'", wid), 1);
    CHECK_EQ_INT(save_workflow("PUT", path, "30 9 * * MON-FRI", "America/New_York", NULL), 200);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at > now()"
                           " AND next_fire_at < now() + interval '4 days' AND to_char(next_fire_at AT TIME ZONE"
                           " 'America/New_York', 'HH24:MI') = '09:30'", wid), 1);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t, "DELETE", path, t.admin_token, NULL, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1", wid), 0);
}

static void bad_cron_or_zone_is_refused_before_saving(void)
{
    static const char *const bad[][2] = {
        {"61 * * * *", "UTC"}, {"* * * *", "UTC"}, {"0 0 30 2 *", "UTC"}, {"0 9 * * *", "Europe/Atlantis"}};
    long before = sql_count("SELECT count(*) FROM workflows WHERE organization_id::text = $1", t.org);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(save_workflow("POST", "/v1/workflows", bad[i][0], bad[i][1], NULL), 422);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflows WHERE organization_id::text = $1", t.org), before);
}

static void schedule_fires_once_across_replicas_and_a_restart(void)
{
    char wid[64], trigger[96] = "";
    REQUIRE(save_workflow("POST", "/v1/workflows", "0 3 1 1 *", "Europe/Paris", wid) == 201);
    const char *p[] = {wid};
    /* two replicas race for a due fire: one execution */
    pid_t a = start_orchestrator(), b = start_orchestrator();
    REQUIRE(bl_test_sql(t.pool, "UPDATE workflow_schedules SET next_fire_at = date_trunc('second', now())"
                        " WHERE workflow_id = $1", 1, p) == 0);
    CHECK_EQ_INT(await_completed(wid, 1), 1);
    REQUIRE(await_moved(wid));
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 1);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at = "
                           NEXT_NEW_YEAR_3AM_PARIS, wid), 1);
    /* the replicas are killed; the workflow now runs every minute, and five fires are missed */
    bl_test_wf_stop(a, SIGKILL);
    bl_test_wf_stop(b, SIGKILL);
    char path[128];
    snprintf(path, sizeof path, "/v1/workflows/%s", wid);
    REQUIRE(save_workflow("PUT", path, "* * * * *", "Europe/Paris", NULL) == 200);
    char window_end[64] = "";
    REQUIRE(bl_test_sql_value(t.pool, "UPDATE workflow_schedules SET next_fire_at = date_trunc('minute', now())"
                              " - interval '5 minutes' WHERE workflow_id = $1 RETURNING (next_fire_at +"
                              " interval '5 minutes')::text", 1, p, window_end, sizeof window_end) == 0);
    REQUIRE(bl_test_sql_value(t.pool, "SELECT 'schedule:' || to_char(next_fire_at AT TIME ZONE 'UTC',"
                              " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM workflow_schedules WHERE workflow_id = $1",
                              1, p, trigger, sizeof trigger) == 0);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 1);
    a = start_orchestrator();
    b = start_orchestrator();
    CHECK(await_completed(wid, 2) >= 2); /* and any minute passed since */
    REQUIRE(await_moved(wid));
    /* the missed fires ran once, as the earliest, its lateness told; the next is the next minute */
    const char *q[] = {wid, trigger, window_end};
    static const char missed_sql[] = "SELECT count(*) FROM workflow_executions WHERE workflow_id = $1 AND"
                                     " (input ->> 'scheduledAt')::timestamptz >= (substr($2, 10))::timestamptz"
                                     " AND (input ->> 'scheduledAt')::timestamptz < $3::timestamptz";
    char n[16] = "", late[32] = "", at[64] = "";
    REQUIRE(bl_test_sql_value(t.pool, missed_sql, 3, q, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "1");
    REQUIRE(bl_test_sql_value(t.pool, "SELECT input ->> 'lateSeconds' FROM workflow_executions WHERE"
                              " workflow_id = $1 AND trigger_id = $2", 2, q, late, sizeof late) == 0);
    CHECK(strtol(late, NULL, 10) >= 240);
    REQUIRE(bl_test_sql_value(t.pool, "SELECT context -> 'steps' -> 'stamp' ->> 'at' FROM workflow_executions"
                              " WHERE workflow_id = $1 AND trigger_id = $2", 2, q, at, sizeof at) == 0);
    CHECK_EQ_STR(at, trigger + strlen("schedule:"));
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_schedules WHERE workflow_id = $1 AND next_fire_at <="
                           " now() + interval '1 minute' AND extract(second FROM next_fire_at) = 0", wid), 1);
    /* a restart that finds that fire due again (as if its row had not moved) starts nothing twice */
    bl_test_wf_stop(a, SIGTERM);
    bl_test_wf_stop(b, SIGKILL);
    REQUIRE(bl_test_sql(t.pool, "UPDATE workflow_schedules SET next_fire_at = (substr($2, 10))::timestamptz"
                        " WHERE workflow_id = $1", 2, q) == 0);
    a = start_orchestrator();
    REQUIRE(await_moved(wid));
    REQUIRE(bl_test_sql_value(t.pool, missed_sql, 3, q, n, sizeof n) == 0);
    CHECK_EQ_STR(n, "1");
    bl_test_wf_stop(a, SIGTERM);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&t, "DELETE", path, t.admin_token, NULL, NULL, &r), 204);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&t, 1) == 0) {
        snprintf(topic, sizeof topic, "%sevents.pmo.project", t.prefix);
        bl_test_unique_name(group, sizeof group, "wf_sched");
        snprintf(log_path, sizeof log_path, "/tmp/%s.log", group);
        if (bl_test_wf_topic_make(topic, 1) == 0) {
            BL_RUN(saved_schedule_keeps_its_next_fire_in_its_time_zone);
            BL_RUN(bad_cron_or_zone_is_refused_before_saving);
            BL_RUN(schedule_fires_once_across_replicas_and_a_restart);
        } else {
            bl_test_failures++;
        }
        bl_test_wf_topic_drop(topic);
    } else {
        bl_test_failures++;
    }
    fprintf(stderr, "  orchestrator logs: %s\n", log_path);
    bl_test_api_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
