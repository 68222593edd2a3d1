/* The Powalyze document's retry logic (§13) end to end, with endpoints set
 * from /v1 bodies (the same reader as POST /v1/webhooks): retry_count 3 is
 * the first attempt and three retries, at 1, 2 and 4 s (each with the
 * policy's +-20 % jitter), on 5xx and on a timeout of timeout_seconds; a 4xx
 * is never retried. Checked by attempt count and order, the attempt numbers
 * in the delivery log, one webhook-id throughout, and gaps that grow (no
 * wall-clock threshold). */
#include "api/routes/webhook_api.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /failing answers 503, /wrong 404, /slow sleeps past a 1 s timeout. */
static void behave(size_t n, const char *path, const char *id, int *status, int *retry_after_s, int *sleep_ms,
                   void *user)
{
    (void)n, (void)id, (void)retry_after_s, (void)user;
    if (strcmp(path, "/failing") == 0)
        *status = 503;
    else if (strcmp(path, "/wrong") == 0)
        *status = 404;
    else if (strcmp(path, "/slow") == 0)
        *sleep_ms = 2500;
}

/* The settings of a /v1 body onto spec (name, url and types stay the fixture's). */
static void from_v1_body(bl_webhook_spec *spec, void *user)
{
    json_t *body = json_loads(user, 0, NULL);
    bl_api_webhook_spec_buf buf;
    json_t *errors = json_object();
    if (!body || !errors || bl_api_webhook_spec_read(body, NULL, &buf, errors) != 0) {
        fprintf(stderr, "  body refused: %s\n", (const char *)user);
        bl_test_failures++;
    } else {
        spec->max_attempts = buf.spec.max_attempts;
        spec->backoff_base_ms = buf.spec.backoff_base_ms;
        spec->timeout_ms = buf.spec.timeout_ms;
        spec->hmac_header = BL_API_WEBHOOK_HMAC_HEADER_DEFAULT;
    }
    json_decref(errors);
    json_decref(body);
}

static uint64_t dead_lettered(wh_e2e *e)
{
    bl_webhook_deliver_stats s;
    bl_webhook_deliver_stats_get(e->deliver, &s);
    return s.dead_lettered;
}

/* The attempt numbers logged for endpoint id, in delivery order, as "1,2,3". */
static void logged_attempts(wh_e2e *e, const char *id, char *out, size_t len)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT string_agg(attempt::text, ',' ORDER BY delivered_at, id) FROM webhook_deliveries"
             " WHERE endpoint_id = '%s'",
             id);
    out[0] = '\0';
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(e->f.pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn, sql, 0, NULL, &err) : NULL;
    if (r && PQntuples(r) == 1)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_pg_pool_release(e->f.pool, conn);
}

/* Attempts logged for endpoint id whose payload is body, whole and sized. */
static long logged_with_payload(wh_e2e *e, const char *id, const char *body, size_t len)
{
    char text[8192], size[24];
    snprintf(text, sizeof text, "%.*s", (int)len, body);
    snprintf(size, sizeof size, "%zu", len);
    const char *params[] = {id, text, size};
    bl_err err = {0};
    long n = -1;
    PGconn *conn = bl_pg_pool_acquire(e->f.pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn,
                                    "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1"
                                    " AND payload_excerpt = $2 AND payload_bytes = $3::integer",
                                    3, params, &err)
                       : NULL;
    if (r && PQntuples(r) == 1)
        n = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_pg_pool_release(e->f.pool, conn);
    return n;
}

static void retry_count_means_retries_after_the_first_attempt(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, behave, NULL) == 0);
    wh_e2e e = {0};
    e.tier_spec = "1s,5s";
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[3][128];
    webhook_sink_url(&sink, "/failing", url[0], sizeof url[0]);
    webhook_sink_url(&sink, "/wrong", url[1], sizeof url[1]);
    webhook_sink_url(&sink, "/slow", url[2], sizeof url[2]);
    /* the document's defaults (retry_count 3, timeout 10 s), said out loud once */
    char *failing = wh_e2e_endpoint(&e, "org-r", url[0], "webhook.*", from_v1_body,
                                    "{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"events\":[\"webhook.*\"],\"retry_count\":3,\"timeout_seconds\":10}", NULL);
    char *wrong = wh_e2e_endpoint(&e, "org-r", url[1], "webhook.*", from_v1_body, "{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"events\":[\"webhook.*\"]}", NULL);
    char *slow = wh_e2e_endpoint(&e, "org-r", url[2], "webhook.*", from_v1_body,
                                 "{\"name\":\"n\",\"url\":\"http://127.0.0.1/x\",\"events\":[\"webhook.*\"],\"retry_count\":1,\"timeout_seconds\":1}", NULL);
    REQUIRE(failing && wrong && slow);
    REQUIRE(wh_e2e_wait_cache(&e, 3) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-r", "ep-r", 1, "retry-") == 0);
    /* all three give up in the end: 503 after 4 attempts, 404 at once, the timeout after 2 */
    for (int i = 0; i < 600 && dead_lettered(&e) < 3; i++)
        usleep(50 * 1000);
    CHECK_EQ_INT((long)dead_lettered(&e), 3);
    bl_err err = {0};
    CHECK(bl_delivery_log_flush(e.log, 5000, &err) == 0);

    sink_hit hits[16];
    size_t n = webhook_sink_hits_to(&sink, "/failing", hits, 16);
    CHECK_EQ_INT((long)n, 4);
    for (size_t i = 1; i < n; i++)
        CHECK_EQ_STR(hits[i].id, hits[0].id);
    /* 1 s, 2 s, 4 s apart (with jitter, each band above the last) */
    if (n == 4) {
        int64_t g1 = hits[1].at_ms - hits[0].at_ms, g2 = hits[2].at_ms - hits[1].at_ms,
                g3 = hits[3].at_ms - hits[2].at_ms;
        printf("  retries after %lld, %lld, %lld ms\n", (long long)g1, (long long)g2, (long long)g3);
        CHECK(g1 < g2 && g2 < g3);
    }
    char attempts[64];
    logged_attempts(&e, failing, attempts, sizeof attempts);
    CHECK_EQ_STR(attempts, "1,2,3,4");
    /* each attempt logs the body it sent (the /v1 logs' payload) */
    if (n > 0)
        CHECK_EQ_INT(logged_with_payload(&e, failing, hits[0].body, hits[0].body_len), 4);

    CHECK_EQ_INT((long)webhook_sink_hits_to(&sink, "/wrong", hits, 16), 1);
    logged_attempts(&e, wrong, attempts, sizeof attempts);
    CHECK_EQ_STR(attempts, "1");

    CHECK_EQ_INT((long)webhook_sink_hits_to(&sink, "/slow", hits, 16), 2);
    logged_attempts(&e, slow, attempts, sizeof attempts);
    CHECK_EQ_STR(attempts, "1,2");
    free(failing);
    free(wrong);
    free(slow);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(retry_count_means_retries_after_the_first_attempt);
    return bl_test_summary();
}
