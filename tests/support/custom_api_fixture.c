#include "tests/support/custom_api_fixture.h"

#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static time_t pinned_clock(void *ctx)
{
    return __atomic_load_n((time_t *)ctx, __ATOMIC_SEQ_CST);
}

int bl_test_custom_start(bl_test_custom *t, int with_kafka, int replicas, int pinned)
{
    memset(t, 0, sizeof *t);
    t->clock = 1800000000; /* 2027-01-15T08:00:00Z, a minute's start */
    if (bl_test_api_start(&t->api, with_kafka) != 0)
        return -1;
    const char *p[] = {t->api.org};
    if (bl_test_sql_value(t->api.pool, "SELECT slug FROM api_organizations WHERE id = $1", 1, p, t->slug,
                          sizeof t->slug) != 0)
        return -1;
    for (int i = 0; i < replicas && i < 2; i++) {
        bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET,
                             .kafka_brokers = with_kafka ? bl_test_kafka_brokers() : NULL,
                             .registry_url = with_kafka ? t->api.registry.base_url : NULL,
                             .topic_prefix = t->api.prefix, .request_log_flush_ms = 100,
                             .clock = pinned ? pinned_clock : NULL, .clock_ctx = pinned ? &t->clock : NULL};
        bl_err err = {0};
        if (!(t->replicas[i] = bl_api_server_new(&cfg, t->api.pool, &err)) ||
            bl_api_server_start(t->replicas[i], &err) != 0) {
            fprintf(stderr, "  replica %d: %s\n", i, err.msg);
            return -1;
        }
    }
    return 0;
}

void bl_test_custom_stop(bl_test_custom *t)
{
    for (int i = 0; i < 2; i++) {
        bl_api_server_free(t->replicas[i]);
        t->replicas[i] = NULL;
    }
    bl_test_api_stop(&t->api);
}

long bl_test_custom_create(bl_test_custom *t, const char *def, char *id)
{
    bl_test_reply r;
    long st = bl_test_api_call(&t->api, "POST", "/v1/custom-apis", t->api.admin_token, NULL, def, &r);
    const char *made = json_string_value(json_object_get(r.json, "id"));
    if (id)
        snprintf(id, 40, "%s", made ? made : "");
    if (st != 201)
        fprintf(stderr, "  create: %ld %s\n", st, r.body);
    bl_test_reply_clear(&r);
    return st;
}

long bl_test_custom_call(bl_test_custom *t, bl_api_server *s, const char *method, const char *path,
                         const char *token, const char *extra_header, bl_test_reply *r)
{
    char whole[1024];
    snprintf(whole, sizeof whole, "/custom/%s%s", t->slug, path);
    return bl_test_http_call(bl_api_server_port(s ? s : t->api.server), method, whole, token, extra_header, NULL, r);
}

int bl_test_custom_await(bl_test_custom *t, bl_api_server *s, const char *path, long want)
{
    for (int i = 0; i < 400; i++) {
        bl_test_reply r;
        long st = bl_test_custom_call(t, s, "GET", path, NULL, NULL, &r);
        bl_test_reply_clear(&r);
        if (st == want)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static int fake_answer(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_test_fake *f = ctx;
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    const char *authz = bl_http_request_header(req, "Authorization");
    snprintf(f->last_body, sizeof f->last_body, "%.*s", (int)len, body);
    snprintf(f->last_authz, sizeof f->last_authz, "%s", authz ? authz : "");
    snprintf(f->last_path, sizeof f->last_path, "%s", bl_http_request_path(req));
    atomic_fetch_add(&f->hits, 1);
    bl_http_response_status(resp, f->status);
    return bl_http_response_body_copy(resp, f->body, strlen(f->body), "application/json");
}

int bl_test_fake_start(bl_test_fake *f, int status, const char *body)
{
    memset(f, 0, sizeof *f);
    f->status = status;
    snprintf(f->body, sizeof f->body, "%s", body);
    bl_http_server_config cfg = {0};
    bl_err err = {0};
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    static const char *const patterns[] = {"/", "/*"};
    if (!(f->server = bl_http_server_new(&cfg, &err)))
        goto fail;
    for (size_t m = 0; m < 5; m++)
        for (size_t p = 0; p < 2; p++)
            if (bl_http_server_route(f->server, methods[m], patterns[p], fake_answer, f, &err) != 0)
                goto fail;
    if (bl_http_server_start(f->server, &err) != 0)
        goto fail;
    f->port = bl_http_server_port(f->server);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", (unsigned)f->port);
    return 0;
fail:
    fprintf(stderr, "  fake service: %s\n", err.msg);
    return -1;
}

void bl_test_fake_stop(bl_test_fake *f)
{
    bl_http_server_free(f->server);
    f->server = NULL;
}
