/* Replay actions of `busline webhooks` (see cmd_replay.h). */
#include "connectors/webhook/cli/cmd_replay.h"

#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/replay_jobs.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "schemas/registry_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPICS_MAX 64

const bl_setting bl_cmd_replay_settings[] = {
    {.name = BL_CFG_KAFKA_BROKERS, .env = "BUSLINE_KAFKA_BROKERS", .flag = "kafka-brokers",
     .type = BL_SETTING_STRING, .def = "127.0.0.1:9092", .help = "Kafka bootstrap servers (replays)"},
    {.name = "replay_since", .flag = "replay-since", .type = BL_SETTING_STRING,
     .help = "enable: also replay the events missed since this RFC 3339 time"},
    {.name = "topics", .env = "BUSLINE_FANOUT_TOPICS", .flag = "topics", .type = BL_SETTING_STRING,
     .help = "comma-separated event topics a replay reads; default every events.* topic"},
    {.name = "deliveries_topic", .env = "BUSLINE_DELIVERIES_TOPIC", .flag = "deliveries-topic",
     .type = BL_SETTING_STRING, .def = BL_WEBHOOK_DELIVERIES_TOPIC, .help = "where replayed deliveries go"},
    {0},
};

int bl_cmd_replay_since(const bl_config *cfg, int64_t *since_ms)
{
    const char *text = bl_config_str(cfg, "replay_since");
    *since_ms = 0;
    if (!text || !*text)
        return 0;
    if (bl_rfc3339_parse_millis(text, since_ms) != 0 || *since_ms <= 0 || *since_ms > bl_clock_wall_ms()) {
        fprintf(stderr, "busline webhooks: --replay-since: not an RFC 3339 time in the past: %s\n", text);
        return -1;
    }
    return 0;
}

static char *fetch_schema(void *ctx, int32_t id, bl_err *err)
{
    return bl_registry_store_schema_by_id(ctx, id, err);
}

/* What both actions open: the schemas from the registry tables, and the
 * topic list split out of --topics. */
typedef struct replay_env {
    bl_registry_store *registry;
    bl_schema_cache *schemas;
    char *topics_buf;
    const char *topics[TOPICS_MAX];
    bl_webhook_replay_opts opts;
} replay_env;

static int env_open(replay_env *r, const bl_config *cfg, bl_pg_pool *pool, bl_webhook_store *store,
                    bl_err *err)
{
    if (!(r->registry = bl_registry_store_new(pool, 0, err)) ||
        !(r->schemas = bl_schema_cache_new(fetch_schema, r->registry, err)))
        return -1;
    size_t n = 0;
    const char *list = bl_config_str(cfg, "topics");
    if (list && *list) {
        if (!(r->topics_buf = strdup(list)))
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        for (char *save = NULL, *t = strtok_r(r->topics_buf, ", ", &save); t && n < TOPICS_MAX;
             t = strtok_r(NULL, ", ", &save))
            r->topics[n++] = t;
    }
    r->opts = (bl_webhook_replay_opts){
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .store = store,
        .schemas = r->schemas,
        .topics = n ? r->topics : NULL,
        .n_topics = n,
        .deliveries_topic = bl_config_str(cfg, "deliveries_topic"),
    };
    return 0;
}

static void env_close(replay_env *r)
{
    bl_schema_cache_free(r->schemas);
    bl_registry_store_free(r->registry);
    free(r->topics_buf);
}

int bl_cmd_replay_endpoint(const bl_config *cfg, bl_pg_pool *pool, bl_webhook_store *store, const char *id,
                           int64_t since_ms)
{
    replay_env r = {0};
    bl_err err = {0};
    bl_replay_job_counts n = {0};
    int code = 1;
    if (env_open(&r, cfg, pool, store, &err) == 0 && bl_webhook_replay(&r.opts, id, since_ms, &n, &err) == 0)
        code = 0;
    if (code == 0)
        printf("replayed %ld deliveries to %s (%ld events read, %ld unreadable skipped)\n", n.enqueued, id,
               n.scanned, n.skipped);
    else
        fprintf(stderr, "busline webhooks: replay: %s (%ld deliveries replayed before)\n", err.msg, n.enqueued);
    env_close(&r);
    return code;
}

int bl_cmd_replay_requests(const bl_config *cfg, bl_pg_pool *pool, bl_webhook_store *store)
{
    replay_env r = {0};
    bl_err err = {0};
    long handled = -1;
    if (env_open(&r, cfg, pool, store, &err) == 0) {
        bl_webhook_replay_jobs_opts o = {.pool = pool, .replay = r.opts};
        handled = bl_webhook_replay_jobs_run(&o, 0, &err);
    }
    if (handled >= 0)
        printf("handled %ld replay jobs\n", handled);
    else
        fprintf(stderr, "busline webhooks replay-requests: %s\n", err.msg);
    env_close(&r);
    return handled >= 0 ? 0 : 1;
}
