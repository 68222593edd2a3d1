/* The workers' endpoint cache against a real PostgreSQL: matching by
 * organization, type pattern and conditions; changes seen through
 * LISTEN/NOTIFY; snapshots that outlive the table that held them. */
#include "connectors/webhook/store/endpoint_cache.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "tests/support/test.h"
#include "tests/support/webhook_test.h"

#include <time.h>
#include <unistd.h>

#define WAIT_S 5

static bl_webhook_fixture fx;
static bl_webhook_store *store;

static bl_webhook_cache *new_cache(void)
{
    bl_webhook_cache_opts o = {.conninfo = fx.pg_url, .keyring = fx.keyring};
    bl_err err = {0};
    bl_webhook_cache *c = bl_webhook_cache_new(&o, &err);
    if (!c)
        fprintf(stderr, "  cache: %s\n", err.msg);
    return c;
}

/* Creates an endpoint of org for types with conditions (JSON text or NULL);
 * secret_out (may be NULL) gets its secret. Returns it or NULL. */
static bl_webhook_endpoint *create(const char *org, const char *name, const char *types_csv,
                                   const char *conditions, char *secret_out)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", types_csv);
    const char *types[8];
    size_t n = 0;
    for (char *t = strtok(copy, ","); t && n < 8; t = strtok(NULL, ","))
        types[n++] = t;
    bl_webhook_spec spec = bl_webhook_test_spec(name, types, n);
    json_t *conds = conditions ? json_loads(conditions, 0, NULL) : NULL;
    spec.conditions = conds;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_create(store, org, &spec, secret, sizeof secret, &err);
    if (!e)
        fprintf(stderr, "  create: %s\n", err.msg);
    if (secret_out)
        memcpy(secret_out, secret, sizeof secret);
    json_decref(conds);
    return e;
}

