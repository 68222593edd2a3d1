/* busline webhooks fanout|deliver (see cmd_roles.h). */
#include "connectors/webhook/cli/cmd_roles.h"
#include "connectors/webhook/store/webhook_events.h"

#include "connectors/webhook/workers/deliver.h"
#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/fanout.h"
#include "connectors/webhook/workers/replay_jobs.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/ops_server.h"
#include "core/pg_pool.h"
#include "core/role.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPICS_MAX 64

static const bl_setting fanout_settings[] = {
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url",
     .type = BL_SETTING_STRING, .def = "http://127.0.0.1:8081", .help = "schema registry base URL"},
    {.name = "topics", .env = "BUSLINE_FANOUT_TOPICS", .flag = "topics", .type = BL_SETTING_STRING,
     .help = "comma-separated event topics; default every events.* topic"},
    {.name = "deliveries_topic", .env = "BUSLINE_DELIVERIES_TOPIC", .flag = "deliveries-topic",
     .type = BL_SETTING_STRING, .def = BL_WEBHOOK_DELIVERIES_TOPIC, .help = "where deliveries go"},
    {.name = "group", .env = "BUSLINE_FANOUT_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .def = "busline-webhook-fanout", .help = "consumer group"},
    {.name = "replay_poll", .env = "BUSLINE_REPLAY_POLL", .flag = "replay-poll", .type = BL_SETTING_DURATION,
     .def = "2s", .min = 0, .max = 3600 * 1000,
     .help = "how often waiting webhook replay jobs are looked for; 0: never (replay_jobs.h)"},
    {0},
};

static const bl_setting deliver_settings[] = {
    {.name = "allow", .env = "BUSLINE_WEBHOOK_ALLOW", .flag = "allow", .type = BL_SETTING_STRING,
     .def = "", .help = "CIDRs endpoints may resolve to although not public (e.g. 127.0.0.0/8)"},
    {.name = "deliveries_topic", .env = "BUSLINE_DELIVERIES_TOPIC", .flag = "deliveries-topic",
     .type = BL_SETTING_STRING, .def = BL_WEBHOOK_DELIVERIES_TOPIC, .help = "deliveries to send"},
    {.name = "connector", .env = "BUSLINE_WEBHOOK_CONNECTOR", .flag = "connector", .type = BL_SETTING_STRING,
     .def = BL_WEBHOOK_CONNECTOR, .help = "prefix of the retry tier and dead-letter topics"},
    {.name = "retry_tiers", .env = "BUSLINE_WEBHOOK_RETRY_TIERS", .flag = "retry-tiers",
     .type = BL_SETTING_STRING, .def = BL_WEBHOOK_RETRY_TIERS, .help = "retry tier delays"},
    {.name = "group", .env = "BUSLINE_DELIVER_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .def = "busline-webhook-deliver", .help = "consumer group"},
    {.name = "max_in_flight", .env = "BUSLINE_DELIVER_MAX_IN_FLIGHT", .flag = "max-in-flight",
     .type = BL_SETTING_INT, .def = "1000", .min = 1, .max = 100000,
     .help = "deliveries in flight per partition"},
    {.name = "host_connections", .env = "BUSLINE_DELIVER_HOST_CONNECTIONS", .flag = "host-connections",
     .type = BL_SETTING_INT, .def = "64", .min = 1, .max = 10000,
     .help = "requests at once per endpoint host; a stuck host keeps no more than these"},
    {.name = "slow_host", .env = "BUSLINE_DELIVER_SLOW_HOST", .flag = "slow-host", .type = BL_SETTING_DURATION,
     .def = "1s", .min = 1, .max = 3600 * 1000,
     .help = "a host whose oldest request is unanswered this long is stuck: its surplus is parked"},
    {.name = "park", .env = "BUSLINE_DELIVER_PARK", .flag = "park", .type = BL_SETTING_DURATION,
     .def = "5s", .min = 1, .max = 3600 * 1000,
     .help = "how long a delivery parked for a stuck host waits (in the retry tier for that delay)"},
    {.name = "max_age", .env = "BUSLINE_DELIVER_MAX_AGE", .flag = "max-age", .type = BL_SETTING_DURATION,
     .def = "72h", .min = 1000, .max = 30LL * 24 * 3600 * 1000,
     .help = "a delivery held back (host stuck, circuit open: no attempt spent) this long after its first "
             "failure goes to the dead letters"},
    {0},
};

/* What both roles open: pool, keyring, endpoint cache, metrics. */
typedef struct role_env {
    bl_config *cfg;
    bl_pg_pool *pool;
    bl_keyring *keyring;
    bl_webhook_cache *cache;
    bl_metrics *metrics;
    bl_ops_server *ops;
} role_env;

static int env_open(role_env *e, bl_err *err)
{
    const char *pg = bl_config_str(e->cfg, BL_CFG_PG_URL);
    if (!(e->metrics = bl_metrics_new()))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    if (!(e->keyring = bl_keyring_from_env(err)) || !(e->pool = bl_pg_pool_new(pg, 4, err)))
        return -1;
    bl_webhook_cache_opts co = {.conninfo = pg, .keyring = e->keyring};
    return (e->cache = bl_webhook_cache_new(&co, err)) ? 0 : -1;
}

static int env_serve(role_env *e, bl_runtime *rt, bl_err *err)
{
    e->ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(e->cfg, BL_CFG_METRICS_PORT),
                                 e->metrics, bl_runtime_ready, rt, err);
    return e->ops ? 0 : -1;
}

