/* Kafka as a webhook destination (issue 21 item 6) against a second, private
 * broker (tests/support/private_broker.h; port BUSLINE_KAFKA_DEST_PORT or a
 * free one), the whole path on the shared one: events matching an endpoint
 * of type "kafka" (its event types and conditions) arrive in the
 * destination topic exactly once, keyed with the event's key and carrying
 * webhook-id and webhook-type; non-matching ones do not; with the
 * destination's broker stopped the deliveries fail and are retried (the
 * delivery log shows it), and after it restarts they arrive, still once
 * each; a destination whose brokers do not parse, or resolve to an address
 * the SSRF guard refuses, is refused on save. */
#include "core/kafka_admin.h"
#include "core/kafka_consumer.h"
#include "tests/support/private_broker.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SEEN 64
/* REQUIRE that still stops the second broker */
#define NEED(c) do { if (!(c)) { CHECK(c); goto done; } } while (0)

static json_t *keep_only; /* data.reason contains "keep" */

static void to_kafka(bl_webhook_spec *spec, void *user)
{
    spec->kafka = user;
    spec->conditions = keep_only;
    spec->timeout_ms = 3000; /* the producer's message timeout: a stopped broker fails fast */
    spec->max_attempts = 60;
    spec->backoff_base_ms = 500;
}

typedef struct seen {
    size_t n;
    char key[MAX_SEEN][64], id[MAX_SEEN][128], type[MAX_SEEN][64], reason[MAX_SEEN][64];
} seen;

static void header_text(const bl_kafka_msg *m, const char *name, char *out, size_t len)
{
    const void *v = NULL;
    size_t vlen = 0;
    out[0] = '\0';
    if (bl_kafka_msg_header(m, name, &v, &vlen) == 0 && v)
        snprintf(out, len, "%.*s", (int)vlen, (const char *)v);
}

/* Reads the destination topic from the start until want messages came, or
 * for idle_s more seconds after them (to see any extra copy). */
static void read_destination(const char *brokers, const char *topic, size_t want, int wait_s, seen *out)
{
    memset(out, 0, sizeof *out);
    char g[96];
    bl_test_unique_name(g, sizeof g, "kdest_reader");
    bl_kafka_consumer_opts opts = {.brokers = brokers, .group_id = g};
    bl_err err = {0};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, &err);
    const char *topics[] = {topic};
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  destination consumer: %s\n", err.msg);
        bl_kafka_consumer_free(c);
        return;
    }
    int quiet = 0;
    for (int i = 0; i < wait_s * 2 && quiet < 6; i++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 500, &m, &err) != 1) {
            quiet += out->n >= want;
            continue;
        }
        if (out->n < MAX_SEEN) {
            size_t klen = 0;
            const void *k = bl_kafka_msg_key(m, &klen);
            snprintf(out->key[out->n], sizeof out->key[0], "%.*s", k ? (int)klen : 0, k ? (const char *)k : "");
            header_text(m, "webhook-id", out->id[out->n], sizeof out->id[0]);
            header_text(m, "webhook-type", out->type[out->n], sizeof out->type[0]);
            size_t vlen = 0;
            const char *v = bl_kafka_msg_value(m, &vlen);
            json_t *body = v ? json_loadb(v, vlen, 0, NULL) : NULL;
            const char *r = json_string_value(json_object_get(json_object_get(body, "data"), "reason"));
            snprintf(out->reason[out->n], sizeof out->reason[0], "%s", r ? r : "");
            json_decref(body);
        }
        out->n++;
        bl_kafka_msg_release(m);
    }
    bl_kafka_consumer_free(c);
}

static size_t distinct_ids(const seen *s)
{
    size_t d = 0;
    for (size_t i = 0; i < s->n && i < MAX_SEEN; i++) {
        size_t j = 0;
        while (j < i && strcmp(s->id[j], s->id[i]) != 0)
            j++;
        d += j == i && s->id[i][0];
    }
    return d;
}

