/* In-process webhook path for tests (see webhook_e2e.h). */
#include "tests/support/webhook_e2e.h"

#include "tests/support/outbox_test.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *fetch_schema(void *ctx, int32_t id, bl_err *err)
{
    return bl_registry_store_schema_by_id(ctx, id, err);
}

static const char *const *all_topics(wh_e2e *e, size_t *n)
{
    static const char *names[7];
    names[0] = e->events_topic;
    names[1] = e->deliveries;
    names[2] = e->dlq;
    names[3] = e->tiers[0];
    names[4] = e->tiers[1];
    names[5] = e->ops_topics[0];
    names[6] = e->ops_topics[1];
    *n = 7;
    return names;
}

int wh_e2e_open(wh_e2e *e)
{
    bl_err err = {0};
    if (!e->f.pool && bl_webhook_fixture_open(&e->f) != 0) /* else attached by the caller */
        return -1;
    bl_test_unique_name(e->prefix, sizeof e->prefix, "wh");
    for (char *p = e->prefix; *p; p++)
        if (*p == '.')
            *p = '_';
    if (!e->tier_spec)
        e->tier_spec = "1s,5s";
    char pfx[80];
    snprintf(pfx, sizeof pfx, "%s.", e->prefix);
    if (!(e->events = bl_webhook_events_new(e->f.pool, NULL, pfx, &err)))
        goto fail;
    snprintf(e->events_topic, sizeof e->events_topic, "%s", bl_webhook_events_topic(e->events));
    for (size_t i = 0; i < 2; i++)
        snprintf(e->ops_topics[i], sizeof e->ops_topics[i], "%s", bl_webhook_events_entity_topic(e->events, i + 1));
    snprintf(e->deliveries, sizeof e->deliveries, "%s.deliveries", e->prefix);
    snprintf(e->dlq, sizeof e->dlq, "%s.dlq", e->prefix);
    bl_retry_tiers t;
    if (bl_retry_tiers_parse(&t, e->prefix, e->tier_spec, &err) != 0 || t.n != 2 ||
        bl_retry_tier_topic(&t, 0, e->tiers[0], sizeof e->tiers[0], &err) != 0 ||
        bl_retry_tier_topic(&t, 1, e->tiers[1], sizeof e->tiers[1], &err) != 0)
        goto fail;
    size_t n;
    const char *const *names = all_topics(e, &n);
    /* names[1] is the deliveries topic, which a test may want narrower */
    const char *others[6] = {names[0], names[2], names[3], names[4], names[5], names[6]};
    if (fixture_topics_create(others, n - 1, 3) != 0 ||
        fixture_topics_create(&names[1], 1, e->deliveries_partitions > 0 ? e->deliveries_partitions : 3) != 0) {
        bl_err_set(&err, BL_EKAFKA, "cannot create topics");
        goto fail;
    }
    e->have_topics = 1;
    bl_webhook_cache_opts co = {.conninfo = e->f.pg_url, .keyring = e->f.keyring};
    bl_webhook_store_opts so = {.pool = e->f.pool, .keyring = e->f.keyring, .allow = &e->f.allow,
                                .events = e->events};
    bl_delivery_log_opts lo = {.pool = e->f.pool, .flush_interval_ms = 50};
    if (!(e->registry = bl_registry_store_new(e->f.pool, 0, &err)) ||
        !(e->schemas = bl_schema_cache_new(fetch_schema, e->registry, &err)) ||
        !(e->cache = bl_webhook_cache_new(&co, &err)) || !(e->store = bl_webhook_store_new(&so, &err)) ||
        !(e->log = bl_delivery_log_new(&lo, &err)))
        goto fail;
    const char *topics[] = {e->events_topic, e->ops_topics[0], e->ops_topics[1]};
    bl_webhook_fanout_opts fo = {.brokers = bl_test_kafka_brokers(), .group_id = e->prefix, .topics = topics,
                                 .n_topics = 3, .deliveries_topic = e->deliveries, .cache = e->cache,
                                 .schemas = e->schemas, .drain_timeout_ms = 2000};
    char group[96];
    snprintf(group, sizeof group, "%s-deliver", e->prefix);
    bl_webhook_deliver_opts dopts = {.brokers = bl_test_kafka_brokers(), .group_id = group,
                                     .connector_name = e->prefix, .deliveries_topic = e->deliveries,
                                     .retry_tiers = e->tier_spec, .cache = e->cache, .store = e->store,
                                     .log = e->log, .allow = &e->f.allow, .drain_timeout_ms = 2000,
                                     .max_in_flight = e->max_in_flight,
                                     .max_host_connections = e->max_host_connections,
                                     .slow_host_ms = e->slow_host_ms, .breaker = e->breaker,
                                     .park_ms = e->park_ms, .max_age_ms = e->max_age_ms};
    bl_relay_config rc = {.pg_url = e->f.pg_url, .brokers = bl_test_kafka_brokers(), .batch_size = 500,
                          .poll_interval_ms = 50, .retention_ms = 3600000, .cleanup_batch = 1000,
                          .cleanup_interval_ms = 60000, .delivery_timeout_ms = 10000};
    if (!(e->fanout = bl_webhook_fanout_new(&fo, &err)) || !(e->deliver = bl_webhook_deliver_new(&dopts, &err)) ||
        !(e->relay = bl_relay_new(&rc, &err)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "wh_e2e_open: %s\n", err.msg);
    return -1;
}

static void *relay_main(void *arg)
{
    bl_relay_run(arg);
    return NULL;
}

static void *fanout_main(void *arg)
{
    bl_err err = {0};
    if (bl_webhook_fanout_run(arg, &err) != 0)
        fprintf(stderr, "fanout: %s\n", err.msg);
    return NULL;
}

static void *deliver_main(void *arg)
{
    bl_err err = {0};
    if (bl_webhook_deliver_run(arg, &err) != 0)
        fprintf(stderr, "deliver: %s\n", err.msg);
    return NULL;
}

int wh_e2e_start(wh_e2e *e, int with_deliver)
{
    e->relay_on = pthread_create(&e->relay_t, NULL, relay_main, e->relay) == 0;
    e->fanout_on = pthread_create(&e->fanout_t, NULL, fanout_main, e->fanout) == 0;
    if (with_deliver)
        e->deliver_on = pthread_create(&e->deliver_t, NULL, deliver_main, e->deliver) == 0;
    return e->relay_on && e->fanout_on && (!with_deliver || e->deliver_on) ? 0 : -1;
}

char *wh_e2e_endpoint(wh_e2e *e, const char *org, const char *url, const char *types,
                      void (*tweak)(bl_webhook_spec *, void *), void *user, char *secret_out)
{
    const char *list[1] = {types};
    bl_webhook_spec spec = bl_webhook_test_spec("ep", list, 1);
    spec.url = url;
    if (tweak)
        tweak(&spec, user);
    bl_err err = {0};
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *ep = bl_webhook_store_create(e->store, org, &spec, secret, sizeof secret, &err);
    if (!ep) {
        fprintf(stderr, "endpoint: %s\n", err.msg);
        return NULL;
    }
    if (secret_out)
        strcpy(secret_out, secret);
    char *id = strdup(ep->id);
    bl_webhook_endpoint_free(ep);
    return id;
}

int wh_e2e_wait_cache(wh_e2e *e, long n)
{
    for (int i = 0; i < 100; i++) {
        bl_webhook_cache_stats st;
        bl_webhook_cache_stats_get(e->cache, &st);
        if (st.endpoints == n)
            return 0;
        usleep(50 * 1000);
    }
    return -1;
}

int wh_e2e_append(wh_e2e *e, const char *org, const char *subject, int count, const char *reason_prefix)
{
    bl_err err = {0};
    PQclear(PQexec(e->f.conn, "BEGIN"));
    for (int i = 0; i < count; i++) {
        char reason[64];
        snprintf(reason, sizeof reason, "%s%d", reason_prefix, i);
        json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:i}", "endpoint_id", subject, "name", "n", "url",
                                 "http://x", "reason", reason, "consecutive_failures", i % 10);
        int rc = bl_webhook_events_append(e->events, e->f.conn, "webhook.disabled", org, subject, data, &err);
        json_decref(data);
        if (rc != 0) {
            fprintf(stderr, "append: %s\n", err.msg);
            PQclear(PQexec(e->f.conn, "ROLLBACK"));
            return -1;
        }
    }
    PQclear(PQexec(e->f.conn, "COMMIT"));
    return 0;
}

