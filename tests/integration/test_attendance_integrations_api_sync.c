/* Design document 001's integrations API on the Attendance-X surface,
 * part two: GET /integrations/:id/history, POST /integrations/:id/sync,
 * GET .../sync/:syncId/status and DELETE /integrations/:id, with the
 * document's example bodies, fields and error codes. The sync worker
 * (busline sync) is not part of this API: where a run must end (DELETE's
 * cleanup), the test does the worker's part on the run row, as that worker
 * does. Part one: test_attendance_integrations_api.c. */
#include "tests/support/ax_integrations_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- GET /integrations/:id/history ---- */

static void history_lists_runs_with_filters_and_meta(void)
{
    char id[64];
    REQUIRE(ax_make_integration("google_calendar", "calendar", ax_org, id) == 0);
    const char *p[] = {id};
    REQUIRE(bl_test_sql(ax_pool,
                        "INSERT INTO integration_sync_runs (integration_id, status, type, direction, statistics, errors,"
                        " triggered_by, started_at, finished_at, duration_ms) VALUES"
                        " ($1, 'success', 'automatic', 'bidirectional', '{\"eventsProcessed\":23,\"eventsCreated\":5,"
                        "\"eventsUpdated\":12,\"eventsDeleted\":2,\"errors\":0}', '[]', '\"scheduled_sync\"',"
                        " '2024-03-15T14:30:00Z', '2024-03-15T14:32:15Z', 135000),"
                        " ($1, 'partial', 'manual', 'bidirectional', '{\"eventsProcessed\":15,\"eventsCreated\":3,"
                        "\"eventsUpdated\":8,\"eventsDeleted\":0,\"errors\":4}', '[{\"eventId\":\"event-123\","
                        "\"error\":\"Calendar permission denied\",\"code\":\"PERMISSION_DENIED\"}]',"
                        " '{\"userId\":\"user-456\",\"name\":\"Marie Dubois\"}', '2024-03-15T10:00:00Z',"
                        " '2024-03-15T10:01:45Z', 105000)",
                        1, p) == 0);
    char path[256];
    bl_test_reply r;
    snprintf(path, sizeof path, BASE "/%s/history", id);
    CHECK_EQ_INT(ax_call("GET", path, ax_manager, NULL, &r), 200);
    CHECK(ax_enveloped(&r) && ax_is_obj(r.json, "meta"));
    const json_t *meta = json_object_get(r.json, "meta");
    CHECK(ax_is_int(meta, "page") && ax_is_int(meta, "limit") && ax_is_int(meta, "total") && ax_is_int(meta, "totalPages"));
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "limit")), 50);
    CHECK_EQ_INT(json_integer_value(json_object_get(meta, "total")), 2);
    const json_t *first = json_array_get(ax_data(&r), 0), *second = json_array_get(ax_data(&r), 1);
    CHECK(ax_is_str(first, "id") && ax_is_str(first, "startedAt") && ax_is_str(first, "completedAt") &&
          ax_is_str(first, "status") && ax_is_str(first, "type") && ax_is_str(first, "direction") &&
          ax_is_obj(first, "statistics") && ax_is_str(first, "duration") && json_object_get(first, "triggeredBy"));
    CHECK_EQ_STR(json_string_value(json_object_get(first, "duration")), "2m 15s");
    CHECK_EQ_STR(json_string_value(json_object_get(first, "triggeredBy")), "scheduled_sync");
    const json_t *st = json_object_get(first, "statistics");
    CHECK(ax_is_int(st, "eventsProcessed") && ax_is_int(st, "eventsCreated") && ax_is_int(st, "eventsUpdated") &&
          ax_is_int(st, "eventsDeleted") && ax_is_int(st, "errors"));
    CHECK_EQ_STR(json_string_value(json_object_get(second, "status")), "partial");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(second, "errors"), 0), "code")),
                 "PERMISSION_DENIED");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(second, "triggeredBy"), "name")), "Marie Dubois");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?status=partial&limit=1", id);
    CHECK_EQ_INT(ax_call("GET", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(ax_data(&r)), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "meta"), "totalPages")), 1);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?limit=1&page=2", id);
    CHECK_EQ_INT(ax_call("GET", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "meta"), "totalPages")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(ax_data(&r), 0), "status")), "partial");
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?startDate=2024-03-15T12:00:00Z&endDate=2024-03-16", id);
    CHECK_EQ_INT(ax_call("GET", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_INT(json_array_size(ax_data(&r)), 1);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?limit=0", id);
    ax_call("GET", path, ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history?startDate=yesterday-ish", id);
    ax_call("GET", path, ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 400, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/history", id);
    ax_call("GET", path, ax_other_admin, NULL, &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

/* ---- POST /integrations/:id/sync and GET .../sync/:syncId/status ---- */

static void sync_queues_a_run_for_the_worker(void)
{
    char id[64], slack[64];
    REQUIRE(ax_make_integration("google_calendar", "calendar", ax_org, id) == 0);
    REQUIRE(ax_make_integration("slack", "chat", ax_org, slack) == 0);
    char path[256];
    bl_test_reply r;
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    CHECK_EQ_INT(ax_call("POST", path, ax_manager,
                      "{\"direction\":\"bidirectional\",\"scope\":\"all\",\"options\":{\"forceUpdate\":false,"
                      "\"dryRun\":false,\"dateRange\":{\"start\":\"2024-03-01T00:00:00Z\","
                      "\"end\":\"2024-03-31T23:59:59Z\"}}}",
                      &r),
                 202);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_str(d, "syncId") && ax_is_str(d, "startedAt") && json_object_get(d, "estimatedDuration") &&
          ax_is_str(d, "statusUrl"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "started");
    char run[64], url[512];
    snprintf(run, sizeof run, "%s", json_string_value(json_object_get(d, "syncId")));
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(d, "statusUrl")));
    char want[512];
    snprintf(want, sizeof want, BASE "/%s/sync/%s/status", id, run);
    CHECK_EQ_STR(url, want);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integration_sync_runs WHERE id::text = $1 AND status = 'queued'"
                          " AND type = 'manual' AND scope = 'all' AND NOT force_update AND NOT dry_run"
                          " AND range_from = '2024-03-01T00:00:00Z' AND triggered_by->>'userId' IS NOT NULL", run), 1);
    /* one run at a time */
    ax_call("POST", path, ax_manager, "{\"direction\":\"bidirectional\",\"scope\":\"all\",\"options\":{\"forceUpdate\":true}}",
         &r);
    CHECK(ax_fails_with(&r, 409, "CONFLICT"));
    bl_test_reply_clear(&r);
    /* its status, as queued and once the worker ended it */
    CHECK_EQ_INT(ax_call("GET", url, ax_manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(ax_data(&r), "status")), "queued");
    CHECK(json_is_false(json_object_get(ax_data(&r), "completed")));
    bl_test_reply_clear(&r);
    REQUIRE(ax_end_run(id, "success", "{\"eventsProcessed\":3,\"eventsCreated\":3,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    CHECK_EQ_INT(ax_call("GET", url, ax_manager, NULL, &r), 200);
    d = ax_data(&r);
    CHECK(ax_is_str(d, "syncId") && ax_is_str(d, "startedAt") && ax_is_str(d, "completedAt") && ax_is_obj(d, "statistics") &&
          ax_is_str(d, "duration") && ax_is_arr(d, "errors"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "success");
    CHECK(json_is_true(json_object_get(d, "completed")));
    bl_test_reply_clear(&r);
    /* the next estimate comes from that run */
    CHECK_EQ_INT(ax_call("POST", path, ax_manager, "{\"direction\":\"bidirectional\",\"scope\":\"all\","
                                             "\"options\":{\"forceUpdate\":true}}", &r), 202);
    CHECK_EQ_STR(json_string_value(json_object_get(ax_data(&r), "estimatedDuration")), "2 seconds");
    bl_test_reply_clear(&r);
    /* the statusUrl follows the configured prefix */
    REQUIRE(ax_end_run(id, "success", "{\"eventsProcessed\":0,\"eventsCreated\":0,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    snprintf(path, sizeof path, "/ax/v2/integrations/%s/sync", id);
    CHECK_EQ_INT(ax_call_on(ax_srv_moved, "POST", path, ax_manager, "{}", &r), 202);
    const char *moved = json_string_value(json_object_get(ax_data(&r), "statusUrl"));
    CHECK(moved && strncmp(moved, "/ax/v2/integrations/", 20) == 0);
    bl_test_reply clone;
    CHECK_EQ_INT(moved ? ax_call_on(ax_srv_moved, "GET", moved, ax_manager, NULL, &clone) : 0, 200);
    bl_test_reply_clear(&clone);
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    /* bad bodies, a provider with nothing to sync, a disconnected one, an unknown one */
    ax_call("POST", path, ax_manager, "{\"direction\":\"sideways\",\"options\":{\"dryRun\":\"yes\",\"dateRange\":"
                                "{\"start\":\"2024-03-01T00:00:00Z\"}},\"extra\":1}", &r);
    CHECK(ax_fails_with(&r, 422, "VALIDATION_ERROR"));
    CHECK(ax_detail(&r, "direction") && ax_detail(&r, "options.dryRun") && ax_detail(&r, "options.dateRange.end") &&
          ax_detail(&r, "extra"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", slack);
    ax_call("POST", path, ax_manager, "{}", &r);
    CHECK(ax_fails_with(&r, 400, "PROVIDER_NOT_SUPPORTED"));
    bl_test_reply_clear(&r);
    char off[64];
    REQUIRE(ax_make_integration("google_calendar", "calendar", ax_org, off) == 0);
    const char *op[] = {off};
    REQUIRE(bl_test_sql(ax_pool, "UPDATE integrations SET status = 'error' WHERE id = $1", 1, op) == 0);
    snprintf(path, sizeof path, BASE "/%s/sync", off);
    ax_call("POST", path, ax_manager, "{\"direction\":\"bidirectional\"}", &r);
    CHECK(ax_fails_with(&r, 409, "SYNC_FAILED"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync", "00000000-0000-0000-0000-000000000000");
    ax_call("POST", path, ax_manager, "{}", &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    snprintf(path, sizeof path, BASE "/%s/sync/%s/status", id, "00000000-0000-0000-0000-000000000000");
    ax_call("GET", path, ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
    ax_call("GET", url, ax_other_admin, NULL, &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

/* ---- DELETE /integrations/:id ---- */

typedef struct worker_play {
    char id[64];
    int removed;
} worker_play;

/* The worker's part: the queued cleanup run is claimed, the integration's
 * calendar copies are marked removed, and the run ends with that count. */
static void *play_cleanup_worker(void *arg)
{
    worker_play *w = arg;
    for (int i = 0; i < 600; i++) {
        if (ax_sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                     " AND type = 'cleanup' AND status = 'queued'", w->id) == 1)
            break;
        struct timespec t = {0, 20 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    const char *p[] = {w->id};
    char n[16] = "";
    bl_test_sql_value(ax_pool, "WITH gone AS (UPDATE integration_event_links SET removed_at = now()"
                            " WHERE integration_id::text = $1 AND removed_at IS NULL RETURNING 1)"
                            " SELECT count(*) FROM gone", 1, p, n, sizeof n);
    w->removed = atoi(n);
    const char *q[] = {w->id, n};
    bl_test_sql(ax_pool, "UPDATE integration_sync_runs SET status = 'success', finished_at = now(), duration_ms = 10,"
                      " statistics = jsonb_build_object('eventsProcessed', $2::int, 'eventsCreated', 0,"
                      " 'eventsUpdated', 0, 'eventsDeleted', $2::int, 'errors', 0)"
                      " WHERE integration_id::text = $1 AND type = 'cleanup' AND status = 'queued'", 2, q);
    return NULL;
}

static void delete_removes_copies_then_revokes(void)
{
    char id[64], path[256];
    REQUIRE(ax_connect_google(id, NULL) == 0);
    const char *p[] = {id};
    /* the initial sync waits for a worker: the disconnect cancels it */
    REQUIRE(bl_test_sql(ax_pool, "INSERT INTO integration_event_links (integration_id, organization_id, event_id,"
                              " calendar_id, external_id) SELECT id, organization_id, e, 'primary', 'g-' || e"
                              " FROM integrations, (VALUES ('ev-1'), ('ev-2')) v(e) WHERE id = $1", 1, p) == 0);
    int revokes = ax_fake.revokes;
    worker_play w = {0};
    snprintf(w.id, sizeof w.id, "%s", id);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, play_cleanup_worker, &w) == 0);
    snprintf(path, sizeof path, BASE "/%s", id);
    bl_test_reply r;
    long st = ax_call("DELETE", path, ax_manager, NULL, &r);
    pthread_join(t, NULL);
    CHECK_EQ_INT(st, 200);
    const json_t *d = ax_data(&r);
    CHECK(ax_enveloped(&r) && ax_is_str(d, "disconnectedAt") && ax_is_obj(d, "cleanupStatus"));
    CHECK_EQ_STR(json_string_value(json_object_get(d, "integrationId")), id);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "disconnected");
    const json_t *c = json_object_get(d, "cleanupStatus");
    CHECK(ax_is_int(c, "eventsRemoved") && json_object_get(c, "webhooksDisabled") && ax_is_bool(c, "tokensRevoked"));
    CHECK_EQ_INT(json_integer_value(json_object_get(c, "eventsRemoved")), 2);
    CHECK_EQ_INT(w.removed, 2);
    CHECK(json_is_true(json_object_get(c, "tokensRevoked")));
    CHECK(json_is_null(json_object_get(c, "webhooksDisabled"))); /* nobody counted any */
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_fake.revokes, revokes + 1);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'"
                          " AND access_token_ciphertext IS NULL AND refresh_token_ciphertext IS NULL"
                          " AND NOT auto_sync AND disconnected_at IS NOT NULL", id), 1);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integration_sync_runs WHERE integration_id::text = $1"
                          " AND triggered_by = '\"initial_sync\"' AND status = 'error'", id), 1);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM busline_outbox WHERE event_type = 'integration.disconnected'"
                          " AND aggregate_id = $1", id), 1);
    /* listed as disconnected; a repeated DELETE answers the same */
    CHECK_EQ_INT(ax_call("GET", BASE "?status=disconnected", ax_manager, NULL, &r), 200);
    CHECK(strstr(r.body, id) != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_call("DELETE", path, ax_manager, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(ax_data(&r), "cleanupStatus"), "eventsRemoved")),
                 2);
    bl_test_reply_clear(&r);
    ax_call("DELETE", BASE "/00000000-0000-0000-0000-000000000000", ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 404, "INTEGRATION_NOT_FOUND"));
    bl_test_reply_clear(&r);
}

static void delete_past_the_bound_answers_202_and_finishes_on_status(void)
{
    char id[64], path[256];
    REQUIRE(ax_connect_google(id, NULL) == 0);
    int revokes = ax_fake.revokes;
    snprintf(path, sizeof path, BASE "/%s", id);
    bl_test_reply r;
    CHECK_EQ_INT(ax_call_on(ax_srv_nowait, "DELETE", path, ax_manager, NULL, &r), 202);
    const json_t *d = ax_data(&r);
    CHECK_EQ_STR(json_string_value(json_object_get(d, "status")), "disconnecting");
    CHECK(ax_is_str(d, "statusUrl") && ax_is_obj(d, "cleanupRun"));
    char url[512];
    snprintf(url, sizeof url, "%s", json_string_value(json_object_get(d, "statusUrl")));
    CHECK(json_is_null(json_object_get(json_object_get(d, "cleanupStatus"), "eventsRemoved")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_fake.revokes, revokes); /* the copies are not removed yet: the tokens still work */
    /* a sync is refused while the cleanup waits */
    snprintf(path, sizeof path, BASE "/%s/sync", id);
    ax_call_on(ax_srv_nowait, "POST", path, ax_manager, "{}", &r);
    CHECK(ax_fails_with(&r, 409, "CONFLICT"));
    bl_test_reply_clear(&r);
    REQUIRE(ax_end_run(id, "success", "{\"eventsProcessed\":0,\"eventsCreated\":0,\"eventsUpdated\":0,"
                                   "\"eventsDeleted\":0,\"errors\":0}") == 0);
    CHECK_EQ_INT(ax_call_on(ax_srv_nowait, "GET", url, ax_manager, NULL, &r), 200);
    CHECK_EQ_STR(json_string_value(json_object_get(ax_data(&r), "type")), "cleanup");
    CHECK(json_is_true(json_object_get(json_object_get(ax_data(&r), "statistics"), "tokensRevoked")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(ax_fake.revokes, revokes + 1);
    CHECK_EQ_INT(ax_sql_long("SELECT count(*) FROM integrations WHERE id::text = $1 AND status = 'disconnected'", id), 1);
    /* a running sync holds a disconnect back */
    char busy[64];
    REQUIRE(ax_make_integration("google_calendar", "calendar", ax_org, busy) == 0);
    const char *bp[] = {busy};
    REQUIRE(bl_test_sql(ax_pool, "INSERT INTO integration_sync_runs (integration_id, status, type, direction)"
                              " VALUES ($1, 'running', 'manual', 'bidirectional')", 1, bp) == 0);
    snprintf(path, sizeof path, BASE "/%s", busy);
    ax_call_on(ax_srv_nowait, "DELETE", path, ax_manager, NULL, &r);
    CHECK(ax_fails_with(&r, 409, "SYNC_FAILED"));
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (ax_setup() == 0) {
        BL_RUN(history_lists_runs_with_filters_and_meta);
        BL_RUN(sync_queues_a_run_for_the_worker);
        BL_RUN(delete_removes_copies_then_revokes);
        BL_RUN(delete_past_the_bound_answers_202_and_finishes_on_status);
    } else {
        bl_test_failures++;
    }
    ax_teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
