/* The domain-service test fixture (see domain_fixture.h). */
#include "tests/support/domain_fixture.h"

#include "core/kafka_consumer.h"
#include "core/pg_pool.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 30000

int bl_test_domain_start(bl_test_domain *d, const char *domain, const bl_domain_rules *rules)
{
    bl_err err = {0};
    const char *api_prefix = d->api_prefix;
    memset(d, 0, sizeof *d);
    d->api_prefix = api_prefix;
    if (bl_test_registry_start(&d->reg) != 0)
        return -1;
    char tag[32];
    snprintf(tag, sizeof tag, "t_%s", domain);
    bl_test_unique_name(d->prefix, sizeof d->prefix - 1, tag);
    strcat(d->prefix, ".");
    snprintf(d->commands_topic, sizeof d->commands_topic, "%scommands.%s", d->prefix, domain);
    snprintf(d->dlq_topic, sizeof d->dlq_topic, "%s.dlq", d->commands_topic);
    snprintf(tag, sizeof tag, "%s_group", domain);
    bl_test_unique_name(d->group, sizeof d->group, tag);
    bl_kafka_topic_spec specs[] = {
        {.name = d->commands_topic, .partitions = 1, .replication_factor = -1},
        {.name = d->dlq_topic, .partitions = 1, .replication_factor = -1},
    };
    const char *names[] = {d->commands_topic, d->dlq_topic};
    bl_domain_codec_opts copts = {.domain = domain, .registry_url = d->reg.base_url,
                                  .commands_topic = d->commands_topic, .events_prefix = d->prefix};
    bl_domain_service_opts sopts = {.rules = rules, .brokers = bl_test_kafka_brokers(), .pg_url = d->reg.pg_url,
                                    .group_id = d->group, .commands_topic = d->commands_topic,
                                    .events_topic_prefix = d->prefix, .registry_url = d->reg.base_url,
                                    .api_prefix = d->api_prefix};
    if (!(d->admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err)) ||
        bl_kafka_admin_create_topics(d->admin, specs, 2, TIMEOUT_MS, &err) != 0 ||
        bl_kafka_admin_wait_visible(d->admin, names, 2, TIMEOUT_MS, &err) != 0 ||
        !(d->producer = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err)) ||
        !(d->codec = bl_domain_codec_new(&copts, &err)) || !(d->svc = bl_domain_service_new(&sopts, &err)) ||
        !(d->db = bl_pg_connect(d->reg.pg_url, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void bl_test_domain_stop(bl_test_domain *d)
{
    bl_err err = {0};
    bl_domain_service_free(d->svc);
    bl_domain_codec_free(d->codec);
    bl_kafka_producer_free(d->producer, 5000);
    if (d->admin) {
        const char *names[] = {d->commands_topic, d->dlq_topic};
        bl_kafka_admin_delete_topics(d->admin, names, 2, TIMEOUT_MS, &err);
    }
    bl_kafka_admin_free(d->admin);
    PQfinish(d->db);
    bl_test_registry_stop(&d->reg);
}

void bl_test_domain_new_org(bl_test_domain *d)
{
    bl_test_unique_name(d->org, sizeof d->org, "org");
}

static long handled(const bl_test_domain *d)
{
    bl_domain_service_stats s = bl_domain_service_stats_get(d->svc);
    return s.applied + s.duplicates + s.dead_letters;
}

int bl_test_domain_run(bl_test_domain *d, long n)
{
    long target = handled(d) + n;
    bl_err err = {0};
    for (int i = 0; i < 60 && handled(d) < target; i++) {
        if (bl_domain_service_step(d->svc, 1000, &err) < 0) {
            fprintf(stderr, "  service: %s\n", err.msg);
            return -1;
        }
    }
    if (handled(d) < target)
        fprintf(stderr, "  service handled %ld of %ld\n", handled(d) - (target - n), n);
    return handled(d) >= target ? 0 : -1;
}

int bl_test_domain_produce(bl_test_domain *d, const char *key, const void *value, size_t len)
{
    bl_err err = {0};
    if (bl_kafka_producer_send_sync(d->producer, d->commands_topic, key, strlen(key), value, len, NULL, 0,
                                    TIMEOUT_MS, NULL, NULL, &err) != 0) {
        fprintf(stderr, "  produce: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int bl_test_domain_send(bl_test_domain *d, const char *fmt, char id_out[BL_UUID_SIZE])
{
    char text[2048];
    snprintf(text, sizeof text, fmt, d->org);
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_domain_prepared cmd;
    bl_err err = {0};
    int rc = input ? bl_domain_command_prepare(d->codec, input, &sender, &cmd, &err) : -1;
    json_decref(input);
    if (rc != 0) {
        fprintf(stderr, "  prepare: %s\n", input ? err.msg : "bad test JSON");
        return -1;
    }
    rc = bl_test_domain_produce(d, cmd.subject, cmd.wire.bytes, cmd.wire.len);
    if (id_out)
        memcpy(id_out, cmd.id, BL_UUID_SIZE);
    bl_domain_prepared_clear(&cmd);
    return rc;
}

PGresult *bl_test_domain_query(bl_test_domain *d, const char *sql, const char *param)
{
    bl_err err = {0};
    const char *params[] = {param};
    PGresult *res = bl_pg_exec(d->db, sql, param ? 1 : 0, params, &err);
    if (!res)
        fprintf(stderr, "  query: %s\n", err.msg);
    return res;
}

long bl_test_domain_count(bl_test_domain *d, const char *sql, const char *param)
{
    PGresult *res = bl_test_domain_query(d, sql, param);
    long n = res && PQntuples(res) ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

static void copy_headers(const bl_kafka_msg *m, bl_test_dlq_seen *s)
{
    struct {
        const char *key;
        char *out;
        size_t len;
    } want[] = {
        {"error_class", s->error_class, sizeof s->error_class},
        {"error", s->error, sizeof s->error},
        {"original_topic", s->original_topic, sizeof s->original_topic},
        {"original_offset", s->original_offset, sizeof s->original_offset},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const void *v;
        size_t len;
        if (bl_kafka_msg_header(m, want[k].key, &v, &len) == 0)
            snprintf(want[k].out, want[k].len, "%.*s", (int)len, (const char *)v);
    }
}

int bl_test_domain_read_dlq(bl_test_domain *d, bl_test_dlq_seen *seen, int n)
{
    char g[96];
    bl_test_unique_name(g, sizeof g, "dlq_reader");
    bl_kafka_consumer_opts opts = {.brokers = bl_test_kafka_brokers(), .group_id = g};
    bl_err err = {0};
    bl_kafka_consumer *c = bl_kafka_consumer_new(&opts, &err);
    const char *topics[] = {d->dlq_topic};
    if (!c || bl_kafka_consumer_subscribe(c, topics, 1, &err) != 0) {
        fprintf(stderr, "  dlq consumer: %s\n", err.msg);
        bl_kafka_consumer_free(c);
        return -1;
    }
    int got = 0;
    for (int i = 0; i < 60 && got < n; i++) {
        bl_kafka_msg *m = NULL;
        if (bl_kafka_consumer_poll(c, 1000, &m, &err) != 1)
            continue;
        copy_headers(m, &seen[got++]);
        bl_kafka_msg_release(m);
    }
    bl_kafka_consumer_free(c);
    return got;
}
