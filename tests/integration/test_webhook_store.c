/* The webhook endpoint store against a real PostgreSQL: CRUD with sealed
 * secrets, validation, rotation, enable/disable and health with the
 * webhook.disabled event in the outbox. One fresh database for the file;
 * each test uses its own organization. */
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/ops_events.h"
#include "connectors/webhook/store/webhook_events.h"
#include "tests/support/test.h"
#include "tests/support/webhook_test.h"

#include <time.h>

static bl_webhook_fixture fx;

static bl_webhook_store *new_store(const bl_webhook_events *events, int failures)
{
    bl_webhook_store_opts o = {.pool = fx.pool, .keyring = fx.keyring, .allow = &fx.allow,
                               .events = events, .health_failures = failures,
                               .health_window_ms = -1};
    bl_err err = {0};
    bl_webhook_store *st = bl_webhook_store_new(&o, &err);
    if (!st)
        fprintf(stderr, "  store: %s\n", err.msg);
    return st;
}

static void org_name(char *out, size_t len)
{
    bl_test_unique_name(out, len, "org");
}

/* The whole row as JSON text, to look for leaked plaintext. */
static char *row_text(const char *id)
{
    const char *params[] = {id};
    PGresult *res = PQexecParams(fx.conn, "SELECT row_to_json(e)::text FROM webhook_endpoints e "
                                 "WHERE id = $1", 1, NULL, params, NULL, NULL, 0);
    char *s = PQntuples(res) == 1 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return s;
}

