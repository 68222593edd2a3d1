/* busline relay: publishes the transactional outbox to Kafka until SIGTERM. */
#include "producers/outbox/cmd_relay.h"

#include "core/log.h"
#include "core/metrics.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "producers/outbox/relay.h"

#include <stdio.h>

static const bl_setting relay_settings[] = {
    {.name = "relay_batch_size", .env = "BUSLINE_RELAY_BATCH_SIZE", .flag = "batch-size",
     .type = BL_SETTING_INT, .def = "500", .min = 1, .max = 100000,
     .help = "outbox rows published per batch"},
    {.name = "relay_poll_interval", .env = "BUSLINE_RELAY_POLL_INTERVAL", .flag = "poll-interval",
     .type = BL_SETTING_DURATION, .def = "1s", .min = 10, .max = 3600000,
     .help = "longest wait for a NOTIFY before looking anyway; standby lease retry"},
    {.name = "relay_retention", .env = "BUSLINE_RELAY_RETENTION", .flag = "retention",
     .type = BL_SETTING_DURATION, .def = "0s", .min = 0, .max = 365LL * 24 * 3600 * 1000,
     .help = "how long sent rows are kept before they are deleted; 0 = delete each row once Kafka "
             "acknowledged it (the fastest: no row is written twice)"},
    {.name = "relay_cleanup_batch", .env = "BUSLINE_RELAY_CLEANUP_BATCH", .flag = "cleanup-batch",
     .type = BL_SETTING_INT, .def = "1000", .min = 1, .max = 100000,
     .help = "sent rows deleted per statement"},
    {.name = "relay_cleanup_interval", .env = "BUSLINE_RELAY_CLEANUP_INTERVAL",
     .flag = "cleanup-interval", .type = BL_SETTING_DURATION, .def = "10s", .min = 10,
     .max = 86400000, .help = "how often sent rows past the retention are deleted"},
    {.name = "relay_delivery_timeout", .env = "BUSLINE_RELAY_DELIVERY_TIMEOUT",
     .flag = "delivery-timeout", .type = BL_SETTING_DURATION, .def = "60s", .min = 1000,
     .max = 3600000,
     .help = "how long the producer keeps retrying a message before the batch gives it back"},
    {.name = "relay_exactly_once", .env = "BUSLINE_RELAY_EXACTLY_ONCE", .flag = "exactly-once",
     .type = BL_SETTING_BOOL, .def = "false",
     .help = "publish each batch in a Kafka transaction with a positions marker, so a relay killed at "
             "any instant neither loses nor republishes a row (read_committed consumers)"},
    {.name = "relay_transactional_id", .env = "BUSLINE_RELAY_TRANSACTIONAL_ID", .flag = "transactional-id",
     .type = BL_SETTING_STRING, .def = "busline-relay",
     .help = "exactly-once: the Kafka transactional.id, the same for every relay of one outbox"},
    {.name = "relay_positions_topic", .env = "BUSLINE_RELAY_POSITIONS_TOPIC", .flag = "positions-topic",
     .type = BL_SETTING_STRING, .def = "busline.relay.positions",
     .help = "exactly-once: the compacted topic of the relay's position markers (created if missing)"},
    {0},
};

/* Ready while the relay has its database: as leader, or as a standby able
 * to take over. */
static int relay_ready(void *ctx, char *reason, size_t reason_len)
{
    if (bl_relay_is_connected(ctx))
        return 1;
    snprintf(reason, reason_len, "no database connection");
    return 0;
}

int bl_cmd_relay(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("relay", relay_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    bl_relay *relay = NULL;
    bl_ops_server *ops = NULL;
    bl_metrics *metrics = bl_metrics_new();
    if (!metrics) {
        fprintf(stderr, "busline relay: out of memory\n");
        code = 1;
        goto done;
    }
    bl_relay_config rc = {
        .pg_url = bl_config_str(cfg, BL_CFG_PG_URL),
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .batch_size = (int)bl_config_int(cfg, "relay_batch_size"),
        .poll_interval_ms = (int)bl_config_duration_ms(cfg, "relay_poll_interval"),
        .retention_ms = bl_config_duration_ms(cfg, "relay_retention"),
        .cleanup_batch = (int)bl_config_int(cfg, "relay_cleanup_batch"),
        .cleanup_interval_ms = (int)bl_config_duration_ms(cfg, "relay_cleanup_interval"),
        .delivery_timeout_ms = (int)bl_config_duration_ms(cfg, "relay_delivery_timeout"),
        .exactly_once = bl_config_bool(cfg, "relay_exactly_once"),
        .transactional_id = bl_config_str(cfg, "relay_transactional_id"),
        .positions_topic = bl_config_str(cfg, "relay_positions_topic"),
        .metrics = metrics,
    };
    relay = bl_relay_new(&rc, &err);
    if (!relay) {
        fprintf(stderr, "busline relay: %s\n", err.msg);
        code = 2;
        goto done;
    }
    ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT),
                              metrics, relay_ready, relay, &err);
    if (!ops) {
        fprintf(stderr, "busline relay: %s\n", err.msg);
        code = 1;
        goto done;
    }
    bl_log_info("relay: starting", BL_FI("batch_size", rc.batch_size),
                BL_FI("poll_interval_ms", rc.poll_interval_ms),
                BL_FI("retention_ms", rc.retention_ms), BL_FI("exactly_once", rc.exactly_once));
    bl_relay_run(relay);
done:
    bl_ops_server_free(ops);
    bl_relay_free(relay);
    bl_metrics_free(metrics);
    bl_config_free(cfg);
    return code;
}
