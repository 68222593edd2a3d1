/* The busline_consumer_* families and the lag gauge refresh. Children are
 * looked up once (per runtime, per partition on assign) and then updated
 * lock-free; gauges shared by several runtimes of one connector move by
 * deltas so they add up. */
#include "consumers/runtime_internal.h"

#include "core/log.h"

#include <stdio.h>

int bl_runtime_metrics_register(bl_metrics *m, bl_runtime_metrics *out, bl_err *err)
{
    static const char *const by_partition[] = {"connector", "topic", "partition", NULL};
    static const char *const by_topic[] = {"connector", "topic", NULL};
    static const char *const by_connector[] = {"connector", NULL};
    bl_runtime_metrics r = {0};
    if (!(r.lag = bl_metrics_gauge(m, "busline_consumer_lag_messages",
                                   "Messages behind the end of the partition", by_partition, err)) ||
        !(r.processed = bl_metrics_counter(m, "busline_consumer_processed_total",
                                           "Messages finished by the connector", by_topic, err)) ||
        !(r.retried = bl_metrics_counter(m, "busline_consumer_retried_total",
                                         "Messages handed to a retry tier", by_topic, err)) ||
        !(r.dead_letters = bl_metrics_counter(m, "busline_consumer_dead_lettered_total",
                                              "Messages handed to the dead-letter topic", by_topic, err)) ||
        !(r.in_flight = bl_metrics_gauge(m, "busline_consumer_in_flight_messages",
                                         "Messages taken and not yet durable", by_connector, err)) ||
        !(r.latency = bl_metrics_histogram(m, "busline_consumer_processing_duration_seconds",
                                           "From taking a message to its work being durable", by_connector,
                                           NULL, 0, err)) ||
        !(r.assigned = bl_metrics_gauge(m, "busline_consumer_assigned_partitions",
                                        "Partitions held by the consumer group member", by_connector, err)))
        return bl_err_wrap(err, "runtime metrics");
    *out = r;
    return 0;
}

void bl_rt_metrics_bind_runtime(bl_runtime *rt)
{
    if (!rt->metrics)
        return;
    const char *labels[] = {rt->connector_name, NULL};
    bl_err err = {0};
    rt->m_in_flight = bl_metric_gauge(rt->metrics->in_flight, labels, &err);
    rt->m_assigned = bl_metric_gauge(rt->metrics->assigned, labels, &err);
    rt->m_latency = bl_metric_histogram(rt->metrics->latency, labels, &err);
    if (!rt->m_in_flight || !rt->m_assigned || !rt->m_latency)
        bl_log_warn("runtime: metrics unavailable", BL_FS("error", err.msg));
}

void bl_rt_metrics_bind_partition(bl_runtime *rt, rt_partition *p)
{
    if (!rt->metrics)
        return;
    char part[16];
    snprintf(part, sizeof part, "%d", (int)p->partition);
    const char *by_topic[] = {rt->connector_name, p->topic, NULL};
    const char *by_partition[] = {rt->connector_name, p->topic, part, NULL};
    bl_err err = {0};
    p->m_processed = bl_metric_counter(rt->metrics->processed, by_topic, &err);
    p->m_retried = bl_metric_counter(rt->metrics->retried, by_topic, &err);
    p->m_dead = bl_metric_counter(rt->metrics->dead_letters, by_topic, &err);
    p->m_lag = bl_metric_gauge(rt->metrics->lag, by_partition, &err);
}

/* Lag = high watermark - position read by this member; both come from
 * librdkafka's caches (fetch responses), so refreshing never blocks. */
void bl_rt_metrics_refresh_lag(bl_runtime *rt)
{
    if (!rt->metrics || !rt->parts)
        return;
    rd_kafka_t *rk = bl_kafka_consumer_handle(rt->consumer);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (rt_partition *p = rt->parts; p; p = p->next)
        rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    if (rd_kafka_position(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < l->cnt; i++) {
            rt_partition *p = bl_rt_partition_find(rt, l->elems[i].topic, l->elems[i].partition);
            int64_t lo = -1, hi = -1;
            if (!p || !p->m_lag ||
                rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0)
                continue;
            int64_t pos = l->elems[i].offset >= 0 ? l->elems[i].offset : lo;
            bl_gauge_set(p->m_lag, pos >= 0 && hi > pos ? (double)(hi - pos) : 0);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}
