#include "tests/support/api_fixture.h"

#include "api/auth/orgs.h"
#include "core/kafka_admin.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int bl_test_make_key(bl_pg_pool *pool, const bl_api_key_spec *spec, char token[BL_API_TOKEN_SIZE], char *id)
{
    bl_err err = {0};
    char ignored[BL_API_ID_MAX];
    bl_api_key_spec named = *spec;
    named.name = named.name ? named.name : "test";
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    int rc = conn ? bl_api_key_create(conn, &named, token, id ? id : ignored, &err) : -1;
    bl_pg_pool_release(pool, conn);
    if (rc != 0)
        fprintf(stderr, "  key: %s\n", err.msg);
    return rc;
}

int bl_test_sql(bl_pg_pool *pool, const char *text, int n, const char *const *params)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    int rc = conn ? bl_pg_exec_cmd(conn, text, n, params, &err) : -1;
    bl_pg_pool_release(pool, conn);
    if (rc != 0)
        fprintf(stderr, "  sql: %s\n", err.msg);
    return rc;
}

int bl_test_sql_value(bl_pg_pool *pool, const char *text, int n, const char *const *params, char *out,
                      size_t len)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn, text, n, params, &err) : NULL;
    bl_pg_pool_release(pool, conn);
    int rc = r && PQntuples(r) == 1 ? 0 : -1;
    if (rc == 0)
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    else
        fprintf(stderr, "  sql: %s\n", err.msg[0] ? err.msg : "no row");
    PQclear(r);
    return rc;
}

static int make_key(bl_test_api *t, const char *org, bl_api_perm perm, char *token, char *id)
{
    bl_api_key_spec spec = {.org_id = org, .perm = perm, .rate_per_hour = 1000000};
    return bl_test_make_key(t->pool, &spec, token, id);
}

