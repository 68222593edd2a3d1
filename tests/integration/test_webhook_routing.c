/* Which endpoints get which events, end to end: exact types and wildcards,
 * conditions on the payload, other organizations and disabled endpoints get
 * nothing, a rotated endpoint gets two signatures that both verify, an
 * endpoint whose URL points at a non-allow-listed address is refused by the
 * SSRF guard (never connected to) and dead-lettered with the reason, and a
 * dead letter replayed with `dlq replay` is delivered. */
#include "consumers/dlq.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EVENTS 3

static atomic_int reject_replayable = 1;

/* /replay answers 400 until the test lets it through. */
static void behave(size_t n, const char *path, const char *id, int *status, int *retry_after_s, int *sleep_ms,
                   void *user)
{
    (void)n, (void)id, (void)retry_after_s, (void)sleep_ms, (void)user;
    if (strcmp(path, "/replay") == 0 && atomic_load(&reject_replayable))
        *status = 400;
}

static void only_reason_1(bl_webhook_spec *spec, void *user)
{
    (void)user;
    static json_t *conds;
    if (!conds)
        conds = json_pack("[{s:s, s:s, s:s}]", "field", "data.reason", "operator", "equals", "value", "r-1");
    spec->conditions = conds;
}

static size_t hits(webhook_sink *s, const char *path, size_t *ok)
{
    sink_hit h[64];
    size_t n = webhook_sink_hits_to(s, path, h, 64);
    *ok = 0;
    for (size_t i = 0; i < n; i++)
        *ok += h[i].status / 100 == 2;
    return n;
}

typedef struct path_count {
    const char *path;
    size_t n;
} path_count;

static int path_has(webhook_sink *s, void *user)
{
    path_count *pc = user;
    size_t ok;
    return hits(s, pc->path, &ok) >= pc->n;
}

typedef struct dead {
    size_t n;
    char error[BL_RETRY_ERROR_MAX];
} dead;

static void count_dead(const bl_dlq_entry *e, void *user)
{
    dead *d = user;
    d->n++;
    if (e->headers)
        snprintf(d->error, sizeof d->error, "%s", e->headers->error);
}

static long dead_letters(wh_e2e *e, const char *key, dead *d)
{
    memset(d, 0, sizeof *d);
    bl_err err = {0};
    bl_dlq_opts o = {.brokers = bl_test_kafka_brokers(), .connector = e->prefix, .key = key, .timeout_ms = 20000};
    long n = bl_dlq_list(&o, count_dead, d, &err);
    if (n < 0)
        fprintf(stderr, "  dlq list: %s\n", err.msg);
    return n;
}

/* Both secrets verify the one webhook-signature header of a hit. */
static void both_signatures_verify(webhook_sink *s, const char *old_secret, const char *new_secret)
{
    sink_hit h;
    REQUIRE(webhook_sink_hits_to(s, "/rotated", &h, 1) == 1);
    CHECK(strchr(h.signature, ' ') != NULL); /* two entries */
    const char *secrets[] = {old_secret, new_secret};
    for (int i = 0; i < 2; i++) {
        char args[1024], out[64];
        snprintf(args, sizeof args, "v1 %s %s %s '%s'", secrets[i], h.id, h.timestamp, h.signature);
        wh_python_verify(args, h.body, out, sizeof out);
        CHECK_EQ_STR(out, "ok");
    }
}