static int create_topic(const char *brokers, const char *topic)
{
    bl_err err = {0};
    bl_kafka_admin *a = bl_kafka_admin_new(brokers, NULL, &err);
    bl_kafka_topic_spec spec = {.name = topic, .partitions = 2, .replication_factor = -1};
    const char *names[] = {topic};
    int rc = a && bl_kafka_admin_create_topics(a, &spec, 1, 10000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(a, names, 1, 10000, &err) == 0
                 ? 0
                 : -1;
    if (rc != 0)
        fprintf(stderr, "  destination topic: %s\n", err.msg);
    bl_kafka_admin_free(a);
    return rc;
}

static long failed_attempts(wh_e2e *e, const char *id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '%s' AND NOT succeeded", id);
    return bl_webhook_test_count(&e->f, sql);
}

/* A destination the store must refuse: its message names the field. */
static void refused(wh_e2e *e, const char *brokers, const char *topic, const char *protocol, const char *expect)
{
    bl_webhook_kafka k = {.brokers = (char *)brokers, .topic = (char *)topic, .security_protocol = (char *)protocol};
    const char *types[] = {"webhook.*"};
    bl_webhook_spec spec = bl_webhook_test_spec("bad", types, 1);
    spec.kafka = &k;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *ep = bl_webhook_store_create(e->store, "org-bad", &spec, secret, sizeof secret, &err);
    CHECK(ep == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    printf("  refused %s / %s: %s\n", brokers, topic, err.msg);
    CHECK(strstr(err.msg, expect) != NULL);
    bl_webhook_endpoint_free(ep);
}

static void matching_events_reach_the_destination_topic_once_through_an_outage(void)
{
    const char *port_env = getenv("BUSLINE_KAFKA_DEST_PORT");
    private_broker dest = {0};
    wh_e2e e = {0};
    char *id = NULL;
    keep_only = json_pack("[{s:s, s:s, s:s}]", "field", "data.reason", "operator", "contains", "value", "keep");
    if (private_broker_start(&dest, port_env ? (unsigned short)atoi(port_env) : 0) != 0) {
        CHECK(!"second broker started");
        goto done;
    }
    char topic[96];
    bl_test_unique_name(topic, sizeof topic, "dest");
    NEED(create_topic(dest.brokers, topic) == 0);
    NEED(wh_e2e_open(&e) == 0);

    refused(&e, "no-port-here", topic, "plaintext", "kafka.brokers[0]");
    refused(&e, "10.1.2.3:9092", topic, "plaintext", "private");
    refused(&e, dest.brokers, "bad topic!", "plaintext", "kafka.topic");
    refused(&e, dest.brokers, topic, "sasl_ssl", "kafka.saslMechanism");

    bl_webhook_kafka k = {.brokers = dest.brokers, .topic = topic, .security_protocol = "plaintext"};
    id = wh_e2e_endpoint(&e, "org-kdest", "http://unused.invalid/", "webhook.*", to_kafka, &k, NULL);
    NEED(id != NULL);
    bl_webhook_endpoint *stored = bl_webhook_store_get(e.store, id, &(bl_err){0});
    NEED(stored && stored->kafka);
    CHECK(strcmp(stored->kafka->topic, topic) == 0);
    CHECK(strncmp(stored->url, "kafka://", 8) == 0);
    bl_webhook_endpoint_free(stored);
    NEED(wh_e2e_wait_cache(&e, 1) == 0);
    NEED(wh_e2e_start(&e, 1) == 0);

    /* 3 matching, 2 not (their reason lacks "keep") */
    NEED(wh_e2e_append(&e, "org-kdest", "agg-1", 3, "keep-a") == 0);
    NEED(wh_e2e_append(&e, "org-kdest", "agg-2", 2, "drop-b") == 0);
    seen s;
    read_destination(dest.brokers, topic, 3, 60, &s);
    CHECK_EQ_INT((long)s.n, 3);
    CHECK_EQ_INT((long)distinct_ids(&s), 3);
    for (size_t i = 0; i < s.n && i < MAX_SEEN; i++) {
        printf("  %s key=%s type=%s id=%s\n", s.reason[i], s.key[i], s.type[i], s.id[i]);
        CHECK(strcmp(s.key[i], "agg-1") == 0);
        CHECK(strcmp(s.type[i], "webhook.disabled") == 0);
        CHECK(strstr(s.reason[i], "keep") != NULL);
    }

    /* the destination down: attempts fail and are retried */
    CHECK_EQ_INT(private_broker_script(&dest, "stop"), 0);
    NEED(wh_e2e_append(&e, "org-kdest", "agg-3", 2, "keep-c") == 0);
    long failed = 0;
    for (int i = 0; i < 90 && failed < 2; i++) {
        sleep(1);
        failed = failed_attempts(&e, id);
    }
    printf("  failed attempts while the destination was down: %ld\n", failed);
    CHECK(failed >= 2);
    CHECK_EQ_INT(private_broker_script(&dest, "start"), 0);

    read_destination(dest.brokers, topic, 5, 120, &s);
    CHECK_EQ_INT((long)s.n, 5);
    CHECK_EQ_INT((long)distinct_ids(&s), 5);
    size_t after = 0;
    for (size_t i = 0; i < s.n && i < MAX_SEEN; i++)
        after += strcmp(s.key[i], "agg-3") == 0 && strstr(s.reason[i], "keep-c") != NULL;
    CHECK_EQ_INT((long)after, 2);
    CHECK(bl_webhook_test_count(&e.f, "SELECT count(*) FROM webhook_deliveries WHERE succeeded") == 5);
done:
    free(id);
    wh_e2e_close(&e);
    private_broker_remove(&dest);
    json_decref(keep_only);
}

int main(void)
{
    BL_RUN(matching_events_reach_the_destination_topic_once_through_an_outage);
    return bl_test_summary();
}