/* How many endpoints match, and whether id (may be NULL) is among them. */
static int match_count(bl_webhook_cache *c, const char *org, const char *type, const char *event,
                       const char *id, bool *has_id)
{
    json_t *ev = event ? json_loads(event, 0, NULL) : NULL;
    bl_webhook_match_list l = {0};
    bl_err err = {0};
    int n = bl_webhook_cache_match(c, org, type, ev, &l, &err);
    if (has_id) {
        *has_id = false;
        for (size_t i = 0; i < l.count; i++)
            if (id && strcmp(l.items[i]->endpoint->id, id) == 0)
                *has_id = true;
    }
    for (size_t i = 0; i < l.count; i++)
        if (strcmp(l.items[i]->endpoint->organization_id, org) != 0)
            n = -100; /* another organization's endpoint: never */
    bl_webhook_match_list_free(&l);
    json_decref(ev);
    return n;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_10ms(void)
{
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until get(id) is present (want true) or absent, for up to WAIT_S. */
static bool wait_presence(bl_webhook_cache *c, const char *id, bool want)
{
    double until = mono_s() + WAIT_S;
    for (;;) {
        bl_webhook_snapshot *s = bl_webhook_cache_get(c, id);
        bool present = s != NULL;
        bl_webhook_snapshot_release(s);
        if (present == want)
            return true;
        if (mono_s() > until)
            return false;
        sleep_10ms();
    }
}

static void match_honours_organization_patterns_conditions_and_state(void)
{
    char a[64], b[64];
    bl_test_unique_name(a, sizeof a, "orga");
    bl_test_unique_name(b, sizeof b, "orgb");
    bl_webhook_endpoint *high = create(a, "high risks", "risk.*",
        "[{\"field\":\"data.severity\",\"operator\":\"in\",\"value\":[\"HIGH\",\"CRITICAL\"]}]", NULL);
    bl_webhook_endpoint *status = create(a, "status", "project.status_changed", NULL, NULL);
    bl_webhook_endpoint *all_b = create(b, "everything", "*", NULL, NULL);
    bl_webhook_endpoint *off = create(a, "disabled", "*", NULL, NULL);
    REQUIRE(high && status && all_b && off);
    bl_err err = {0};
    REQUIRE(bl_webhook_store_disable(store, off->id, "test", &err) == 0);

    bl_webhook_cache *c = new_cache();
    REQUIRE(c);
    bool has = false;
    CHECK_EQ_INT(match_count(c, a, "risk.escalated", "{\"data\":{\"severity\":\"HIGH\"}}",
                             high->id, &has), 1);
    CHECK(has);
    CHECK_EQ_INT(match_count(c, a, "risk.escalated", "{\"data\":{\"severity\":\"LOW\"}}", NULL,
                             NULL), 0);
    CHECK_EQ_INT(match_count(c, a, "project.status_changed", NULL, status->id, &has), 1);
    CHECK(has);
    CHECK_EQ_INT(match_count(c, a, "project.created", NULL, NULL, NULL), 0);
    CHECK_EQ_INT(match_count(c, b, "risk.escalated", "{\"data\":{\"severity\":\"HIGH\"}}",
                             all_b->id, &has), 1);
    CHECK(has);
    CHECK_EQ_INT(match_count(c, "nobody", "risk.escalated", NULL, NULL, NULL), 0);
    bl_webhook_snapshot *s = bl_webhook_cache_get(c, off->id);
    CHECK(s == NULL);
    bl_webhook_snapshot_release(s);

    bl_webhook_cache_free(c);
    bl_webhook_endpoint_free(high);
    bl_webhook_endpoint_free(status);
    bl_webhook_endpoint_free(all_b);
    bl_webhook_endpoint_free(off);
}

/* The index looks up "*", the exact type and each "prefix.*" of the type:
 * every pattern that can take the event is found, once per endpoint, and
 * no other; lookups by id find every endpoint among many. */
static void match_through_the_index_finds_every_pattern_once(void)
{
    char org[64];
    bl_test_unique_name(org, sizeof org, "orgix");
    bl_webhook_endpoint *deep = create(org, "deep", "a.b.*", NULL, NULL);
    bl_webhook_endpoint *both = create(org, "both", "a.*,a.b.c", NULL, NULL);
    bl_webhook_endpoint *star = create(org, "star", "*", NULL, NULL);
    bl_webhook_endpoint *exact = create(org, "exact", "a.b.c", NULL, NULL);
    bl_webhook_endpoint *other = create(org, "other", "a.c.*,a.bc,b.*", NULL, NULL);
    REQUIRE(deep && both && star && exact && other);
    bl_webhook_endpoint *many[40];
    for (int i = 0; i < 40; i++) {
        char name[32], type[32];
        snprintf(name, sizeof name, "n%d", i);
        snprintf(type, sizeof type, "t%d.created", i);
        many[i] = create(org, name, type, NULL, NULL);
        REQUIRE(many[i]);
    }
    bl_webhook_cache *c = new_cache();
    REQUIRE(c);
    bool has = false;
    CHECK_EQ_INT(match_count(c, org, "a.b.c", NULL, both->id, &has), 4);
    CHECK(has);
    CHECK_EQ_INT(match_count(c, org, "a.b.c", NULL, deep->id, &has), 4);
    CHECK(has);
    CHECK_EQ_INT(match_count(c, org, "a.b.c", NULL, other->id, &has), 4);
    CHECK(!has);
    CHECK_EQ_INT(match_count(c, org, "a.b", NULL, both->id, &has), 2); /* a.* and * */
    CHECK(has);
    CHECK_EQ_INT(match_count(c, org, "a.", NULL, NULL, NULL), 1);      /* only * */
    CHECK_EQ_INT(match_count(c, org, "a.bc", NULL, other->id, &has), 3); /* a.bc, a.*, * */
    CHECK(has);
    CHECK_EQ_INT(match_count(c, org, "t7.created", NULL, many[7]->id, &has), 2);
    CHECK(has);
    /* in id order, each endpoint once */
    bl_webhook_match_list l = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_webhook_cache_match(c, org, "a.b.c", NULL, &l, &err), 4);
    for (size_t i = 1; i < l.count; i++)
        CHECK(strcmp(l.items[i - 1]->endpoint->id, l.items[i]->endpoint->id) < 0);
    bl_webhook_match_list_free(&l);
    for (int i = 0; i < 40; i++) {
        bl_webhook_snapshot *s = bl_webhook_cache_get(c, many[i]->id);
        CHECK(s && strcmp(s->endpoint->id, many[i]->id) == 0);
        bl_webhook_snapshot_release(s);
        bl_webhook_endpoint_free(many[i]);
    }
    bl_webhook_snapshot *none = bl_webhook_cache_get(c, "00000000-0000-0000-0000-000000000000");
    CHECK(none == NULL);
    bl_webhook_cache_free(c);
    bl_webhook_endpoint_free(deep);
    bl_webhook_endpoint_free(both);
    bl_webhook_endpoint_free(star);
    bl_webhook_endpoint_free(exact);
    bl_webhook_endpoint_free(other);
}

static void changes_reach_the_cache_through_notify(void)
{
    char org[64];
    bl_test_unique_name(org, sizeof org, "org");
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *e = create(org, "live", "risk.*", NULL, secret);
    REQUIRE(e);
    bl_webhook_cache *c = new_cache();
    REQUIRE(c);
    bl_webhook_snapshot *s = bl_webhook_cache_get(c, e->id);
    REQUIRE(s);
    bl_webhook_secret want;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(secret, &want, &err) == 0);
    CHECK(s->secret.len == want.len && memcmp(s->secret.key, want.key, want.len) == 0);
    bl_webhook_snapshot_release(s);

    /* An update of the types: the old type stops matching. */
    const char *types_buf[8];
    bl_webhook_spec spec;
    bl_webhook_spec_from_endpoint(e, &spec, types_buf);
    const char *only_projects[] = {"project.*"};
    spec.event_types = only_projects;
    spec.event_type_count = 1;
    bl_webhook_endpoint *upd = bl_webhook_store_update(store, e->id, &spec, &err);
    REQUIRE(upd);
    double until = mono_s() + WAIT_S;
    while (match_count(c, org, "risk.escalated", NULL, NULL, NULL) != 0 && mono_s() < until)
        sleep_10ms();
    CHECK_EQ_INT(match_count(c, org, "risk.escalated", NULL, NULL, NULL), 0);
    CHECK_EQ_INT(match_count(c, org, "project.created", NULL, NULL, NULL), 1);

    /* Disabled: gone; enabled: back; a new endpoint: appears. */
    REQUIRE(bl_webhook_store_disable(store, e->id, NULL, &err) == 0);
    CHECK(wait_presence(c, e->id, false));
    REQUIRE(bl_webhook_store_enable(store, e->id, &err) == 0);
    CHECK(wait_presence(c, e->id, true));
    bl_webhook_endpoint *later = create(org, "later", "*", NULL, NULL);
    REQUIRE(later);
    CHECK(wait_presence(c, later->id, true));

    /* A rotation shows up as the new key plus the previous one. */
    char rotated[BL_WEBHOOK_SECRET_TEXT_MAX];
    REQUIRE(bl_webhook_store_rotate(store, e->id, 0, rotated, sizeof rotated, &err) == 0);
    bl_webhook_secret want2;
    REQUIRE(bl_webhook_secret_parse(rotated, &want2, &err) == 0);
    until = mono_s() + WAIT_S;
    bool seen = false;
    while (!seen && mono_s() < until) {
        s = bl_webhook_cache_get(c, e->id);
        seen = s && s->secret.len == want2.len && memcmp(s->secret.key, want2.key, want2.len) == 0 &&
               s->previous_secret.len == want.len &&
               memcmp(s->previous_secret.key, want.key, want.len) == 0;
        bl_webhook_snapshot_release(s);
        if (!seen)
            sleep_10ms();
    }
    CHECK(seen);

    REQUIRE(bl_webhook_store_delete(store, later->id, &err) == 0);
    CHECK(wait_presence(c, later->id, false));
    bl_webhook_cache_stats st;
    bl_webhook_cache_stats_get(c, &st);
    CHECK(st.updates >= 5);
    CHECK_EQ_INT(st.full_loads, 1);
    bl_webhook_cache_free(c);
    bl_webhook_endpoint_free(later);
    bl_webhook_endpoint_free(upd);
    bl_webhook_endpoint_free(e);
}

