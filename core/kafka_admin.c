#include "core/kafka_admin.h"

#include "core/clock.h"
#include "core/kafka_config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bl_kafka_admin {
    rd_kafka_t *rk;
};

/* Room past the broker-side timeout for the response to travel back. */
#define RESULT_GRACE_MS 2000

bl_kafka_admin *bl_kafka_admin_new(const char *brokers, const char *const *extra, bl_err *err)
{
    bl_kafka_admin *a = calloc(1, sizeof *a);
    if (!a) {
        bl_err_set(err, BL_ENOMEM, "kafka: admin: out of memory");
        return NULL;
    }
    rd_kafka_conf_t *conf = bl_kafka_conf_new(brokers, NULL, extra, a, err);
    if (conf)
        a->rk = bl_kafka_handle_new(RD_KAFKA_PRODUCER, conf, "admin client", err);
    if (!a->rk) {
        free(a);
        return NULL;
    }
    return a;
}

void bl_kafka_admin_free(bl_kafka_admin *a)
{
    if (!a)
        return;
    rd_kafka_destroy(a->rk);
    free(a);
}

rd_kafka_t *bl_kafka_admin_handle(bl_kafka_admin *a)
{
    return a ? a->rk : NULL;
}

static rd_kafka_AdminOptions_t *options_new(bl_kafka_admin *a, rd_kafka_admin_op_t op, int timeout_ms,
                                            bl_err *err)
{
    char errstr[200];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(a->rk, op);
    /* Only topic changes wait on the controller; librdkafka refuses an
     * operation timeout on the other requests. */
    int has_operation = op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
                        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS;
    if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr) ||
        (has_operation && rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof errstr))) {
        bl_err_set(err, BL_EINVAL, "kafka: admin: timeout %d ms: %s", timeout_ms, errstr);
        rd_kafka_AdminOptions_destroy(opts);
        return NULL;
    }
    return opts;
}

/* Waits for the one result event on q (a queue per call, so a late answer to
 * a timed-out call never reaches the next one). NULL with err on failure. */
