/* The SmartLeakPro surface's webhooks and integrations end to end (split
 * from test_fieldservice_api.c): a webhook registered at /api/webhooks/
 * receives the document's payload ({"type", "timestamp", "data",
 * "resource_id"}) for the events its conditions match, with a correct
 * X-Webhook-Signature (checked against Python's hmac too) beside the
 * Standard Webhooks headers; its test delivery; an integration is a webhook
 * to its url. */
#include "api/auth/orgs.h"
#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_USER_BODY(name, email)                                                                       \
    "{\"nom_utilisateur\":\"" name "\",\"email\":\"" email "\",\"nom\":\"Durand\",\"prenom\":\"Alice\","    \
    "\"mot_de_passe\":\"correct horse\",\"confirmer_mot_de_passe\":\"correct horse\",\"role\":\"admin\","  \
    "\"consentement_rgpd\":true}"

#define TEST_KEYS BL_WEBHOOK_TEST_KEYS

static const char *fs_code(const bl_test_reply *r)
{
    const char *c = json_string_value(json_object_get(r->json, "error_code"));
    return c ? c : "";
}

/* The document's error object: detail, error_code, field_errors (an object). */
static void check_error_shape(const bl_test_reply *r, const char *code)
{
    CHECK_EQ_STR(fs_code(r), code);
    CHECK(json_is_string(json_object_get(r->json, "detail")));
    CHECK(json_is_object(json_object_get(r->json, "field_errors")));
}

/* The pieces of the webhook path around an API server on the same database. */
typedef struct fs_e2e {
    wh_e2e wh;
    char user_topic[200];
    bl_webhook_fanout *fanout; /* over the field-service user topic */
    pthread_t fanout_t;
    int fanout_on;
    bl_api_server *server;
    unsigned short port;
    char org[BL_API_ID_MAX], admin[BL_API_TOKEN_SIZE];
    webhook_sink sink;
} fs_e2e;

static void *fs_fanout_main(void *arg)
{
    bl_err err = {0};
    if (bl_webhook_fanout_run(arg, &err) != 0)
        fprintf(stderr, "fanout: %s\n", err.msg);
    return NULL;
}

static int fs_e2e_open(fs_e2e *x)
{
    bl_err err = {0};
    if (wh_e2e_open(&x->wh) != 0)
        return -1;
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s.", x->wh.prefix);
    snprintf(x->user_topic, sizeof x->user_topic, "%sevents.fieldservice.user", prefix);
    const char *topics[] = {x->user_topic};
    char group[96];
    snprintf(group, sizeof group, "%s-fs", x->wh.prefix);
    bl_webhook_fanout_opts fo = {.brokers = bl_test_kafka_brokers(), .group_id = group, .topics = topics,
                                 .n_topics = 1, .deliveries_topic = x->wh.deliveries, .cache = x->wh.cache,
                                 .schemas = x->wh.schemas, .drain_timeout_ms = 2000};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .topic_prefix = prefix};
    PGconn *conn = NULL;
    if (fixture_topics_create(topics, 1, 3) != 0 || !(x->fanout = bl_webhook_fanout_new(&fo, &err)) ||
        wh_e2e_start(&x->wh, 1) != 0 ||
        !(x->fanout_on = pthread_create(&x->fanout_t, NULL, fs_fanout_main, x->fanout) == 0) ||
        !(x->server = bl_api_server_new(&cfg, x->wh.f.pool, &err)) || bl_api_server_start(x->server, &err) != 0 ||
        !(conn = bl_pg_pool_acquire(x->wh.f.pool, 5000, &err)) ||
        bl_api_org_create(conn, "fuites", BL_API_PLAN_PRO, x->org, &err) != 0) {
        bl_pg_pool_release(x->wh.f.pool, conn);
        fprintf(stderr, "  fs e2e: %s\n", err.msg);
        return -1;
    }
    bl_pg_pool_release(x->wh.f.pool, conn);
    bl_api_key_spec spec = {.org_id = x->org, .perm = BL_API_PERM_ADMIN, .rate_per_hour = 1000000};
    if (bl_test_make_key(x->wh.f.pool, &spec, x->admin, NULL) != 0 || webhook_sink_start(&x->sink, NULL, NULL) != 0)
        return -1;
    x->port = bl_api_server_port(x->server);
    return 0;
}