void wh_e2e_close(wh_e2e *e)
{
    if (e->relay_on) {
        bl_relay_stop(e->relay);
        pthread_join(e->relay_t, NULL);
    }
    if (e->fanout_on) {
        bl_webhook_fanout_stop(e->fanout);
        pthread_join(e->fanout_t, NULL);
    }
    if (e->deliver_on) {
        bl_webhook_deliver_stop(e->deliver);
        pthread_join(e->deliver_t, NULL);
    }
    bl_relay_free(e->relay);
    bl_webhook_fanout_free(e->fanout);
    bl_webhook_deliver_free(e->deliver);
    bl_delivery_log_free(e->log);
    bl_webhook_store_free(e->store);
    bl_webhook_cache_free(e->cache);
    bl_schema_cache_free(e->schemas);
    bl_registry_store_free(e->registry);
    bl_webhook_events_free(e->events);
    if (e->have_topics) {
        size_t n;
        const char *const *names = all_topics(e, &n);
        fixture_topics_delete(names, n);
    }
    bl_webhook_fixture_close(&e->f);
}

void wh_python_verify(const char *args, const char *body, char *out, size_t len)
{
    char path[] = "/tmp/busline-wh-body-XXXXXX";
    int fd = mkstemp(path);
    out[0] = '\0';
    if (fd < 0)
        return;
    FILE *f = fdopen(fd, "wb");
    fputs(body, f);
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/unit/standard_webhooks_verify.py %s %s",
             getenv("BUSLINE_SOURCE_DIR") ? getenv("BUSLINE_SOURCE_DIR") : ".", args, path);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(out, (int)len, p))
            out[0] = '\0';
        out[strcspn(out, "\n")] = '\0';
        pclose(p);
    }
    unlink(path);
}

void wh_e2e_deliver_env(const wh_e2e *e)
{
    char group[96];
    snprintf(group, sizeof group, "%s-deliver", e->prefix);
    setenv("BUSLINE_PG_URL", e->f.pg_url, 1);
    setenv("BUSLINE_KAFKA_BROKERS", bl_test_kafka_brokers(), 1);
    setenv("BUSLINE_ENCRYPTION_KEYS", BL_WEBHOOK_TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_DELIVERIES_TOPIC", e->deliveries, 1);
    setenv("BUSLINE_WEBHOOK_CONNECTOR", e->prefix, 1);
    setenv("BUSLINE_WEBHOOK_RETRY_TIERS", e->tier_spec, 1);
    setenv("BUSLINE_DELIVER_GROUP", group, 1);
    setenv("BUSLINE_LOG_LEVEL", "warn", 1);
}

pid_t wh_e2e_spawn_deliver(const char *log_path)
{
    char port[16];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    const char *args[] = {"webhooks", "deliver", "--metrics-port", port, NULL};
    return bl_test_spawn_busline(args, log_path);
}