static void events_reach_exactly_the_matching_endpoints(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, behave, NULL) == 0);
    bl_webhook_store *wide_store = NULL;
    wh_e2e e = {0};
    char *ids[9] = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[9][128];
    static const char *const paths[] = {"/exact", "/wild", "/other-type", "/cond", "/disabled",
                                        "/rotated", "/other-org", "/replay"};
    for (int i = 0; i < 8; i++)
        webhook_sink_url(&sink, paths[i], url[i], sizeof url[i]);
    char old_secret[BL_WEBHOOK_SECRET_TEXT_MAX], new_secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    ids[0] = wh_e2e_endpoint(&e, "org-r", url[0], "webhook.disabled", NULL, NULL, NULL);
    ids[1] = wh_e2e_endpoint(&e, "org-r", url[1], "webhook.*", NULL, NULL, NULL);
    ids[2] = wh_e2e_endpoint(&e, "org-r", url[2], "risk.*", NULL, NULL, NULL);
    ids[3] = wh_e2e_endpoint(&e, "org-r", url[3], "webhook.*", only_reason_1, NULL, NULL);
    ids[4] = wh_e2e_endpoint(&e, "org-r", url[4], "webhook.*", NULL, NULL, NULL);
    ids[5] = wh_e2e_endpoint(&e, "org-r", url[5], "webhook.*", NULL, NULL, old_secret);
    ids[6] = wh_e2e_endpoint(&e, "org-other", url[6], "webhook.*", NULL, NULL, NULL);
    ids[7] = wh_e2e_endpoint(&e, "org-r", url[7], "webhook.*", NULL, NULL, NULL);
    /* saved while 10.0.0.0/8 was allowed; the worker's guard allows only loopback */
    bl_ssrf_allowlist wide;
    bl_err err = {0};
    REQUIRE(bl_ssrf_allowlist_parse("127.0.0.0/8,10.0.0.0/8", &wide, &err) == 0);
    bl_webhook_store_opts so = {.pool = e.f.pool, .keyring = e.f.keyring, .allow = &wide};
    REQUIRE((wide_store = bl_webhook_store_new(&so, &err)) != NULL);
    const char *types[] = {"webhook.*"};
    bl_webhook_spec spec = bl_webhook_test_spec("private", types, 1);
    spec.url = "http://10.0.0.1:9/never-connected";
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *priv = bl_webhook_store_create(wide_store, "org-r", &spec, secret, sizeof secret, &err);
    REQUIRE(priv != NULL);
    ids[8] = strdup(priv->id);
    bl_webhook_endpoint_free(priv);
    for (int i = 0; i < 9; i++)
        REQUIRE(ids[i] != NULL);
    REQUIRE(bl_webhook_store_rotate(e.store, ids[5], 3600 * 1000, new_secret, sizeof new_secret, &err) == 0);
    /* through the store without events: e.store would also publish a
     * webhook.disabled event of org-r, which these endpoints match */
    REQUIRE(bl_webhook_store_disable(wide_store, ids[4], "test: off", &err) == 0);
    REQUIRE(wh_e2e_wait_cache(&e, 8) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-r", "ep-r", EVENTS, "r-") == 0);

    path_count want_wild = {"/wild", EVENTS}, want_replay = {"/replay", EVENTS};
    CHECK(webhook_sink_wait(&sink, path_has, &want_wild, 30000));
    CHECK(webhook_sink_wait(&sink, path_has, &want_replay, 30000));
    dead priv_dead, replay_dead;
    for (int i = 0; i < 100 && dead_letters(&e, ids[8], &priv_dead) < EVENTS; i++)
        usleep(100 * 1000);
    for (int i = 0; i < 100 && dead_letters(&e, ids[7], &replay_dead) < EVENTS; i++)
        usleep(100 * 1000);
    usleep(1000 * 1000); /* stragglers to the wrong endpoints would have come by now */
    size_t ok;
    CHECK_EQ_INT((long)hits(&sink, "/exact", &ok), EVENTS);
    CHECK_EQ_INT((long)hits(&sink, "/wild", &ok), EVENTS);
    CHECK_EQ_INT((long)hits(&sink, "/other-type", &ok), 0);
    CHECK_EQ_INT((long)hits(&sink, "/cond", &ok), 1);
    sink_hit cond;
    if (webhook_sink_hits_to(&sink, "/cond", &cond, 1) == 1)
        CHECK(strstr(cond.body, "\"reason\":\"r-1\"") != NULL);
    CHECK_EQ_INT((long)hits(&sink, "/disabled", &ok), 0);
    CHECK_EQ_INT((long)hits(&sink, "/other-org", &ok), 0);
    CHECK_EQ_INT((long)hits(&sink, "/rotated", &ok), EVENTS);
    both_signatures_verify(&sink, old_secret, new_secret);

    /* the SSRF refusal: dead-lettered with the reason, nothing connected */
    CHECK_EQ_INT((long)priv_dead.n, EVENTS);
    printf("  dead letter of the private address: %s\n", priv_dead.error);
    CHECK(strstr(priv_dead.error, "10.0.0.1") != NULL || strstr(priv_dead.error, "allow") != NULL);
    bl_webhook_deliver_stats st;
    bl_webhook_deliver_stats_get(e.deliver, &st);
    CHECK(st.dead_lettered >= 2 * EVENTS);

    /* the 4xx'd ones: dead-lettered, then replayed and delivered */
    CHECK_EQ_INT((long)replay_dead.n, EVENTS);
    CHECK_EQ_INT((long)hits(&sink, "/replay", &ok), EVENTS);
    CHECK_EQ_INT((long)ok, 0);
    atomic_store(&reject_replayable, 0);
    bl_dlq_opts o = {.brokers = bl_test_kafka_brokers(), .connector = e.prefix, .key = ids[7], .timeout_ms = 20000};
    size_t skipped = 0;
    CHECK_EQ_INT(bl_dlq_replay(&o, &skipped, &err), EVENTS);
    CHECK_EQ_INT((long)skipped, 0);
    path_count want_replayed = {"/replay", 2 * EVENTS};
    CHECK(webhook_sink_wait(&sink, path_has, &want_replayed, 30000));
    hits(&sink, "/replay", &ok);
    CHECK_EQ_INT((long)ok, EVENTS);
    CHECK_EQ_INT((long)hits(&sink, "/other-type", &ok), 0); /* the replay went to its endpoint only */
done:
    bl_webhook_store_free(wide_store);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
    for (int i = 0; i < 9; i++)
        free(ids[i]);
}

int main(void)
{
    BL_RUN(events_reach_exactly_the_matching_endpoints);
    return bl_test_summary();
}
