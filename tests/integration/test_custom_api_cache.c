/* Caching of custom endpoints across two API replicas with pinned clocks:
 * a hit spares the outside service, the TTL ends it, an event its
 * invalidationRules name (arriving on Kafka's events.*) evicts it on every
 * replica while other events do not, and the database strategy shares
 * answers between replicas. */
#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "tests/support/custom_api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_custom t;
static bl_test_fake service;
static bl_kafka_producer *producer;
static char topic[200];

/* A cached GET calling the fake service. */
static long make(const char *path, const char *caching)
{
    char def[1024];
    snprintf(def, sizeof def,
             "{\"name\":\"cached\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"
             "\"integrations\":[{\"id\":\"svc\",\"type\":\"http\",\"endpoint\":\"%s/data\"}],\"caching\":%s}",
             path, service.url, caching);
    return bl_test_custom_create(&t, def, NULL);
}

/* GET path on replica i; *cache gets its X-Cache. Returns the status. */
static long get(int i, const char *path, char *cache)
{
    bl_test_reply r;
    long st = bl_test_custom_call(&t, t.replicas[i], "GET", path, NULL, NULL, &r);
    snprintf(cache, 16, "%s", r.cache);
    bl_test_reply_clear(&r);
    return st;
}

/* The first answer of replica i that is not 404 (it learns of a new endpoint a moment after the save). */
static long served(int i, const char *path, char *cache)
{
    long st = 404;
    for (int k = 0; k < 400 && st == 404; k++)
        if ((st = get(i, path, cache)) == 404)
            usleep(25 * 1000);
    return st;
}

static void hit_spares_the_service_until_the_ttl_ends(void)
{
    REQUIRE(make("/ttl", "{\"enabled\":true,\"ttl\":30,\"strategy\":\"memory\"}") == 201);
    char cache[16];
    REQUIRE(served(0, "/ttl", cache) == 200);
    CHECK_EQ_STR(cache, "MISS");
    int hits = atomic_load(&service.hits);
    CHECK_EQ_INT(get(0, "/ttl", cache), 200);
    CHECK_EQ_STR(cache, "HIT");
    CHECK_EQ_INT(atomic_load(&service.hits), hits);
    t.clock += 29;
    CHECK_EQ_INT(get(0, "/ttl", cache), 200);
    CHECK_EQ_STR(cache, "HIT");
    t.clock += 1; /* 30 s after it was kept */
    CHECK_EQ_INT(get(0, "/ttl", cache), 200);
    CHECK_EQ_STR(cache, "MISS");
    CHECK_EQ_INT(atomic_load(&service.hits), hits + 1);
}

static int produce(const char *type)
{
    bl_kafka_header h[] = {{"ce_type", type, strlen(type)}, {"ce_id", "e-1", 3}};
    bl_err err = {0};
    int rc = bl_kafka_producer_send_sync(producer, topic, "k", 1, "x", 1, h, 2, 10000, NULL, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "  produce: %s\n", err.msg);
    return rc;
}

/* Produces type until replica i's next GET of path is a MISS (each
 * replica's consumer joins its group a moment after the endpoint asks for
 * it, and starts at the newest offset). Returns 1 when it was. */
static int evicted_by(int i, const char *path, const char *type)
{
    char cache[16];
    for (int k = 0; k < 100; k++) {
        if (produce(type) != 0)
            return 0;
        usleep(200 * 1000);
        if (get(i, path, cache) == 200 && strcmp(cache, "MISS") == 0)
            return 1;
    }
    return 0;
}

static void event_named_by_invalidation_rules_evicts_on_every_replica(void)
{
    REQUIRE(make("/evicted", "{\"enabled\":true,\"ttl\":3600,\"invalidationRules\":[\"decision.approved\"]}") == 201);
    REQUIRE(make("/marker", "{\"enabled\":true,\"ttl\":3600,\"invalidationRules\":[\"decision.rejected\"]}") == 201);
    char cache[16];
    for (int i = 0; i < 2; i++) {
        REQUIRE(served(i, "/evicted", cache) == 200);
        REQUIRE(served(i, "/marker", cache) == 200);
    }
    CHECK(evicted_by(0, "/evicted", "decision.approved"));
    CHECK(evicted_by(1, "/evicted", "decision.approved"));
    /* once a replica has read the marker's event, it has read every event
     * produced before it (one partition): then it caches /evicted again */
    for (int i = 0; i < 2; i++) {
        CHECK(evicted_by(i, "/marker", "decision.rejected"));
        CHECK_EQ_INT(get(i, "/evicted", cache), 200);
        CHECK_EQ_INT(get(i, "/evicted", cache), 200);
        CHECK_EQ_STR(cache, "HIT");
    }
    /* an event no rule of /evicted names leaves its answer there */
    REQUIRE(produce("project.created") == 0);
    for (int i = 0; i < 2; i++) {
        CHECK(evicted_by(i, "/marker", "decision.rejected"));
        CHECK_EQ_INT(get(i, "/evicted", cache), 200);
        CHECK_EQ_STR(cache, "HIT");
    }
}

static void database_strategy_shares_answers_between_replicas(void)
{
    REQUIRE(make("/shared", "{\"enabled\":true,\"ttl\":60,\"strategy\":\"database\"}") == 201);
    char cache[16];
    REQUIRE(served(0, "/shared", cache) == 200);
    CHECK_EQ_STR(cache, "MISS");
    int hits = atomic_load(&service.hits);
    REQUIRE(served(1, "/shared", cache) == 200);
    CHECK_EQ_STR(cache, "HIT"); /* kept by the other replica */
    CHECK_EQ_INT(atomic_load(&service.hits), hits);
    t.clock += 60;
    CHECK_EQ_INT(get(1, "/shared", cache), 200);
    CHECK_EQ_STR(cache, "MISS");
}

static int setup(void)
{
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    if (bl_test_fake_start(&service, 200, "{\"answer\":42}") != 0 || bl_test_custom_start(&t, 1, 2, 1) != 0)
        return -1;
    snprintf(topic, sizeof topic, "%sevents.pmo.decision", t.api.prefix);
    bl_err err = {0};
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {topic, 1, 1, NULL};
    const char *names[] = {topic};
    int rc = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0
                 ? 0
                 : -1;
    bl_kafka_admin_free(admin);
    if (rc == 0 && !(producer = bl_kafka_producer_new(bl_test_kafka_brokers(), NULL, NULL, NULL, &err)))
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "  setup: %s\n", err.msg);
    return rc;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(hit_spares_the_service_until_the_ttl_ends);
        BL_RUN(event_named_by_invalidation_rules_evicts_on_every_replica);
        BL_RUN(database_strategy_shares_answers_between_replicas);
    } else {
        bl_test_failures++;
    }
    if (producer)
        bl_kafka_producer_free(producer, 5000);
    bl_test_custom_stop(&t); /* the consumers leave before their topic goes */
    if (topic[0]) {
        bl_err err = {0};
        bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
        const char *names[] = {topic};
        if (admin)
            bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
        bl_kafka_admin_free(admin);
    }
    bl_test_fake_stop(&service);
    curl_global_cleanup();
    return bl_test_summary();
}