static void held_snapshots_outlive_reloads_and_the_cache(void)
{
    char org[64];
    bl_test_unique_name(org, sizeof org, "org");
    bl_webhook_endpoint *e = create(org, "held", "*", NULL, NULL);
    REQUIRE(e);
    bl_webhook_cache *c = new_cache();
    REQUIRE(c);
    bl_webhook_match_list held = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_webhook_cache_match(c, org, "risk.created", NULL, &held, &err), 1);
    REQUIRE(held.count == 1);
    uint8_t key[BL_WEBHOOK_SECRET_MAX_BYTES];
    size_t key_len = held.items[0]->secret.len;
    memcpy(key, held.items[0]->secret.key, key_len);

    /* Renamed then deleted: the cache drops both old tables' entries. */
    const char *types_buf[8];
    bl_webhook_spec spec;
    bl_webhook_spec_from_endpoint(e, &spec, types_buf);
    spec.name = "renamed";
    bl_webhook_endpoint *upd = bl_webhook_store_update(store, e->id, &spec, &err);
    REQUIRE(upd);
    REQUIRE(bl_webhook_store_delete(store, e->id, &err) == 0);
    CHECK(wait_presence(c, e->id, false));
    bl_webhook_cache_free(c);

    /* Still whole: ASan would report a use after free here. */
    CHECK_EQ_STR(held.items[0]->endpoint->name, "held");
    CHECK_EQ_STR(held.items[0]->endpoint->id, e->id);
    CHECK(held.items[0]->secret.len == key_len &&
          memcmp(held.items[0]->secret.key, key, key_len) == 0);
    CHECK(bl_event_filter_matches(held.items[0]->filter, NULL));
    bl_webhook_match_list_free(&held);
    bl_webhook_endpoint_free(upd);
    bl_webhook_endpoint_free(e);
}

