/* Operational events end to end (store, outbox, relay, real broker, fan-out,
 * delivery worker): an organization's operations endpoint subscribed to
 * endpoint.* and message.attempt.* gets endpoint.created for each endpoint,
 * message.attempt.failing once when a delivery to a failing endpoint has
 * failed its third attempt, message.attempt.exhausted when it goes to the
 * dead letters, and endpoint.deleted; deliveries of message.attempt.* events
 * that fail themselves raise no further such events. */
#include "connectors/webhook/store/ops_events.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORG "org-ops"

/* /failing and /failing-ops always answer 500; /ops takes everything. */
static void behave(size_t n, const char *path, const char *id, int *status, int *retry_after_s, int *sleep_ms,
                   void *user)
{
    (void)n, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    *status = strncmp(path, "/failing", 8) == 0 ? 500 : 200;
}

static const char *const ops_types[] = {"endpoint.*", "message.attempt.*"};

static void ops_patterns(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->event_types = ops_types;
    spec->event_type_count = 2;
}

/* four attempts, quickly */
static void four_attempts(bl_webhook_spec *spec, void *user)
{
    if (user)
        ops_patterns(spec, NULL);
    spec->max_attempts = 4;
    spec->backoff_base_ms = 200;
}

/* The events of type that reached path with a 200 (about endpoint_id when
 * not NULL), their bodies parsed into out (up to cap, caller decrefs). */
static size_t bodies_of(webhook_sink *s, const char *path, const char *type, const char *endpoint_id, json_t **out,
                        size_t cap)
{
    static sink_hit hits[512];
    size_t n = webhook_sink_hits_to(s, path, hits, 512), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (hits[i].status != 200)
            continue;
        json_t *b = json_loadb(hits[i].body, hits[i].body_len, 0, NULL);
        const char *about = json_string_value(json_object_get(json_object_get(b, "data"), "endpoint_id"));
        if (b && strcmp(json_string_value(json_object_get(b, "event")), type) == 0 &&
            (!endpoint_id || (about && strcmp(about, endpoint_id) == 0)) && k < cap)
            out[k++] = b;
        else
            json_decref(b);
    }
    return k;
}

static size_t count_of(webhook_sink *s, const char *path, const char *type, const char *endpoint_id)
{
    json_t *b[64];
    size_t n = bodies_of(s, path, type, endpoint_id, b, 64);
    for (size_t i = 0; i < n; i++)
        json_decref(b[i]);
    return n;
}

typedef struct want {
    const char *path, *type, *endpoint_id;
    size_t n;
} want;

static int arrived(webhook_sink *s, void *user)
{
    const want *w = user;
    return count_of(s, w->path, w->type, w->endpoint_id) >= w->n;
}

