/* How the webhook fan-out's matching and the delivery worker's endpoint
 * lookup grow with the number of endpoints (1, 100, 10,000 by default), on
 * a fresh database and a real endpoint cache (connectors/webhook/store/
 * endpoint_cache.h):
 *   - match: bl_webhook_cache_match for an event of the organization that
 *     holds every endpoint, one of which takes it (the others subscribe to
 *     other types); each call is checked to return exactly that endpoint;
 *   - lookup: bl_webhook_cache_get of an endpoint by id, as the delivery
 *     worker does for every delivery; each result is checked;
 * and beside each, the reference of a scan over every endpoint of the
 * organization (the one rule bl_webhook_endpoint_matches on each, or a
 * strcmp per id), what the cache did before its index.
 *   bench_webhook_scale [counts..., default 1 100 10000] */
#include "connectors/webhook/store/endpoint_cache.h"
#include "connectors/webhook/store/endpoint_match.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "tests/support/test.h"
#include "tests/support/webhook_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORG "org-scale"
#define TYPE "webhook.disabled"
#define RUN_S 0.3

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Creates endpoints until the organization holds n: the first takes TYPE,
 * the others subscribe to types of their own. ids[i] gets each id. */
static int grow_to(bl_webhook_store *store, char (*ids)[BL_WEBHOOK_ID_MAX + 1], long have, long n)
{
    for (long i = have; i < n; i++) {
        char name[32], type[48];
        snprintf(name, sizeof name, "e%ld", i);
        snprintf(type, sizeof type, i == 0 ? TYPE : "bench.t%ld.created", i);
        const char *types[] = {type};
        bl_webhook_spec spec = bl_webhook_test_spec(name, types, 1);
        char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
        bl_err err = {0};
        bl_webhook_endpoint *e = bl_webhook_store_create(store, ORG, &spec, secret, sizeof secret, &err);
        if (!e) {
            fprintf(stderr, "create: %s\n", err.msg);
            return -1;
        }
        snprintf(ids[i], sizeof ids[i], "%s", e->id);
        bl_webhook_endpoint_free(e);
    }
    return 0;
}

typedef struct figures {
    double match_us, scan_us, get_us, get_scan_us;
    long bad; /* calls whose result was not the expected one */
} figures;

static figures measure(bl_webhook_cache *c, char (*ids)[BL_WEBHOOK_ID_MAX + 1], long n)
{
    figures f = {0};
    json_t *ev = json_pack("{s:s,s:{s:s}}", "type", TYPE, "data", "reason", "r");
    bl_webhook_snapshot **all = calloc((size_t)n, sizeof *all);
    for (long i = 0; all && i < n; i++)
        if (!(all[i] = bl_webhook_cache_get(c, ids[i])))
            f.bad++;
    bl_webhook_match_list l = {0};
    bl_err err = {0};
    long calls = 0;
    double t0 = mono_s(), t;
    do {
        for (int k = 0; k < 64; k++, calls++) {
            bl_webhook_match_list_clear(&l);
            if (bl_webhook_cache_match(c, ORG, TYPE, ev, &l, &err) != 1 || strcmp(l.items[0]->endpoint->id, ids[0]))
                f.bad++;
        }
    } while ((t = mono_s() - t0) < RUN_S);
    f.match_us = t * 1e6 / (double)calls;
    calls = 0;
    t0 = mono_s();
    do {
        long hits = 0;
        for (long i = 0; all && i < n; i++)
            hits += bl_webhook_endpoint_matches(all[i]->endpoint, all[i]->filter, ORG, TYPE, ev);
        f.bad += hits != 1;
        calls++;
    } while ((t = mono_s() - t0) < RUN_S);
    f.scan_us = t * 1e6 / (double)calls;
    calls = 0;
    t0 = mono_s();
    do {
        for (int k = 0; k < 64; k++, calls++) {
            const char *id = ids[(calls * 7919) % n];
            bl_webhook_snapshot *s = bl_webhook_cache_get(c, id);
            f.bad += !s || strcmp(s->endpoint->id, id) != 0;
            bl_webhook_snapshot_release(s);
        }
    } while ((t = mono_s() - t0) < RUN_S);
    f.get_us = t * 1e6 / (double)calls;
    calls = 0;
    t0 = mono_s();
    do {
        for (int k = 0; k < 64; k++, calls++) {
            const char *id = ids[(calls * 7919) % n];
            long found = -1;
            for (long i = 0; i < n && found < 0; i++)
                if (strcmp(ids[i], id) == 0)
                    found = i;
            f.bad += found < 0;
        }
    } while ((t = mono_s() - t0) < RUN_S);
    f.get_scan_us = t * 1e6 / (double)calls;
    bl_webhook_match_list_free(&l);
    for (long i = 0; all && i < n; i++)
        bl_webhook_snapshot_release(all[i]);
    free(all);
    json_decref(ev);
    return f;
}

