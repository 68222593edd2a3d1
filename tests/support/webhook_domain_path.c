#include "tests/support/webhook_domain_path.h"

#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>

static void *domain_fanout_main(void *arg)
{
    bl_err err = {0};
    if (bl_webhook_fanout_run(arg, &err) != 0)
        fprintf(stderr, "fanout: %s\n", err.msg);
    return NULL;
}

int wh_domain_path_open(wh_domain_path *p, const char *pg_url, const char *topic)
{
    bl_err err = {0};
    if (bl_webhook_fixture_attach(&p->wh.f, pg_url) != 0 || wh_e2e_open(&p->wh) != 0)
        return -1;
    snprintf(p->topic, sizeof p->topic, "%s", topic);
    const char *topics[] = {p->topic};
    if (fixture_topics_create(topics, 1, 3) != 0)
        return -1;
    p->have_topic = 1;
    char group[96];
    snprintf(group, sizeof group, "%s-domain", p->wh.prefix);
    bl_webhook_fanout_opts fo = {.brokers = bl_test_kafka_brokers(), .group_id = group, .topics = topics,
                                 .n_topics = 1, .deliveries_topic = p->wh.deliveries, .cache = p->wh.cache,
                                 .schemas = p->wh.schemas, .drain_timeout_ms = 2000};
    if (!(p->fanout = bl_webhook_fanout_new(&fo, &err))) {
        fprintf(stderr, "  domain fanout: %s\n", err.msg);
        return -1;
    }
    p->fanout_on = pthread_create(&p->fanout_t, NULL, domain_fanout_main, p->fanout) == 0;
    return p->fanout_on && wh_e2e_start(&p->wh, 1) == 0 ? 0 : -1;
}

void wh_domain_path_close(wh_domain_path *p)
{
    if (p->fanout_on) {
        bl_webhook_fanout_stop(p->fanout);
        pthread_join(p->fanout_t, NULL);
    }
    bl_webhook_fanout_free(p->fanout);
    if (p->have_topic)
        fixture_topics_delete((const char *[]){p->topic}, 1);
    wh_e2e_close(&p->wh);
}