static void operations_endpoint_gets_lifecycle_and_attempt_events(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, behave, NULL) == 0);
    wh_e2e e = {0};
    char *ops = NULL, *failing = NULL, *failing_ops = NULL;
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url_ops[128], url_failing[128], url_failing_ops[128];
    webhook_sink_url(&sink, "/ops", url_ops, sizeof url_ops);
    webhook_sink_url(&sink, "/failing", url_failing, sizeof url_failing);
    webhook_sink_url(&sink, "/failing-ops", url_failing_ops, sizeof url_failing_ops);
    ops = wh_e2e_endpoint(&e, ORG, url_ops, "endpoint.*", ops_patterns, NULL, NULL);
    failing = wh_e2e_endpoint(&e, ORG, url_failing, "webhook.*", four_attempts, NULL, NULL);
    /* a second operations endpoint that fails: its failures must not feed more attempt events */
    failing_ops = wh_e2e_endpoint(&e, ORG, url_failing_ops, "endpoint.*", four_attempts, (void *)1, NULL);
    REQUIRE(ops && failing && failing_ops);
    REQUIRE(wh_e2e_wait_cache(&e, 3) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);

    want created = {"/ops", "endpoint.created", NULL, 3};
    CHECK(webhook_sink_wait(&sink, arrived, &created, 30000));
    json_t *b[8];
    size_t n = bodies_of(&sink, "/ops", "endpoint.created", NULL, b, 8);
    int saw_failing = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_object_get(b[i], "data");
        CHECK_EQ_STR(json_string_value(json_object_get(b[i], "organization_id")), ORG);
        if (strcmp(json_string_value(json_object_get(d, "endpoint_id")), failing) == 0) {
            saw_failing = 1;
            CHECK_EQ_STR(json_string_value(json_object_get(d, "url")), url_failing);
            CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(d, "event_types"), 0)), "webhook.*");
            CHECK(json_is_true(json_object_get(d, "is_active")));
        }
        json_decref(b[i]);
    }
    CHECK(saw_failing);

    /* one event to the failing endpoint: failing after attempt 3, exhausted after 4 */
    REQUIRE(wh_e2e_append(&e, ORG, "ep-x", 1, "ops-") == 0);
    want exhausted = {"/ops", "message.attempt.exhausted", failing, 1};
    CHECK(webhook_sink_wait(&sink, arrived, &exhausted, 90000));
    n = bodies_of(&sink, "/ops", "message.attempt.failing", failing, b, 8);
    CHECK_EQ_INT(n, 1);
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_object_get(b[i], "data");
        CHECK_EQ_STR(json_string_value(json_object_get(d, "endpoint_id")), failing);
        CHECK_EQ_STR(json_string_value(json_object_get(d, "event_type")), "webhook.disabled");
        CHECK_EQ_INT(json_integer_value(json_object_get(d, "attempts")), BL_WEBHOOK_FAILING_AFTER);
        CHECK_EQ_INT(json_integer_value(json_object_get(d, "status_code")), 500);
        json_decref(b[i]);
    }
    n = bodies_of(&sink, "/ops", "message.attempt.exhausted", failing, b, 8);
    CHECK_EQ_INT(n, 1);
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_object_get(b[i], "data");
        CHECK_EQ_STR(json_string_value(json_object_get(d, "endpoint_id")), failing);
        CHECK_EQ_INT(json_integer_value(json_object_get(d, "attempts")), 4);
        CHECK(strstr(json_string_value(json_object_get(d, "error")), "500") != NULL);
        json_decref(b[i]);
    }

    /* deleting an endpoint: endpoint.deleted */
    bl_err err = {0};
    CHECK(bl_webhook_store_delete(e.store, failing, &err) == 0);
    want deleted = {"/ops", "endpoint.deleted", failing, 1};
    CHECK(webhook_sink_wait(&sink, arrived, &deleted, 30000));

    /* The failing operations endpoint refuses everything 4 times: its 4
     * endpoint.* deliveries each raise one failing and one exhausted (to
     * both operations endpoints), its 10 message.attempt.* deliveries raise
     * nothing, so once its 14 x 4 attempts are spent the counts stay. */
    for (int i = 0; i < 1200 && webhook_sink_count_to(&sink, "/failing-ops") < 14 * 4; i++)
        usleep(100 * 1000);
    CHECK_EQ_INT(webhook_sink_count_to(&sink, "/failing-ops"), 14 * 4);
    sleep(3); /* what a further attempt event would take to arrive */
    CHECK_EQ_INT(count_of(&sink, "/ops", "message.attempt.failing", failing_ops), 4);
    CHECK_EQ_INT(count_of(&sink, "/ops", "message.attempt.exhausted", failing_ops), 4);
    CHECK_EQ_INT(count_of(&sink, "/ops", "message.attempt.failing", NULL), 5);
    CHECK_EQ_INT(count_of(&sink, "/ops", "message.attempt.exhausted", NULL), 5);
done:
    free(ops);
    free(failing);
    free(failing_ops);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

int main(void)
{
    BL_RUN(operations_endpoint_gets_lifecycle_and_attempt_events);
    return bl_test_summary();
}
