#include "tests/support/v1_pmo_fixture.h"

#include "producers/pmo/domain.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_v1_pmo_start(bl_v1_pmo *p, bl_test_api *api)
{
    memset(p, 0, sizeof *p);
    p->api = api;
    char group[96];
    bl_test_unique_name(group, sizeof group, "g_v1_pmo");
    snprintf(p->dlq, sizeof p->dlq, "%s.dlq", api->topics[0]);
    bl_err err = {0};
    bl_kafka_admin *admin = p->admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec dlq_spec = {.name = p->dlq, .partitions = 1, .replication_factor = -1};
    const char *dlq_names[] = {p->dlq};
    p->dlq_made = admin && bl_kafka_admin_create_topics(admin, &dlq_spec, 1, 30000, &err) == 0 &&
                  bl_kafka_admin_wait_visible(admin, dlq_names, 1, 30000, &err) == 0;
    bl_domain_service_opts o = {.rules = &bl_pmo_rules, .brokers = bl_test_kafka_brokers(),
                                .pg_url = api->registry.pg_url, .group_id = group,
                                .commands_topic = api->topics[0], .dlq_topic = p->dlq,
                                .events_topic_prefix = api->prefix, .registry_url = api->registry.base_url};
    if (!p->dlq_made || !(p->service = bl_domain_service_new(&o, &err))) {
        fprintf(stderr, "setup: pmo: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void bl_v1_pmo_stop(bl_v1_pmo *p)
{
    bl_domain_service_free(p->service);
    p->service = NULL;
    bl_err err = {0};
    const char *dlq_names[] = {p->dlq};
    if (p->admin && p->dlq_made)
        bl_kafka_admin_delete_topics(p->admin, dlq_names, 1, 30000, &err);
    bl_kafka_admin_free(p->admin);
    p->admin = NULL;
}

typedef struct stepper {
    bl_v1_pmo *p;
    atomic_int running;
} stepper;

static void step_once(bl_v1_pmo *p)
{
    bl_err err = {0};
    if (bl_domain_service_step(p->service, 100, &err) < 0)
        fprintf(stderr, "  pmo: %s\n", err.msg);
}

static void *step_main(void *arg)
{
    stepper *s = arg;
    while (atomic_load(&s->running))
        step_once(s->p);
    return NULL;
}

long bl_v1_pmo_call(bl_v1_pmo *p, const char *method, const char *path, const char *token, const char *body,
                    bl_test_reply *r)
{
    pthread_t t;
    stepper s = {.p = p};
    atomic_store(&s.running, 1);
    if (pthread_create(&t, NULL, step_main, &s) != 0)
        return -1;
    long status = bl_test_api_call(p->api, method, path, token, NULL, body, r);
    atomic_store(&s.running, 0);
    pthread_join(t, NULL);
    return status;
}

/* Whether r is want_status with data.<field> reading want. */
static int answer_is(const bl_test_reply *r, long want_status, const char *field, const char *want)
{
    if (r->status != want_status)
        return 0;
    if (!field)
        return 1;
    const json_t *v = json_object_get(json_object_get(r->json, "data"), field);
    if (json_is_string(v))
        return strcmp(json_string_value(v), want) == 0;
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    int same = text && strcmp(text, want) == 0;
    free(text);
    return same;
}

int bl_v1_pmo_step_until(bl_v1_pmo *p, const char *path, const char *token, long want_status, const char *field,
                         const char *want)
{
    for (int i = 0; i < 300; i++) {
        step_once(p);
        bl_test_reply r;
        bl_test_api_call(p->api, "GET", path, token, NULL, NULL, &r);
        int done = answer_is(&r, want_status, field, want);
        if (done || i == 299) {
            if (!done)
                fprintf(stderr, "  %s: last answer %ld %s\n", path, r.status, r.body ? r.body : "");
            bl_test_reply_clear(&r);
            return done;
        }
        bl_test_reply_clear(&r);
    }
    return 0;
}