int bl_test_api_replica(const bl_test_api *t, bl_test_api *out)
{
    *out = *t;
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .request_log_flush_ms = 100};
    bl_err err = {0};
    if (!(out->server = bl_api_server_new(&cfg, t->pool, &err)) || bl_api_server_start(out->server, &err) != 0) {
        fprintf(stderr, "  replica: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int bl_test_api_start(bl_test_api *t, int with_kafka)
{
    return bl_test_api_start_waiting(t, with_kafka, 0);
}

int bl_test_api_start_waiting(bl_test_api *t, int with_kafka, int command_wait_ms)
{
    bl_err err = {0};
    memset(t, 0, sizeof *t);
    if (bl_test_registry_start(&t->registry) != 0)
        return -1;
    char unique[64];
    bl_test_unique_name(unique, sizeof unique, "api");
    snprintf(t->prefix, sizeof t->prefix, "%s.", unique);
    snprintf(t->topics[0], sizeof t->topics[0], "%scommands.pmo", t->prefix);
    snprintf(t->topics[1], sizeof t->topics[1], "%scommands.fieldservice", t->prefix);
    snprintf(t->topics[2], sizeof t->topics[2], "%scommands.attendance", t->prefix);
    if (!(t->pool = bl_pg_pool_new(t->registry.pg_url, 16, &err)))
        goto fail;
    PGconn *conn = bl_pg_pool_acquire(t->pool, 5000, &err);
    int rc = conn ? 0 : -1;
    if (rc == 0)
        rc = bl_api_org_create(conn, "acme", BL_API_PLAN_PRO, t->org, &err);
    if (rc == 0)
        rc = bl_api_org_create(conn, "globex", BL_API_PLAN_PRO, t->other_org, &err);
    bl_pg_pool_release(t->pool, conn);
    if (rc != 0 || make_key(t, t->org, BL_API_PERM_WRITE, t->write_token, t->write_key_id) != 0 ||
        make_key(t, t->org, BL_API_PERM_ADMIN, t->admin_token, NULL) != 0 ||
        make_key(t, t->other_org, BL_API_PERM_ADMIN, t->other_token, NULL) != 0)
        goto fail;
    if (with_kafka) {
        bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
        bl_kafka_topic_spec specs[] = {{t->topics[0], 3, 1, NULL}, {t->topics[1], 3, 1, NULL},
                                       {t->topics[2], 3, 1, NULL}};
        const char *names[] = {t->topics[0], t->topics[1], t->topics[2]};
        rc = admin && bl_kafka_admin_create_topics(admin, specs, 3, 30000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 3, 30000, &err) == 0
                 ? 0
                 : -1;
        bl_kafka_admin_free(admin);
        if (rc != 0)
            goto fail;
    }
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET,
                         .kafka_brokers = with_kafka ? bl_test_kafka_brokers() : NULL,
                         .registry_url = with_kafka ? t->registry.base_url : NULL,
                         .topic_prefix = t->prefix, .request_log_flush_ms = 100,
                         .command_wait_ms = command_wait_ms};
    if (!(t->server = bl_api_server_new(&cfg, t->pool, &err)) || bl_api_server_start(t->server, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "  api fixture: %s\n", err.msg);
    return -1;
}

void bl_test_api_stop(bl_test_api *t)
{
    bl_api_server_free(t->server);
    t->server = NULL;
    bl_pg_pool_free(t->pool);
    t->pool = NULL;
    if (t->topics[0][0]) {
        bl_err err = {0};
        bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
        const char *names[] = {t->topics[0], t->topics[1], t->topics[2]};
        if (admin)
            bl_kafka_admin_delete_topics(admin, names, 3, 30000, &err);
        bl_kafka_admin_free(admin);
    }
    bl_test_registry_stop(&t->registry);
}

typedef struct sink {
    char *data;
    size_t len;
    bl_test_reply *r;
} sink;

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
    sink *s = arg;
    size_t len = size * n;
    char *grown = realloc(s->data, s->len + len + 1);
    if (!grown)
        return 0;
    s->data = grown;
    memcpy(s->data + s->len, buf, len);
    s->len += len;
    s->data[s->len] = '\0';
    return len;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    bl_test_reply *r = arg;
    size_t len = size * n;
    struct {
        const char *name;
        char *out;
        size_t cap;
    } want[] = {{"Idempotent-Replayed:", r->replayed, sizeof r->replayed},
                {"X-Request-Id:", r->request_id, sizeof r->request_id},
                {"X-RateLimit-Limit:", r->rl_limit, sizeof r->rl_limit},
                {"X-RateLimit-Remaining:", r->rl_remaining, sizeof r->rl_remaining},
                {"X-RateLimit-Reset:", r->rl_reset, sizeof r->rl_reset},
                {"Retry-After:", r->retry_after, sizeof r->retry_after},
                {"X-Cache:", r->cache, sizeof r->cache},
                {"Content-Type:", r->content_type, sizeof r->content_type},
                {"Content-Disposition:", r->disposition, sizeof r->disposition}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t nl = strlen(want[i].name);
        if (len <= nl || strncasecmp(buf, want[i].name, nl) != 0)
            continue;
        const char *v = buf + nl;
        while (v < buf + len && *v == ' ')
            v++;
        size_t vl = strcspn(v, "\r\n");
        if (vl > (size_t)(buf + len - v))
            vl = (size_t)(buf + len - v);
        snprintf(want[i].out, want[i].cap, "%.*s", (int)vl, v);
    }
    return len;
}

long bl_test_api_call(const bl_test_api *t, const char *method, const char *path, const char *token,
                      const char *extra_header, const char *body, bl_test_reply *r)
{
    return bl_test_http_call(bl_api_server_port(t->server), method, path, token, extra_header, body, r);
}

long bl_test_http_call(unsigned short port, const char *method, const char *path, const char *token,
                       const char *extra_header, const char *body, bl_test_reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    char url[1024], auth[1200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    sink s = {.r = r};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->body = s.data ? s.data : calloc(1, 1);
    r->len = s.len;
    r->json = s.data ? json_loads(s.data, 0, NULL) : NULL;
    return r->status;
}

void bl_test_reply_clear(bl_test_reply *r)
{
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof *r);
}

const char *bl_test_reply_error_code(const bl_test_reply *r)
{
    /* the Attendance-X shape keeps the finer word as error.reason */
    const char *c = json_string_value(json_object_get(json_object_get(r->json, "error"), "reason"));
    if (!c)
        c = json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
    if (!c)
        c = json_string_value(json_object_get(r->json, "reason"));
    if (!c)
        c = json_string_value(json_object_get(r->json, "error_code"));
    return c ? c : "";
}