static void fs_e2e_close(fs_e2e *x)
{
    bl_api_server_free(x->server);
    if (x->fanout_on) {
        bl_webhook_fanout_stop(x->fanout);
        pthread_join(x->fanout_t, NULL);
    }
    bl_webhook_fanout_free(x->fanout);
    if (x->user_topic[0])
        fixture_topics_delete((const char *[]){x->user_topic}, 1);
    webhook_sink_stop(&x->sink);
    wh_e2e_close(&x->wh);
}

typedef struct path_count {
    const char *path;
    size_t n;
} path_count;

static int has_hits(webhook_sink *s, void *user)
{
    path_count *pc = user;
    sink_hit hits[8];
    return webhook_sink_hits_to(s, pc->path, hits, 8) >= pc->n;
}

/* The first hit to path once it came (copy in *out; body borrowed). */
static int wait_hit(fs_e2e *x, const char *path, size_t n, sink_hit *out)
{
    path_count pc = {path, n};
    if (!webhook_sink_wait(&x->sink, has_hits, &pc, 30000))
        return -1;
    sink_hit hits[8];
    size_t got = webhook_sink_hits_to(&x->sink, path, hits, 8);
    *out = hits[got < n ? 0 : n - 1];
    return 0;
}

/* "sha256=<hex HMAC-SHA256 of body keyed with key>" computed with OpenSSL. */
static void hex_hmac(const char *key, const char *body, size_t len, char out[80])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &n);
    strcpy(out, "sha256=");
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

/* The Standard Webhooks v1 entry for id.timestamp.body keyed with key's bytes. */
static void v1_signature(const char *key, const sink_hit *h, char out[64])
{
    size_t n = strlen(h->id) + strlen(h->timestamp) + h->body_len + 3;
    char *msg = malloc(n);
    snprintf(msg, n, "%s.%s.%.*s", h->id, h->timestamp, (int)h->body_len, h->body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (unsigned char *)msg, strlen(msg), mac, &len);
    free(msg);
    strcpy(out, "v1,");
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)len);
}

static long fs_call(fs_e2e *x, const char *method, const char *path, const char *body, bl_test_reply *r)
{
    bl_test_reply_clear(r);
    return bl_test_http_call(x->port, method, path, x->admin, NULL, body, r);
}

#define SECRET "mon-secret-partage"