static void env_close(role_env *e)
{
    bl_ops_server_free(e->ops);
    bl_webhook_cache_free(e->cache);
    bl_pg_pool_free(e->pool);
    bl_keyring_free(e->keyring);
}

/* Splits "a,b" into names (pointers into buf). */
static size_t split_topics(char *buf, const char **names, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t && n < max; t = strtok_r(NULL, ", ", &save))
        names[n++] = t;
    return n;
}

int bl_cmd_webhooks_fanout(int argc, char **argv)
{
    int code = 0;
    role_env e = {0};
    if (!(e.cfg = bl_role_start("webhook-fanout", fanout_settings, argc, argv, &code)))
        return code;
    bl_err err = {0};
    bl_registry_client *registry = NULL;
    bl_schema_cache *schemas = NULL;
    bl_webhook_fanout *f = NULL;
    bl_webhook_store *store = NULL;
    bl_webhook_replay_poller *replays = NULL;
    char *topics_buf = NULL;
    const char *topics[TOPICS_MAX];
    size_t n_topics = 0;
    code = 1;
    if (env_open(&e, &err) != 0 ||
        !(registry = bl_registry_client_new(bl_config_str(e.cfg, "registry_url"), 0, &err)) ||
        !(schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, registry, &err)))
        goto done;
    const char *list = bl_config_str(e.cfg, "topics");
    if (list && *list) {
        if (!(topics_buf = strdup(list))) {
            bl_err_set(&err, BL_ENOMEM, "out of memory");
            goto done;
        }
        n_topics = split_topics(topics_buf, topics, TOPICS_MAX);
    }
    bl_webhook_fanout_opts fo = {
        .brokers = bl_config_str(e.cfg, BL_CFG_KAFKA_BROKERS),
        .group_id = bl_config_str(e.cfg, "group"),
        .topics = n_topics ? topics : NULL,
        .n_topics = n_topics,
        .deliveries_topic = bl_config_str(e.cfg, "deliveries_topic"),
        .cache = e.cache,
        .schemas = schemas,
        .metrics = e.metrics,
    };
    if (!(f = bl_webhook_fanout_new(&fo, &err)) || env_serve(&e, bl_webhook_fanout_runtime(f), &err) != 0)
        goto done;
    int64_t replay_poll_ms = bl_config_duration_ms(e.cfg, "replay_poll");
    if (replay_poll_ms > 0) {
        bl_webhook_store_opts so = {.pool = e.pool};
        bl_webhook_replay_jobs_opts ro = {
            .pool = e.pool,
            .replay = {.brokers = fo.brokers, .schemas = schemas, .topics = fo.topics, .n_topics = n_topics,
                       .deliveries_topic = fo.deliveries_topic},
        };
        if (!(store = ro.replay.store = bl_webhook_store_new(&so, &err)) ||
            !(replays = bl_webhook_replay_poller_start(&ro, (int)replay_poll_ms, &err)))
            goto done;
    }
    bl_log_info("webhook fanout: starting", BL_FS("deliveries_topic", fo.deliveries_topic),
                BL_FI("topics", (long)n_topics), BL_FI("replay_poll_ms", replay_poll_ms));
    code = bl_webhook_fanout_run(f, &err) == 0 ? 0 : 1;
