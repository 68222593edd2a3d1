/* The exactly-once relay's positions topic: each batch's transaction also
 * writes one marker naming the outbox rows that Kafka holds and PostgreSQL
 * may not yet have marked sent; a new leader reads the last committed marker
 * and marks those rows before it claims any (the approach of Kafka Connect's
 * exactly-once sources, KIP-618, with the outbox ids as the position). */
#include "producers/outbox/relay_internal.h"

#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/kafka_config.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

#define POSITIONS_PARTITION 0
#define READ_WINDOW_FIRST 16 /* a marker and its commit record take two offsets */

int relay_positions_ensure_topic(struct bl_relay *r, bl_err *err)
{
    bl_kafka_admin *admin = bl_kafka_admin_new(r->brokers, NULL, err);
    if (!admin)
        return bl_err_wrap(err, "relay: positions topic");
    /* Compacted: only the last marker under the one key matters. */
    static const char *const configs[] = {"cleanup.policy", "compact", NULL};
    bl_kafka_topic_spec spec = {.name = r->cfg.positions_topic, .partitions = 1, .replication_factor = -1,
                                .configs = configs};
    const char *const names[] = {r->cfg.positions_topic};
    int rc = bl_kafka_admin_create_topics(admin, &spec, 1, 30000, err);
    if (rc == 0)
        rc = bl_kafka_admin_wait_visible(admin, names, 1, 30000, err);
    bl_kafka_admin_free(admin);
    return rc == 0 ? 0 : bl_err_wrap(err, "relay: positions topic %s", r->cfg.positions_topic);
}

/* Reads [start, end) of the positions partition with read_committed and
 * keeps the value of the last committed marker in *last (malloc'd). Returns
 * 0, or -1 with err. */
static int read_range(rd_kafka_t *rk, const char *topic, int64_t start, int64_t end, int64_t deadline,
                      char **last, bl_err *err)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, POSITIONS_PARTITION)->offset = start;
    rd_kafka_resp_err_t code = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (code)
        return bl_kafka_err(err, rk, code, "assign the positions topic");
    int rc = 0;
    for (;;) {
        if (bl_clock_mono_ms() >= deadline) {
            rc = bl_err_set(err, BL_ETIMEOUT, "relay: positions topic %s not read in time", topic);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int done = 0;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            done = 1;
        } else if (m->err) {
            rc = bl_err_set(err, BL_EKAFKA, "relay: read positions topic %s: %s", topic,
                            rd_kafka_message_errstr(m));
            done = 1;
        } else {
            char *copy = strndup(m->payload ? m->payload : "", m->len);
            if (!copy) {
                rc = bl_err_set(err, BL_ENOMEM, "relay: out of memory reading positions");
                done = 1;
            } else {
                free(*last);
                *last = copy;
            }
            done = done || m->offset + 1 >= end;
        }
        rd_kafka_message_destroy(m);
        if (done)
            break;
    }
    rd_kafka_assign(rk, NULL);
    return rc;
}

int relay_positions_last(struct bl_relay *r, char **ids, bl_err *err)
{
    *ids = NULL;
    static const char *const defaults[] = {
        "group.id", "busline-relay-positions", /* never joined: the partition is assigned */
        "enable.auto.commit", "false",
        "isolation.level", "read_committed",
        "enable.partition.eof", "true",
        NULL,
    };
    rd_kafka_conf_t *conf = bl_kafka_conf_new(r->brokers, defaults, NULL, NULL, err);
    rd_kafka_t *rk = conf ? bl_kafka_handle_new(RD_KAFKA_CONSUMER, conf, "positions reader", err) : NULL;
    if (!rk)
        return bl_err_wrap(err, "relay: positions reader");
    int64_t deadline = bl_clock_mono_ms() + 30000;
    int64_t low = 0, high = 0;
    int rc = 0;
    /* read_committed: high is the last stable offset, so no open
     * transaction hides behind it (txn_init completed ours). */
    rd_kafka_resp_err_t code = rd_kafka_query_watermark_offsets(rk, r->cfg.positions_topic, POSITIONS_PARTITION,
                                                                &low, &high, 10000);
    if (code) {
        rc = bl_kafka_err(err, rk, code, "positions topic offsets");
        goto done;
    }
    /* The last marker sits near the end unless transactions were aborted
     * after it: widen the window back until one is found. */
    for (int64_t window = READ_WINDOW_FIRST; high > low && !*ids; window *= 4) {
        int64_t start = high - window > low ? high - window : low;
        if (read_range(rk, r->cfg.positions_topic, start, high, deadline, ids, err) != 0) {
            rc = -1;
            break;
        }
        if (start == low)
            break;
    }
done:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (rc != 0) {
        free(*ids);
        *ids = NULL;
    }
    return rc;
}
