/* The delivery log against a real PostgreSQL: batched writes, records kept
 * exactly (escaping, excerpts), stats figures, and drops counted when full. */
#include "connectors/webhook/store/delivery_log.h"
#include "tests/support/test.h"
#include "tests/support/webhook_test.h"

static bl_webhook_fixture fx;

static bl_delivery_log *new_log(size_t capacity, size_t batch, int wait_ms)
{
    bl_delivery_log_opts o = {.pool = fx.pool, .queue_capacity = capacity, .batch_rows = batch,
                              .append_wait_ms = wait_ms};
    bl_err err = {0};
    bl_delivery_log *log = bl_delivery_log_new(&o, &err);
    if (!log)
        fprintf(stderr, "  log: %s\n", err.msg);
    return log;
}

static long rows_of(const char *endpoint_id)
{
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s'",
             endpoint_id);
    return bl_webhook_test_count(&fx, q);
}

static void ten_thousand_appends_are_written_in_few_batches(void)
{
    bl_delivery_log *log = new_log(0, 1000, 0);
    REQUIRE(log);
    char ep[64];
    bl_test_unique_name(ep, sizeof ep, "ep");
    bl_err err = {0};
    int failed = 0;
    for (int i = 0; i < 10000; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-%d", i);
        bl_delivery_record r = {.endpoint_id = ep, .organization_id = "org", .event_type = "risk.created",
                                .event_id = id, .topic = "events.pmo.risk", .partition = i % 3,
                                .offset = i, .status_code = 200, .succeeded = true,
                                .duration_ms = 5, .attempt = 1};
        failed += bl_delivery_log_append(log, &r, &err) != 0;
    }
    CHECK_EQ_INT(failed, 0);
    CHECK(bl_delivery_log_flush(log, 30000, &err) == 0);
    CHECK_EQ_INT(rows_of(ep), 10000);
    bl_delivery_log_stats st;
    bl_delivery_log_stats_get(log, &st);
    CHECK_EQ_INT(st.appended, 10000);
    CHECK_EQ_INT(st.written, 10000);
    CHECK_EQ_INT(st.dropped, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK(st.flushes >= 10 && st.flushes <= 100); /* at most 1000 rows a COPY, far fewer than rows */
    bl_delivery_log_free(log);
}

static void a_record_is_kept_exactly_with_its_excerpt_cut(void)
{
    bl_delivery_log *log = new_log(0, 0, 0);
    REQUIRE(log);
    char ep[64];
    bl_test_unique_name(ep, sizeof ep, "ep");
    static char body[6000];
    memset(body, 'b', sizeof body);
    memcpy(body, "tab\there\nnew\\line", 17);
    body[20] = '\0';             /* a NUL in a binary body */
    body[21] = (char)0xff;       /* not UTF-8 */
    bl_delivery_record r = {.endpoint_id = ep, .organization_id = "org", .event_type = "risk.created",
                            .event_id = "evt-1", .status_code = 503, .succeeded = false,
                            .response = body, .response_len = sizeof body,
                            .error = "server error (5xx)", .duration_ms = 1234, .attempt = 2,
                            .delivered_at_ms = 1764000000000LL};
    bl_err err = {0};
    REQUIRE(bl_delivery_log_append(log, &r, &err) == 0);
    bl_delivery_log_free(log); /* shutdown flushes */
    char q[512];
    snprintf(q, sizeof q,
             "SELECT octet_length(response_excerpt), status_code, attempt, duration_ms, "
             "(extract(epoch from delivered_at) * 1000)::bigint, payload_topic IS NULL, "
             "left(response_excerpt, 22), error FROM webhook_deliveries WHERE endpoint_id = '%s'", ep);
    PGresult *res = PQexec(fx.conn, q);
    REQUIRE(PQntuples(res) == 1);
    CHECK_EQ_INT(atol(PQgetvalue(res, 0, 0)), BL_DELIVERY_EXCERPT_MAX);
    CHECK_EQ_INT(atol(PQgetvalue(res, 0, 1)), 503);
    CHECK_EQ_INT(atol(PQgetvalue(res, 0, 2)), 2);
    CHECK_EQ_INT(atol(PQgetvalue(res, 0, 3)), 1234);
    CHECK_EQ_INT(atoll(PQgetvalue(res, 0, 4)), 1764000000000LL);
    CHECK_EQ_STR(PQgetvalue(res, 0, 5), "t");
    CHECK_EQ_STR(PQgetvalue(res, 0, 6), "tab\there\nnew\\linebbb??");
    CHECK_EQ_STR(PQgetvalue(res, 0, 7), "server error (5xx)");
    PQclear(res);
}

static void stats_are_exact_on_a_known_set(void)
{
    bl_delivery_log *log = new_log(0, 0, 0);
    REQUIRE(log);
    char ep[64];
    bl_test_unique_name(ep, sizeof ep, "ep");
    bl_err err = {0};
    /* 12 attempts: 9 succeeded (10 ms each), 3 failed (100 ms each), one per second. */
    for (int i = 0; i < 12; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-%02d", i);
        bool ok = i % 4 != 3;
        bl_delivery_record r = {.endpoint_id = ep, .organization_id = "org",
                                .event_type = "risk.created", .event_id = id,
                                .status_code = ok ? 200 : 500, .succeeded = ok,
                                .error = ok ? NULL : "server error (5xx)",
                                .duration_ms = ok ? 10 : 100, .attempt = ok ? 1 : 3,
                                .delivered_at_ms = 1764000000000LL + i * 1000};
        REQUIRE(bl_delivery_log_append(log, &r, &err) == 0);
    }
    REQUIRE(bl_delivery_log_flush(log, 10000, &err) == 0);
    bl_delivery_stats s;
    REQUIRE(bl_delivery_stats_get(fx.pool, ep, 0, &s, &err) == 0);
    CHECK_EQ_INT(s.total, 12);
    CHECK_EQ_INT(s.succeeded, 9);
    CHECK_EQ_INT(s.failed, 3);
    CHECK(s.success_rate == 0.75);
    CHECK(s.avg_duration_ms == 32.5);
    CHECK_EQ_INT(s.recent_count, 10);
    CHECK_EQ_STR(s.recent[0].event_id, "evt-11");
    CHECK(!s.recent[0].succeeded && s.recent[0].status_code == 500 && s.recent[0].attempt == 3);
    CHECK_EQ_STR(s.recent[0].error, "server error (5xx)");
    CHECK_EQ_STR(s.recent[9].event_id, "evt-02");
    CHECK_EQ_INT(s.recent[1].delivered_at_ms, 1764000000000LL + 10 * 1000);

    /* A window: the last 4 seconds' attempts only (evt-08 .. evt-11). */
    REQUIRE(bl_delivery_stats_get(fx.pool, ep, 1764000000000LL + 8000, &s, &err) == 0);
    CHECK_EQ_INT(s.total, 4);
    CHECK_EQ_INT(s.succeeded, 3);

    REQUIRE(bl_delivery_stats_get(fx.pool, "no-such-endpoint", 0, &s, &err) == 0);
    CHECK_EQ_INT(s.total, 0);
    CHECK(s.success_rate == 0);
    bl_delivery_log_free(log);
}

static void a_full_queue_drops_and_counts_instead_of_blocking(void)
{
    /* The pool's every connection is taken, so the writer cannot flush. */
    bl_err err = {0};
    PGconn *held[4];
    for (int i = 0; i < 4; i++)
        held[i] = bl_pg_pool_acquire(fx.pool, 1000, &err);
    bl_delivery_log *log = new_log(10, 10, 20);
    REQUIRE(log);
    char ep[64];
    bl_test_unique_name(ep, sizeof ep, "ep");
    int refused = 0;
    for (int i = 0; i < 40; i++) {
        char id[32];
        snprintf(id, sizeof id, "evt-%d", i);
        bl_delivery_record r = {.endpoint_id = ep, .organization_id = "org",
                                .event_type = "risk.created", .event_id = id,
                                .status_code = 200, .succeeded = true, .duration_ms = 1, .attempt = 1};
        if (bl_delivery_log_append(log, &r, &err) != 0) {
            refused++;
            CHECK_EQ_INT(err.code, BL_ETIMEOUT);
        }
    }
    bl_delivery_log_stats st;
    bl_delivery_log_stats_get(log, &st);
    CHECK(refused > 0);
    CHECK_EQ_INT(st.dropped, refused);
    CHECK_EQ_INT(st.appended + st.dropped, 40);
    for (int i = 0; i < 4; i++)
        bl_pg_pool_release(fx.pool, held[i]);
    CHECK(bl_delivery_log_flush(log, 20000, &err) == 0);
    CHECK_EQ_INT(rows_of(ep), st.appended);
    bl_delivery_record bad = {.endpoint_id = ep, .event_type = "x", .event_id = "y", .attempt = 1};
    CHECK(bl_delivery_log_append(log, &bad, &err) == -1);
    CHECK(strstr(err.msg, "organization_id") != NULL);
    bl_delivery_log_free(log);
}

int main(void)
{
    if (bl_webhook_fixture_open(&fx) != 0) {
        bl_webhook_fixture_close(&fx);
        return 1;
    }
    BL_RUN(ten_thousand_appends_are_written_in_few_batches);
    BL_RUN(a_record_is_kept_exactly_with_its_excerpt_cut);
    BL_RUN(stats_are_exact_on_a_known_set);
    BL_RUN(a_full_queue_drops_and_counts_instead_of_blocking);
    bl_webhook_fixture_close(&fx);
    return bl_test_summary();
}