done:
    bl_webhook_replay_poller_stop(replays);
    bl_webhook_store_free(store);
    if (code != 0)
        fprintf(stderr, "busline webhooks fanout: %s\n", err.msg);
    bl_ops_server_free(e.ops);
    e.ops = NULL;
    bl_webhook_fanout_free(f);
    bl_schema_cache_free(schemas);
    bl_registry_client_free(registry);
    free(topics_buf);
    env_close(&e);
    bl_metrics_free(e.metrics);
    bl_config_free(e.cfg);
    return code;
}

int bl_cmd_webhooks_deliver(int argc, char **argv)
{
    int code = 0;
    role_env e = {0};
    if (!(e.cfg = bl_role_start("webhook-deliver", deliver_settings, argc, argv, &code)))
        return code;
    bl_err err = {0};
    bl_ssrf_allowlist allow;
    bl_webhook_store *store = NULL;
    bl_webhook_events *events = NULL;
    bl_delivery_log *log = NULL;
    bl_webhook_deliver *d = NULL;
    code = 1;
    if (bl_ssrf_allowlist_parse(bl_config_str(e.cfg, "allow"), &allow, &err) != 0 || env_open(&e, &err) != 0)
        goto done;
    /* the health reporter's webhook.disabled and the message.attempt.* events go to the outbox */
    if (!(events = bl_webhook_events_new(e.pool, NULL, NULL, &err)))
        goto done;
    bl_webhook_store_opts so = {.pool = e.pool, .keyring = e.keyring, .allow = &allow, .events = events};
    bl_delivery_log_opts lo = {.pool = e.pool};
    if (!(store = bl_webhook_store_new(&so, &err)) || !(log = bl_delivery_log_new(&lo, &err)))
        goto done;
    bl_webhook_deliver_opts dopts = {
        .brokers = bl_config_str(e.cfg, BL_CFG_KAFKA_BROKERS),
        .group_id = bl_config_str(e.cfg, "group"),
        .connector_name = bl_config_str(e.cfg, "connector"),
        .deliveries_topic = bl_config_str(e.cfg, "deliveries_topic"),
        .retry_tiers = bl_config_str(e.cfg, "retry_tiers"),
        .cache = e.cache,
        .store = store,
        .log = log,
        .allow = &allow,
        .max_in_flight = (size_t)bl_config_int(e.cfg, "max_in_flight"),
        .max_host_connections = (long)bl_config_int(e.cfg, "host_connections"),
        .slow_host_ms = bl_config_duration_ms(e.cfg, "slow_host"),
        .park_ms = bl_config_duration_ms(e.cfg, "park"),
        .max_age_ms = bl_config_duration_ms(e.cfg, "max_age"),
        .metrics = e.metrics,
    };
    if (!(d = bl_webhook_deliver_new(&dopts, &err)) || env_serve(&e, bl_webhook_deliver_runtime(d), &err) != 0)
        goto done;
    bl_log_info("webhook deliver: starting", BL_FS("deliveries_topic", dopts.deliveries_topic),
                BL_FS("retry_tiers", dopts.retry_tiers));
    code = bl_webhook_deliver_run(d, &err) == 0 ? 0 : 1;
done:
    if (code != 0)
        fprintf(stderr, "busline webhooks deliver: %s\n", err.msg);
    bl_ops_server_free(e.ops);
    e.ops = NULL;
    bl_webhook_deliver_free(d);
    bl_delivery_log_free(log);
    bl_webhook_store_free(store);
    bl_webhook_events_free(events);
    env_close(&e);
    bl_metrics_free(e.metrics);
    bl_config_free(e.cfg);
    return code;
}