static rd_kafka_event_t *await_result(rd_kafka_queue_t *q, int timeout_ms, const char *what, bl_err *err)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + RESULT_GRACE_MS);
    if (!ev) {
        bl_err_set(err, BL_ETIMEOUT, "kafka: %s: no answer within %d ms", what, timeout_ms);
        return NULL;
    }
    rd_kafka_resp_err_t code = rd_kafka_event_error(ev);
    if (code) {
        bl_err_set(err, code == RD_KAFKA_RESP_ERR__TIMED_OUT ? BL_ETIMEOUT : BL_EKAFKA, "kafka: %s: %s", what,
                   rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static void launch_create(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                          rd_kafka_queue_t *q)
{
    rd_kafka_CreateTopics(rk, objs, n, opts, q);
}

static void launch_delete(rd_kafka_t *rk, void *objs, size_t n, const rd_kafka_AdminOptions_t *opts,
                          rd_kafka_queue_t *q)
{
    rd_kafka_DeleteTopics(rk, objs, n, opts, q);
}

rd_kafka_event_t *bl_kafka_admin_call(bl_kafka_admin *a, rd_kafka_admin_op_t op, bl_kafka_admin_launch_fn launch,
                                      void *objs, size_t n, int timeout_ms, const char *what, bl_err *err)
{
    rd_kafka_AdminOptions_t *opts = options_new(a, op, timeout_ms, err);
    if (!opts)
        return NULL;
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    launch(a->rk, objs, n, opts, q);
    rd_kafka_event_t *ev = await_result(q, timeout_ms, what, err);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    return ev;
}

static int code_class(rd_kafka_resp_err_t code)
{
    switch (code) {
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        return BL_EINVAL;
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
        return BL_ETIMEOUT;
    default:
        return BL_EKAFKA;
    }
}

static int topic_result_err(bl_err *err, const char *verb, const rd_kafka_topic_result_t *r)
{
    rd_kafka_resp_err_t code = rd_kafka_topic_result_error(r);
    const char *msg = rd_kafka_topic_result_error_string(r);
    return bl_err_set(err, code_class(code), "kafka: %s topic '%s': %s", verb, rd_kafka_topic_result_name(r),
                      msg && *msg ? msg : rd_kafka_err2str(code));
}

/* Describes one topic from the cluster metadata. Returns 1 when it exists
 * (with counts set), 0 when it does not, -1 with err. */
typedef struct topic_shape {
    int partitions;
    int replication_factor;
    int all_led; /* every partition has a leader */
} topic_shape;

static int describe_topic(bl_kafka_admin *a, const char *name, int timeout_ms, topic_shape *shape, bl_err *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t code = rd_kafka_metadata(a->rk, 1, NULL, &md, timeout_ms);
    if (code)
        return bl_kafka_err(err, a->rk, code, "metadata");
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (strcmp(t->topic, name) != 0 || t->err)
            continue;
        found = 1;
        shape->partitions = t->partition_cnt;
        shape->replication_factor = t->partition_cnt > 0 ? t->partitions[0].replica_cnt : 0;
        shape->all_led = 1;
        for (int p = 0; p < t->partition_cnt; p++) {
            if (t->partitions[p].leader < 0 || t->partitions[p].err)
                shape->all_led = 0;
        }
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

/* An existing topic is "created" only if it has the shape asked for. */
static int check_existing(bl_kafka_admin *a, const bl_kafka_topic_spec *spec, int timeout_ms, bl_err *err)
{
    topic_shape shape;
    int found = describe_topic(a, spec->name, timeout_ms, &shape, err);
    if (found < 0)
        return bl_err_wrap(err, "kafka: create topic '%s'", spec->name);
    if (!found) /* exists but not yet in metadata: trust the broker */
        return 0;
    if (shape.partitions != spec->partitions ||
        (spec->replication_factor > 0 && shape.replication_factor != spec->replication_factor))
        return bl_err_set(err, BL_ECONFLICT,
                          "kafka: create topic '%s': exists with %d partitions and replication factor %d, "
                          "asked for %d and %d",
                          spec->name, shape.partitions, shape.replication_factor, spec->partitions,
                          spec->replication_factor);
    return 0;
}

static const bl_kafka_topic_spec *spec_named(const bl_kafka_topic_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    }
    return NULL;
}

static rd_kafka_NewTopic_t *new_topic(const bl_kafka_topic_spec *spec, bl_err *err)
{
    char errstr[200];
    if (!spec->name || !*spec->name) {
        bl_err_set(err, BL_EINVAL, "kafka: create topic: no name");
        return NULL;
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(spec->name, spec->partitions,
                                                    spec->replication_factor, errstr, sizeof errstr);
    if (!nt) {
        bl_err_set(err, BL_EINVAL, "kafka: create topic '%s': %s", spec->name, errstr);
        return NULL;
    }
    for (size_t i = 0; spec->configs && spec->configs[i]; i += 2) {
        const char *key = spec->configs[i], *value = spec->configs[i + 1];
        if (!value || rd_kafka_NewTopic_set_config(nt, key, value) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            bl_err_set(err, BL_EINVAL, "kafka: create topic '%s': bad config %s", spec->name, key);
            rd_kafka_NewTopic_destroy(nt);
            return NULL;
        }
    }
    return nt;
}

int bl_kafka_admin_create_topics(bl_kafka_admin *a, const bl_kafka_topic_spec *specs, size_t n,
                                 int timeout_ms, bl_err *err)
{
    if (!a || !specs || n == 0)
        return bl_err_set(err, BL_EINVAL, "kafka: create topics: nothing to create");
    int rc = -1;
    size_t made = 0;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_NewTopic_t **nts = calloc(n, sizeof *nts);
    if (!nts) {
        bl_err_set(err, BL_ENOMEM, "kafka: create topics: out of memory");
        goto done;
    }
    for (made = 0; made < n; made++) {
        if (!(nts[made] = new_topic(&specs[made], err)))
            goto done;
    }
    if (!(ev = bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_CREATETOPICS, launch_create, nts, n, timeout_ms, "create topics", err)))
        goto done;
    size_t cnt = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
        if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const bl_kafka_topic_spec *spec = spec_named(specs, n, rd_kafka_topic_result_name(results[i]));
            if (spec && check_existing(a, spec, timeout_ms, err) != 0)
                goto done;
        } else if (code) {
            topic_result_err(err, "create", results[i]);
            goto done;
        }
    }
    rc = 0;
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; nts && i < made; i++)
        rd_kafka_NewTopic_destroy(nts[i]);
    free(nts);
    return rc;
}