static void endpoint_round_trip_keeps_the_secret_sealed_at_rest(void)
{
    bl_webhook_store *st = new_store(NULL, 0);
    REQUIRE(st);
    char org[64];
    org_name(org, sizeof org);
    const char *types[] = {"risk.*", "project.status_changed"};
    bl_webhook_spec spec = bl_webhook_test_spec("ops", types, 2);
    json_t *conds = json_loads("[{\"field\":\"data.severity\",\"operator\":\"in\","
                               "\"value\":[\"HIGH\",\"CRITICAL\"]}]", 0, NULL);
    json_t *headers = json_pack("{s:s}", "X-Team", "risk");
    spec.conditions = conds;
    spec.headers = headers;
    spec.legacy_signature = true;
    spec.max_attempts = 5;
    spec.rate_limit_per_s = 2.5;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_create(st, org, &spec, secret, sizeof secret, &err);
    if (!e)
        fprintf(stderr, "  create: %s\n", err.msg);
    REQUIRE(e);
    CHECK(strncmp(secret, "whsec_", 6) == 0);
    CHECK_EQ_INT(e->event_type_count, 2);
    CHECK_EQ_STR(e->event_types[0], "risk.*");
    CHECK(e->active && e->legacy_signature && !e->strict_order);
    CHECK_EQ_INT(e->max_attempts, 5);
    CHECK_EQ_INT(e->timeout_ms, 10000);
    CHECK_EQ_INT(e->backoff_base_ms, 1000);
    CHECK_EQ_INT(e->rate_limit_burst, 3);
    CHECK_EQ_STR(json_string_value(json_object_get(e->headers, "X-Team")), "risk");
    CHECK(json_equal(e->conditions, conds));

    char *row = row_text(e->id);
    REQUIRE(row);
    CHECK(strstr(row, secret) == NULL);
    CHECK(strstr(row, secret + 6) == NULL); /* not even the base64 key */
    CHECK(strstr(row, "\"v1.k1.") != NULL);
    free(row);

    bl_webhook_endpoint *got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    bl_webhook_secret cur, prev, want;
    int64_t until = 0;
    REQUIRE(bl_webhook_secret_parse(secret, &want, &err) == 0);
    REQUIRE(bl_webhook_endpoint_secrets(got, fx.keyring, 0, &cur, &prev, &until, &err) == 0);
    CHECK(cur.len == want.len && memcmp(cur.key, want.key, cur.len) == 0);
    CHECK_EQ_INT(prev.len, 0);

    const char *types_buf[8];
    bl_webhook_spec upd;
    bl_webhook_spec_from_endpoint(got, &upd, types_buf);
    upd.name = "ops renamed";
    upd.strict_order = true;
    bl_webhook_endpoint *updated = bl_webhook_store_update(st, e->id, &upd, &err);
    REQUIRE(updated);
    CHECK_EQ_STR(updated->name, "ops renamed");
    CHECK(updated->strict_order && updated->legacy_signature);
    CHECK_EQ_STR(updated->secret_sealed, got->secret_sealed);

    bl_webhook_endpoint_list list;
    REQUIRE(bl_webhook_store_list(st, org, false, &list, &err) == 0);
    CHECK_EQ_INT(list.count, 1);
    bl_webhook_endpoint_list_free(&list);
    REQUIRE(bl_webhook_store_list(st, "someone-else", false, &list, &err) == 0);
    CHECK_EQ_INT(list.count, 0);
    bl_webhook_endpoint_list_free(&list);

    CHECK(bl_webhook_store_delete(st, e->id, &err) == 0);
    CHECK(bl_webhook_store_get(st, e->id, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(bl_webhook_store_delete(st, e->id, &err) == -1);

    bl_webhook_secret_wipe(&cur);
    bl_webhook_endpoint_free(updated);
    bl_webhook_endpoint_free(got);
    bl_webhook_endpoint_free(e);
    json_decref(conds);
    json_decref(headers);
    bl_webhook_store_free(st);
}

/* Creates with one field broken by edit; expects BL_EINVAL naming want. */
static void expect_refused(bl_webhook_store *st, const char *org, bl_webhook_spec spec,
                           const char *want)
{
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_create(st, org, &spec, secret, sizeof secret, &err);
    CHECK(e == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    if (!strstr(err.msg, want)) {
        fprintf(stderr, "  error \"%s\" does not say \"%s\"\n", err.msg, want);
        CHECK(strstr(err.msg, want) != NULL);
    }
    bl_webhook_endpoint_free(e);
}

static void bad_endpoints_are_refused_with_clear_errors(void)
{
    bl_webhook_store *st = new_store(NULL, 0);
    REQUIRE(st);
    char org[64];
    org_name(org, sizeof org);
    const char *types[] = {"risk.*"};
    bl_webhook_spec ok = bl_webhook_test_spec("x", types, 1), s;

    s = ok, s.url = "ftp://127.0.0.1/x";
    expect_refused(st, org, s, "url");
    s = ok, s.url = "http://10.1.2.3/hook";
    expect_refused(st, org, s, "private");
    s = ok, s.url = "http://169.254.169.254/latest/meta-data";
    expect_refused(st, org, s, "url");
    const char *bad_types[] = {"risk..escalated"};
    s = ok, s.event_types = bad_types;
    expect_refused(st, org, s, "event_types[0]");
    s = ok, s.event_type_count = 0;
    expect_refused(st, org, s, "event_types");
    json_t *bad_cond = json_loads("[{\"field\":\"data.x\",\"operator\":\"like\",\"value\":1}]", 0, NULL);
    s = ok, s.conditions = bad_cond;
    expect_refused(st, org, s, "conditions");
    json_t *sig = json_pack("{s:s}", "Webhook-Signature", "v1,forged");
    s = ok, s.headers = sig;
    expect_refused(st, org, s, "cannot be overridden");
    json_t *ctype = json_pack("{s:s}", "content-type", "text/plain");
    s = ok, s.headers = ctype;
    expect_refused(st, org, s, "cannot be overridden");
    json_t *crlf = json_pack("{s:s}", "X-A", "b\r\nHost: evil");
    s = ok, s.headers = crlf;
    expect_refused(st, org, s, "control character");
    char long_name[BL_WEBHOOK_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    s = ok, s.name = long_name;
    expect_refused(st, org, s, "name");
    s = ok, s.max_attempts = 1000;
    expect_refused(st, org, s, "max_attempts");

    char query[256];
    snprintf(query, sizeof query,
             "SELECT count(*) FROM webhook_endpoints WHERE organization_id = '%s'", org);
    CHECK_EQ_INT(bl_webhook_test_count(&fx, query), 0);

    /* Without a keyring nothing can be sealed: refused, clearly. */
    bl_webhook_store_opts o = {.pool = fx.pool, .allow = &fx.allow};
    bl_err err = {0};
    bl_webhook_store *no_keys = bl_webhook_store_new(&o, &err);
    REQUIRE(no_keys);
    expect_refused(no_keys, org, ok, "BUSLINE_ENCRYPTION_KEYS");
    bl_webhook_store_free(no_keys);

    json_decref(bad_cond);
    json_decref(sig);
    json_decref(ctype);
    json_decref(crlf);
    bl_webhook_store_free(st);
}

static void rotation_keeps_the_old_secret_signing_during_the_overlap(void)
{
    bl_webhook_store *st = new_store(NULL, 0);
    REQUIRE(st);
    char org[64];
    org_name(org, sizeof org);
    const char *types[] = {"*"};
    bl_webhook_spec spec = bl_webhook_test_spec("rot", types, 1);
    char first[BL_WEBHOOK_SECRET_TEXT_MAX], second[BL_WEBHOOK_SECRET_TEXT_MAX],
        third[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_create(st, org, &spec, first, sizeof first, &err);
    REQUIRE(e);
    REQUIRE(bl_webhook_store_rotate(st, e->id, 3600 * 1000, second, sizeof second, &err) == 0);
    CHECK(strcmp(first, second) != 0);

    bl_webhook_endpoint *got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    int64_t now = (int64_t)time(NULL) * 1000;
    bl_webhook_secret cur, prev, want_cur, want_prev;
    int64_t until = 0;
    REQUIRE(bl_webhook_endpoint_secrets(got, fx.keyring, now, &cur, &prev, &until, &err) == 0);
    REQUIRE(bl_webhook_secret_parse(second, &want_cur, &err) == 0);
    REQUIRE(bl_webhook_secret_parse(first, &want_prev, &err) == 0);
    CHECK(cur.len == want_cur.len && memcmp(cur.key, want_cur.key, cur.len) == 0);
    CHECK(prev.len == want_prev.len && memcmp(prev.key, want_prev.key, prev.len) == 0);
    CHECK(until > now + 3500 * 1000 && until <= now + 3700 * 1000);
    /* Past the overlap only the new one is offered. */
    bl_webhook_secret cur2, prev2;
    REQUIRE(bl_webhook_endpoint_secrets(got, fx.keyring, until + 1, &cur2, &prev2, &until, &err) == 0);
    CHECK_EQ_INT(prev2.len, 0);
    bl_webhook_endpoint_free(got);

    /* A rotation without overlap drops the old secret at once. */
    REQUIRE(bl_webhook_store_rotate(st, e->id, -1, third, sizeof third, &err) == 0);
    got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    CHECK(got->previous_secret_sealed == NULL);
    char *row = row_text(e->id);
    CHECK(row && !strstr(row, second + 6) && !strstr(row, third + 6));
    free(row);

    CHECK(bl_webhook_store_rotate(st, "no-such-endpoint", 0, third, sizeof third, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_webhook_endpoint_free(got);
    bl_webhook_endpoint_free(e);
    bl_webhook_store_free(st);
}

static long outbox_count(const char *endpoint_id, const char *type)
{
    char q[512];
    snprintf(q, sizeof q, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = '%s' "
             "AND event_type = '%s'", endpoint_id, type);
    return bl_webhook_test_count(&fx, q);
}

static void failures_in_a_row_disable_the_endpoint_and_publish_webhook_disabled(void)
{
    bl_err err = {0};
    bl_webhook_events *events = bl_webhook_events_new(fx.pool, NULL, NULL, &err);
    if (!events)
        fprintf(stderr, "  events: %s\n", err.msg);
    REQUIRE(events);
    CHECK_EQ_STR(bl_webhook_events_topic(events), "events.webhook.webhook");
    bl_webhook_store *st = new_store(events, 5);
    REQUIRE(st);
    char org[64];
    org_name(org, sizeof org);
    const char *types[] = {"*"};
    bl_webhook_spec spec = bl_webhook_test_spec("flaky", types, 1);
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *e = bl_webhook_store_create(st, org, &spec, secret, sizeof secret, &err);
    REQUIRE(e);

    bool disabled = true;
    for (int i = 0; i < 4; i++)
        CHECK(bl_webhook_store_record_outcome(st, e->id, false, &disabled, &err) == 0 && !disabled);
    /* A success breaks the run. */
    CHECK(bl_webhook_store_record_outcome(st, e->id, true, &disabled, &err) == 0 && !disabled);
    for (int i = 0; i < 4; i++)
        CHECK(bl_webhook_store_record_outcome(st, e->id, false, &disabled, &err) == 0 && !disabled);
    bl_webhook_endpoint *got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    CHECK(got->active);
    CHECK_EQ_INT(got->consecutive_failures, 4);
    bl_webhook_endpoint_free(got);
    CHECK_EQ_INT(outbox_count(e->id, "webhook.disabled"), 0);

    CHECK(bl_webhook_store_record_outcome(st, e->id, false, &disabled, &err) == 0 && disabled);
    got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    CHECK(!got->active);
    CHECK(got->disabled_reason && strstr(got->disabled_reason, "5 consecutive failed deliveries"));
    bl_webhook_endpoint_free(got);
    CHECK_EQ_INT(outbox_count(e->id, "webhook.disabled"), 1);
    char q[512];
    snprintf(q, sizeof q, "SELECT schema_id FROM busline_outbox WHERE aggregate_id = '%s' AND event_type = "
             "'webhook.disabled'", e->id);
    CHECK_EQ_INT(bl_webhook_test_count(&fx, q), bl_webhook_events_schema_id(events));

    /* Already disabled: more failures publish nothing more. */
    CHECK(bl_webhook_store_record_outcome(st, e->id, false, &disabled, &err) == 0 && !disabled);
    CHECK_EQ_INT(outbox_count(e->id, "webhook.disabled"), 1);

    CHECK(bl_webhook_store_enable(st, e->id, &err) == 0);
    CHECK_EQ_INT(outbox_count(e->id, "webhook.enabled"), 1);
    got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    CHECK(got->active && got->disabled_reason == NULL && got->consecutive_failures == 0);
    bl_webhook_endpoint_free(got);

    /* An operator's disable carries the reason and also publishes. */
    CHECK(bl_webhook_store_disable(st, e->id, "maintenance", &err) == 0);
    CHECK_EQ_INT(outbox_count(e->id, "webhook.disabled"), 2);
    got = bl_webhook_store_get(st, e->id, &err);
    REQUIRE(got);
    CHECK(!got->active);
    CHECK_EQ_STR(got->disabled_reason, "maintenance");
    bl_webhook_endpoint_free(got);

    CHECK(bl_webhook_store_record_outcome(st, "missing", false, &disabled, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_webhook_endpoint_free(e);
    bl_webhook_store_free(st);
    bl_webhook_events_free(events);
}

/* endpoint.created|updated|deleted commit with the change, on the endpoint topic */
static void create_update_delete_publish_endpoint_events_in_the_same_transaction(void)
{
    bl_err err = {0};
    bl_webhook_events *events = bl_webhook_events_new(fx.pool, NULL, NULL, &err);
    REQUIRE(events);
    CHECK_EQ_STR(bl_webhook_events_entity_topic(events, 1), "events.webhook.endpoint");
    bl_webhook_store *st = new_store(events, 5);
    REQUIRE(st);
    char org[64];
    org_name(org, sizeof org);
    const char *types[] = {"risk.*"};
    bl_webhook_spec spec = bl_webhook_test_spec("lifecycle", types, 1);
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *e = bl_webhook_store_create(st, org, &spec, secret, sizeof secret, &err);
    REQUIRE(e);
    CHECK_EQ_INT(outbox_count(e->id, "endpoint.created"), 1);
    char q[512];
    snprintf(q, sizeof q, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = '%s' AND topic = "
             "'events.webhook.endpoint'", e->id);
    CHECK_EQ_INT(bl_webhook_test_count(&fx, q), 1);
    spec.name = "renamed";
    bl_webhook_endpoint *u = bl_webhook_store_update(st, e->id, &spec, &err);
    CHECK(u != NULL);
    bl_webhook_endpoint_free(u);
    CHECK_EQ_INT(outbox_count(e->id, "endpoint.updated"), 1);
    /* a refused change publishes nothing */
    spec.url = "not a url";
    CHECK(bl_webhook_store_update(st, e->id, &spec, &err) == NULL);
    CHECK_EQ_INT(outbox_count(e->id, "endpoint.updated"), 1);
    CHECK(bl_webhook_store_delete(st, e->id, &err) == 0);
    CHECK_EQ_INT(outbox_count(e->id, "endpoint.deleted"), 1);
    CHECK(bl_webhook_store_delete(st, e->id, &err) == -1);
    CHECK_EQ_INT(outbox_count(e->id, "endpoint.deleted"), 1);
    /* the message.attempt.* events of an endpoint that is gone: not found, nothing published */
    bl_webhook_attempt_info a = {.message_id = "m1", .event_type = "risk.escalated", .attempts = 3, .error = "HTTP 500"};
    CHECK(bl_webhook_store_attempt_event(st, e->id, "message.attempt.failing", &a, &err) == -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_webhook_endpoint_free(e);
    bl_webhook_store_free(st);
    bl_webhook_events_free(events);
}

int main(void)
{
    if (bl_webhook_fixture_open(&fx) != 0) {
        bl_webhook_fixture_close(&fx);
        return 1;
    }
    BL_RUN(endpoint_round_trip_keeps_the_secret_sealed_at_rest);
    BL_RUN(bad_endpoints_are_refused_with_clear_errors);
    BL_RUN(rotation_keeps_the_old_secret_signing_during_the_overlap);
    BL_RUN(failures_in_a_row_disable_the_endpoint_and_publish_webhook_disabled);
    BL_RUN(create_update_delete_publish_endpoint_events_in_the_same_transaction);
    bl_webhook_fixture_close(&fx);
    return bl_test_summary();
}