static void a_webhook_receives_the_documents_payload_signed(void)
{
    fs_e2e x = {0};
    bl_test_reply r = {0};
    if (fs_e2e_open(&x) != 0) {
        CHECK(!"the webhook path started");
        fs_e2e_close(&x);
        return;
    }
    char url[160], body[1024];
    webhook_sink_url(&x.sink, "/slp", url, sizeof url);
    /* the document's example body (its field names, a condition on data.*) */
    snprintf(body, sizeof body,
             "{\"nom\":\"techniciens\",\"description\":\"new technicians\",\"url\":\"%s\","
             "\"type_webhook\":\"user_created\",\"secret\":\"" SECRET "\","
             "\"conditions\":[{\"field\":\"data.role\",\"operator\":\"equals\",\"value\":\"technicien\"}]}",
             url);
    if (fs_call(&x, "POST", "/api/webhooks/", body, &r) != 201) {
        CHECK(!"webhook created");
        fprintf(stderr, "  %s\n", r.body ? r.body : "");
        goto done;
    }
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type_webhook")), "user_created");
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "nom")), "techniciens");
    CHECK(!json_object_get(r.json, "secret")); /* the caller's own is never echoed */
    json_t *cond = json_array_get(json_object_get(r.json, "conditions"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(cond, "field")), "data.role");
    CHECK_EQ_STR(json_string_value(json_object_get(cond, "value")), "technicien");
    char hook_id[64];
    snprintf(hook_id, sizeof hook_id, "%s", json_string_value(json_object_get(r.json, "id")));
    CHECK_EQ_INT(wh_e2e_wait_cache(&x.wh, 1), 0);

    /* an admin does not match the condition; the technician does */
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/utilisateurs/", ADMIN_USER_BODY("chef", "chef@example.com"), &r), 201);
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/utilisateurs/",
                         "{\"nom_utilisateur\":\"tech1\",\"email\":\"tech1@example.com\",\"nom\":\"Petit\","
                         "\"prenom\":\"Luc\",\"mot_de_passe\":\"long enough\",\"confirmer_mot_de_passe\":\"long enough\","
                         "\"role\":\"technicien\",\"consentement_rgpd\":true}",
                         &r),
                 201);
    char user_id[64];
    snprintf(user_id, sizeof user_id, "%s", json_string_value(json_object_get(r.json, "id")));
    sink_hit h;
    if (wait_hit(&x, "/slp", 1, &h) != 0) {
        CHECK(!"the webhook was delivered");
        goto done;
    }
    json_t *j = json_loadb(h.body, h.body_len, 0, NULL);
    REQUIRE(j);
    CHECK_EQ_INT(json_object_size(j), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "type")), "user_created");
    CHECK(json_string_length(json_object_get(j, "timestamp")) >= 20);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "resource_id")), user_id);
    json_t *data = json_object_get(j, "data");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "id")), user_id);
    CHECK_EQ_STR(json_string_value(json_object_get(data, "role")), "technicien");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "email")), "tech1@example.com");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "nom_complet")), "Luc Petit");
    json_decref(j);
    char want[80], v1[64];
    hex_hmac(SECRET, h.body, h.body_len, want);
    CHECK_EQ_STR(h.webhook_sig, want);
    char python[128];
    wh_python_verify("text-keyed " SECRET, h.body, python, sizeof python);
    CHECK_EQ_STR(python, want);
    /* the Standard Webhooks headers beside it, keyed with the same string */
    v1_signature(SECRET, &h, v1);
    CHECK(h.id[0] && h.timestamp[0]);
    CHECK_EQ_STR(h.signature, v1);
    /* the admin's event never matched: every delivery so far is a technician's */
    sink_hit all[8];
    size_t n = webhook_sink_hits_to(&x.sink, "/slp", all, 8);
    for (size_t i = 0; i < n; i++)
        CHECK(strstr(all[i].body, "\"role\":\"technicien\""));

    /* the test delivery: the document's shape, signed the same way */
    char path[128];
    snprintf(path, sizeof path, "/api/webhooks/%s/test", hook_id);
    REQUIRE(fs_call(&x, "POST", path, NULL, &r) == 200);
    CHECK(json_is_true(json_object_get(r.json, "succes")));
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "code_statut")), 200);
    sink_hit t;
    REQUIRE(wait_hit(&x, "/slp", n + 1, &t) == 0);
    CHECK(strstr(t.body, "\"type\":\"webhook_test\""));
    hex_hmac(SECRET, t.body, t.body_len, want);
    CHECK_EQ_STR(t.webhook_sig, want);
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/webhooks/00000000-0000-0000-0000-000000000000/test", NULL, &r), 404);
    check_error_shape(&r, "NOT_FOUND");

    /* every invalid field at once */
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/webhooks/",
                         "{\"url\":\"http://10.1.2.3/x\",\"type_webhook\":\"thing_happened\",\"secret\":\"\","
                         "\"conditions\":{}}",
                         &r),
                 422);
    json_t *fe = json_object_get(r.json, "field_errors");
    CHECK(json_object_get(fe, "nom") && json_object_get(fe, "type_webhook") && json_object_get(fe, "secret") &&
          json_object_get(fe, "conditions"));
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/webhooks/",
                         "{\"nom\":\"n\",\"url\":\"http://10.1.2.3/x\",\"type_webhook\":\"intervention_created\","
                         "\"conditions\":[{\"field\":\"data.couleur\",\"operator\":\"equals\",\"value\":1}]}",
                         &r),
                 422);
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "conditions"));
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/webhooks/",
                         "{\"nom\":\"n\",\"url\":\"http://10.1.2.3/x\",\"type_webhook\":\"intervention_created\"}", &r),
                 422); /* not on the allow-list: the SSRF guard */
    CHECK(json_object_get(json_object_get(r.json, "field_errors"), "url"));
    REQUIRE(fs_call(&x, "GET", "/api/webhooks/", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "webhooks"), 0), "id")), hook_id);
