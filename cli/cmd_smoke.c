/* busline smoke: a produce/consume check of the Kafka cluster busline is
 * pointed at — creates a topic, produces keyed messages with headers, reads
 * them back in a fresh consumer group, and says whether every one came back
 * exactly once. */
#include "cli/commands.h"
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "core/role.h"
#include "core/signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const bl_setting smoke_settings[] = {
    {.name = "count", .flag = "count", .type = BL_SETTING_INT, .def = "1000", .min = 1,
     .max = 10000000, .help = "messages to produce and read back"},
    {.name = "topic", .flag = "topic", .type = BL_SETTING_STRING, .def = "busline.smoke",
     .help = "topic to use (created with 3 partitions when missing)"},
    {.name = "timeout", .flag = "timeout", .type = BL_SETTING_DURATION, .def = "60s",
     .min = 1000, .max = 3600000, .help = "give up after this long"},
    {0},
};

typedef struct smoke_run {
    long acked;
    long failed;
} smoke_run;

static void on_delivery(const bl_kafka_delivery *d, void *user)
{
    smoke_run *run = user;
    if (d->err_code == 0)
        run->acked++;
    else
        run->failed++;
}

static int produce_all(const char *brokers, const char *topic, long count, const char *run_id,
                       smoke_run *run, bl_err *err)
{
    bl_kafka_producer *p = bl_kafka_producer_new(brokers, NULL, on_delivery, run, err);
    if (!p)
        return -1;
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        char key[32], value[64];
        snprintf(key, sizeof key, "key-%ld", i % 16);
        int vlen = snprintf(value, sizeof value, "%s/%ld", run_id, i);
        bl_kafka_header h[] = {{"ce_id", value, (size_t)vlen}, {"smoke_run", run_id, strlen(run_id)}};
        rc = bl_kafka_producer_send(p, topic, key, strlen(key), value, (size_t)vlen, h, 2, NULL,
                                    10000, err);
    }
    if (rc == 0)
        rc = bl_kafka_producer_flush(p, 30000, err);
    bl_kafka_producer_free(p, 5000);
    if (rc == 0 && run->failed)
        rc = bl_err_set(err, BL_EKAFKA, "smoke: %ld of %ld messages were not acknowledged",
                        run->failed, count);
    return rc;
}

/* Reads the topic from the start in a new group and counts this run's
 * messages; other runs' messages on the same topic are skipped. */
static int consume_all(const char *brokers, const char *topic, long count, const char *run_id,
                       long long deadline, long *seen, long *dups, bl_err *err)
{
    char group[96];
    snprintf(group, sizeof group, "busline-smoke-%s", run_id);
    bl_kafka_consumer_opts opts = {.brokers = brokers, .group_id = group};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, err);
    if (!c)
        return -1;
    unsigned char *marks = calloc((size_t)count, 1);
    const char *const topics[] = {topic};
    int rc = marks ? bl_kafka_consumer_subscribe(c, topics, 1, err)
                   : bl_err_set(err, BL_ENOMEM, "smoke: out of memory");
    size_t prefix = strlen(run_id);
    while (rc == 0 && *seen < count && bl_clock_mono_ms() < deadline && !bl_signals_stop_requested()) {
        bl_kafka_msg *m = NULL;
        int got = bl_kafka_consumer_poll(c, 200, &m, err);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0)
            continue;
        size_t len = 0;
        const char *v = bl_kafka_msg_value(m, &len);
        if (v && len > prefix + 1 && memcmp(v, run_id, prefix) == 0 && v[prefix] == '/') {
            long idx = strtol(v + prefix + 1, NULL, 10);
            if (idx >= 0 && idx < count) {
                if (marks[idx]++)
                    (*dups)++;
                else
                    (*seen)++;
            }
        }
        bl_kafka_offset off = bl_kafka_msg_next_offset(m);
        bl_kafka_msg_release(m);
        rc = bl_kafka_consumer_commit_async(c, &off, 1, err);
    }
    bl_err close_err = {0};
    bl_kafka_consumer_close(c, &close_err);
    bl_kafka_consumer_free(c);
    free(marks);
    return rc;
}

int bl_cmd_smoke(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("smoke", smoke_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    const char *brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS);
    const char *topic = bl_config_str(cfg, "topic");
    long count = (long)bl_config_int(cfg, "count");
    long long t0 = bl_clock_mono_ms();
    long long deadline = t0 + bl_config_duration_ms(cfg, "timeout");
    char run_id[48];
    snprintf(run_id, sizeof run_id, "%ld-%lld", (long)getpid(), (long long)time(NULL));

    smoke_run run = {0};
    long seen = 0, dups = 0;
    bl_kafka_topic_spec spec = {topic, 3, -1, NULL};
    bl_kafka_admin *admin = bl_kafka_admin_new(brokers, NULL, &err);
    int rc = admin ? bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) : -1;
    if (rc == 0)
        rc = bl_kafka_admin_wait_visible(admin, &topic, 1, 30000, &err);
    bl_kafka_admin_free(admin);
    if (rc == 0)
        rc = produce_all(brokers, topic, count, run_id, &run, &err);
    long long produced_ms = bl_clock_mono_ms() - t0;
    if (rc == 0)
        rc = consume_all(brokers, topic, count, run_id, deadline, &seen, &dups, &err);
    if (rc == 0 && (seen != count || dups != 0))
        rc = bl_err_set(&err, BL_EKAFKA, "smoke: read back %ld of %ld messages, %ld twice", seen,
                        count, dups);
    if (rc != 0) {
        fprintf(stderr, "busline smoke: %s\n", err.msg);
        code = 1;
    } else {
        bl_log_info("smoke check passed", BL_FS("topic", topic), BL_FI("produced", run.acked),
                    BL_FI("consumed", seen), BL_FI("duplicates", dups),
                    BL_FI("produce_ms", produced_ms), BL_FI("total_ms", bl_clock_mono_ms() - t0));
    }
    bl_config_free(cfg);
    return code;
}