static long wrong_results; /* lookups or matches that answered wrongly */

static void every_lookup_and_match_answered_right(void)
{
    CHECK_EQ_INT(wrong_results, 0);
}

int main(int argc, char **argv)
{
    long counts[8] = {1, 100, 10000};
    int n_counts = 3;
    if (argc > 1) {
        n_counts = 0;
        for (int i = 1; i < argc && n_counts < 8; i++)
            counts[n_counts++] = atol(argv[i]);
    }
    for (int i = 0; i < n_counts; i++)
        if (counts[i] < 1 || (i > 0 && counts[i] <= counts[i - 1])) {
            fprintf(stderr, "usage: bench_webhook_scale [increasing endpoint counts >= 1]\n");
            return 2;
        }
    bl_webhook_fixture fx = {0};
    int code = 1;
    char (*ids)[BL_WEBHOOK_ID_MAX + 1] = calloc((size_t)counts[n_counts - 1], sizeof *ids);
    bl_webhook_store *store = NULL;
    if (!ids || bl_webhook_fixture_open(&fx) != 0)
        goto done;
    bl_webhook_store_opts so = {.pool = fx.pool, .keyring = fx.keyring, .allow = &fx.allow};
    bl_err err = {0};
    if (!(store = bl_webhook_store_new(&so, &err))) {
        fprintf(stderr, "store: %s\n", err.msg);
        goto done;
    }
    printf("\nwebhook endpoints: fan-out matching and per-delivery lookup (one organization, one endpoint takes the event)\n");
    printf("%10s %14s %14s %14s %14s\n", "endpoints", "match us/ev", "scan us/ev", "lookup us", "scan lookup us");
    long have = 0, bad = 0;
    double first_match = 0, last_match = 0;
    for (int i = 0; i < n_counts; i++) {
        if (grow_to(store, ids, have, counts[i]) != 0)
            goto done;
        have = counts[i];
        bl_webhook_cache_opts co = {.conninfo = fx.pg_url, .keyring = fx.keyring};
        bl_webhook_cache *c = bl_webhook_cache_new(&co, &err);
        if (!c) {
            fprintf(stderr, "cache: %s\n", err.msg);
            goto done;
        }
        figures f = measure(c, ids, have);
        bl_webhook_cache_free(c);
        bad += f.bad;
        printf("%10ld %14.3f %14.3f %14.3f %14.3f\n", have, f.match_us, f.scan_us, f.get_us, f.get_scan_us);
        printf("scale endpoints=%ld match_us=%.3f scan_us=%.3f lookup_us=%.3f scan_lookup_us=%.3f\n", have,
               f.match_us, f.scan_us, f.get_us, f.get_scan_us);
        if (i == 0)
            first_match = f.match_us;
        last_match = f.match_us;
    }
    /* 1.0 is flat; a scan over every endpoint would grow with the count */
    printf("ratio webhook_match_growth_%ld_vs_%ld %.3f\n", counts[n_counts - 1], counts[0],
           first_match > 0 ? last_match / first_match : 0);
    if (bad > 0)
        fprintf(stderr, "bench: %ld lookups or matches gave a wrong result: the figures do not count\n", bad);
    wrong_results = bad;
    BL_RUN(every_lookup_and_match_answered_right);
    code = bl_test_summary();
done:
    bl_webhook_store_free(store);
    bl_webhook_fixture_close(&fx);
    free(ids);
    return code;
}