static void a_lost_connection_is_followed_by_a_full_reload(void)
{
    char org[64];
    bl_test_unique_name(org, sizeof org, "org");
    bl_webhook_cache_opts o = {.conninfo = fx.pg_url, .keyring = fx.keyring, .reconnect_ms = 100};
    bl_err err = {0};
    bl_webhook_cache *c = bl_webhook_cache_new(&o, &err);
    REQUIRE(c);
    /* Every other session of the database ends, the cache's LISTEN too. */
    PGresult *res = PQexec(fx.conn, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()");
    CHECK(PQresultStatus(res) == PGRES_TUPLES_OK && atoi(PQgetvalue(res, 0, 0)) >= 1);
    PQclear(res);
    /* The pool notices its own dead connections only on use: one more try. */
    bl_webhook_endpoint *e = NULL;
    for (int i = 0; i < 5 && !e; i++)
        e = create(org, "after the outage", "*", NULL, NULL);
    REQUIRE(e);
    CHECK(wait_presence(c, e->id, true));
    /* the reconnect is counted just after its reload made the endpoint
     * visible: ask until it is (bounded) */
    bl_webhook_cache_stats st;
    bl_webhook_cache_stats_get(c, &st);
    for (int i = 0; i < 100 && st.reconnects < 1; i++) {
        usleep(50 * 1000);
        bl_webhook_cache_stats_get(c, &st);
    }
    CHECK(st.reconnects >= 1);
    CHECK(st.full_loads >= 2);
    bl_webhook_cache_free(c);
    bl_webhook_endpoint_free(e);
}

int main(void)
{
    if (bl_webhook_fixture_open(&fx) != 0) {
        bl_webhook_fixture_close(&fx);
        return 1;
    }
    bl_webhook_store_opts o = {.pool = fx.pool, .keyring = fx.keyring, .allow = &fx.allow};
    bl_err err = {0};
    store = bl_webhook_store_new(&o, &err);
    if (store) {
        BL_RUN(match_honours_organization_patterns_conditions_and_state);
        BL_RUN(match_through_the_index_finds_every_pattern_once);
        BL_RUN(changes_reach_the_cache_through_notify);
        BL_RUN(held_snapshots_outlive_reloads_and_the_cache);
        BL_RUN(a_lost_connection_is_followed_by_a_full_reload);
    } else {
        fprintf(stderr, "store: %s\n", err.msg);
        bl_test_failures++;
    }
    bl_webhook_store_free(store);
    bl_webhook_fixture_close(&fx);
    return bl_test_summary();
}