done:
    bl_test_reply_clear(&r);
    fs_e2e_close(&x);
}

static void an_integration_is_a_webhook_to_its_url(void)
{
    fs_e2e x = {0};
    bl_test_reply r = {0};
    if (fs_e2e_open(&x) != 0) {
        CHECK(!"the webhook path started");
        fs_e2e_close(&x);
        return;
    }
    char url[160], body[1024];
    webhook_sink_url(&x.sink, "/zap", url, sizeof url);
    snprintf(body, sizeof body,
             "{\"nom\":\"zap\",\"description\":\"to zapier\",\"type_integration\":\"zapier\","
             "\"configuration\":{\"webhook_url\":\"%s\",\"api_key\":\"zk-123\"}}",
             url);
    if (fs_call(&x, "POST", "/api/integrations/", body, &r) != 201) {
        CHECK(!"integration created");
        fprintf(stderr, "  %s\n", r.body ? r.body : "");
        goto done;
    }
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "type_integration")), "zapier");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "configuration"), "webhook_url")), url);
    CHECK(!strstr(r.body, "zk-123")); /* the api_key is never shown back */
    CHECK_EQ_INT(wh_e2e_wait_cache(&x.wh, 1), 0);
    CHECK_EQ_INT(fs_call(&x, "POST", "/api/utilisateurs/", ADMIN_USER_BODY("zoe", "zoe@example.com"), &r), 201);
    sink_hit h;
    if (wait_hit(&x, "/zap", 1, &h) != 0) {
        CHECK(!"the integration's hook was called");
        goto done;
    }
    CHECK(strstr(h.body, "\"type\":\"user_created\""));
    CHECK_EQ_STR(h.api_key, "zk-123");
    CHECK(strncmp(h.webhook_sig, "sha256=", 7) == 0);

    CHECK_EQ_INT(fs_call(&x, "POST", "/api/integrations/",
                         "{\"nom\":\"s\",\"type_integration\":\"salesforce\",\"configuration\":{\"token\":1}}", &r),
                 422);
    check_error_shape(&r, "VALIDATION_ERROR");
    json_t *fe = json_object_get(r.json, "field_errors");
    CHECK(json_object_get(fe, "type_integration") && json_object_get(fe, "configuration.webhook_url") &&
          json_object_get(fe, "configuration.token"));
    REQUIRE(fs_call(&x, "GET", "/api/integrations/", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK(json_is_array(json_object_get(r.json, "integrations")));
    /* the integration's endpoint is not one of the listed webhooks */
    REQUIRE(fs_call(&x, "GET", "/api/webhooks/", NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
done:
    bl_test_reply_clear(&r);
    fs_e2e_close(&x);
}

int main(void)
{
    setenv("BUSLINE_ENCRYPTION_KEYS", TEST_KEYS, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    BL_RUN(a_webhook_receives_the_documents_payload_signed);
    BL_RUN(an_integration_is_a_webhook_to_its_url);
    return bl_test_summary();
}