int bl_kafka_admin_delete_topics(bl_kafka_admin *a, const char *const *names, size_t n, int timeout_ms,
                                 bl_err *err)
{
    if (!a || !names || n == 0)
        return bl_err_set(err, BL_EINVAL, "kafka: delete topics: nothing to delete");
    int rc = -1;
    size_t made = 0;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_DeleteTopic_t **dts = calloc(n, sizeof *dts);
    if (!dts) {
        bl_err_set(err, BL_ENOMEM, "kafka: delete topics: out of memory");
        goto done;
    }
    for (made = 0; made < n; made++) {
        if (!names[made] || !*names[made]) {
            bl_err_set(err, BL_EINVAL, "kafka: delete topic: no name");
            goto done;
        }
        dts[made] = rd_kafka_DeleteTopic_new(names[made]);
    }
    if (!(ev = bl_kafka_admin_call(a, RD_KAFKA_ADMIN_OP_DELETETOPICS, launch_delete, dts, n, timeout_ms, "delete topics", err)))
        goto done;
    size_t cnt = 0;
    const rd_kafka_topic_result_t **results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t code = rd_kafka_topic_result_error(results[i]);
        if (code && code != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            topic_result_err(err, "delete", results[i]);
            goto done;
        }
    }
    rc = 0;
done:
    if (ev)
        rd_kafka_event_destroy(ev);
    for (size_t i = 0; dts && i < made; i++)
        rd_kafka_DeleteTopic_destroy(dts[i]);
    free(dts);
    return rc;
}

int bl_kafka_admin_wait_visible(bl_kafka_admin *a, const char *const *names, size_t n, int timeout_ms,
                                bl_err *err)
{
    if (!a)
        return bl_err_set(err, BL_EINVAL, "kafka: wait for topics: no admin client");
    int64_t deadline = bl_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    size_t ready = 0;
    while (ready < n) {
        int64_t left = deadline - bl_clock_mono_ms();
        if (left <= 0)
            return bl_err_set(err, BL_ETIMEOUT, "kafka: topic '%s' not visible within %d ms", names[ready],
                              timeout_ms);
        topic_shape shape;
        int found = describe_topic(a, names[ready], (int)left, &shape, err);
        if (found < 0)
            return bl_err_wrap(err, "kafka: wait for topic '%s'", names[ready]);
        if (found && shape.all_led) {
            ready++;
            continue;
        }
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

int bl_kafka_admin_list_topics(bl_kafka_admin *a, int timeout_ms, char ***names, size_t *n, bl_err *err)
{
    *names = NULL;
    *n = 0;
    if (!a)
        return bl_err_set(err, BL_EINVAL, "kafka: list topics: no admin client");
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t code = rd_kafka_metadata(a->rk, 1, NULL, &md, timeout_ms);
    if (code)
        return bl_kafka_err(err, a->rk, code, "list topics");
    int rc = -1;
    size_t cnt = 0;
    char **out = calloc((size_t)md->topic_cnt + 1, sizeof *out);
    if (!out)
        goto done;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (md->topics[i].err)
            continue;
        if (!(out[cnt] = strdup(md->topics[i].topic)))
            goto done;
        cnt++;
    }
    *names = out;
    *n = cnt;
    out = NULL;
    rc = 0;
done:
    rd_kafka_metadata_destroy(md);
    if (rc != 0) {
        bl_kafka_topic_names_free(out, cnt);
        bl_err_set(err, BL_ENOMEM, "kafka: list topics: out of memory");
    }
    return rc;
}

int bl_kafka_admin_partition_count(bl_kafka_admin *a, const char *name, int timeout_ms, bl_err *err)
{
    topic_shape shape;
    int found = describe_topic(a, name, timeout_ms, &shape, err);
    return found > 0 ? shape.partitions : found;
}

void bl_kafka_topic_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
