/* The calls tests' fake outside service (see fake_service.h). */
#include "tests/support/fake_service.h"

#include "core/clock.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

/* Why req is not a GraphQL-over-HTTP request, or NULL. */
static const char *graphql_problem(const bl_http_request *req, const char *body, size_t len)
{
    if (strcmp(bl_http_request_method(req), "POST") != 0)
        return "graphql: not POST";
    const char *ct = bl_http_request_header(req, "content-type");
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        return "graphql: Content-Type is not application/json";
    const char *accept = bl_http_request_header(req, "accept");
    if (!accept || (!strstr(accept, "application/graphql-response+json") && !strstr(accept, "application/json")))
        return "graphql: Accept names neither application/graphql-response+json nor application/json";
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *why = NULL;
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "query")))
        why = "graphql: the body has no string query";
    else if (json_object_get(doc, "variables") && !json_is_object(json_object_get(doc, "variables")))
        why = "graphql: variables is not an object";
    json_decref(doc);
    return why;
}

static int handle(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_service *f = ctx;
    fake_hit h = {0};
    h.at_ms = bl_clock_mono_ms();
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    copy(h.method, sizeof h.method, bl_http_request_method(req));
    copy(h.path, sizeof h.path, bl_http_request_path(req));
    copy(h.query_q, sizeof h.query_q, bl_http_request_query(req, "q"));
    copy(h.authorization, sizeof h.authorization, bl_http_request_header(req, "authorization"));
    copy(h.idempotency_key, sizeof h.idempotency_key, bl_http_request_header(req, "idempotency-key"));
    copy(h.content_type, sizeof h.content_type, bl_http_request_header(req, "content-type"));
    copy(h.accept, sizeof h.accept, bl_http_request_header(req, "accept"));
    copy(h.custom, sizeof h.custom, bl_http_request_header(req, "x-custom"));
    copy(h.webhook_id, sizeof h.webhook_id, bl_http_request_header(req, "webhook-id"));
    copy(h.webhook_timestamp, sizeof h.webhook_timestamp, bl_http_request_header(req, "webhook-timestamp"));
    copy(h.webhook_signature, sizeof h.webhook_signature, bl_http_request_header(req, "webhook-signature"));
    if ((h.body = malloc(len + 1))) {
        memcpy(h.body, body ? body : "", len);
        h.body[len] = '\0';
        h.body_len = len;
    }
    fake_answer a;
    pthread_mutex_lock(&f->lock);
    const char *why = strcmp(h.path, "/graphql") == 0 ? graphql_problem(req, body, len) : NULL;
    if (why) {
        a = (fake_answer){.status = 400};
        snprintf(a.body, sizeof a.body, "{\"errors\":[{\"message\":\"%s\"}]}", why);
        if (!f->problem[0])
            copy(f->problem, sizeof f->problem, why);
    } else if (f->script_next < f->script_n) {
        a = f->script[f->script_next++];
    } else {
        a = f->dflt;
    }
    h.status = a.status == FAKE_SERVICE_RESET ? 0 : a.status;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        fake_hit *bigger = realloc(f->hits, cap * sizeof *bigger);
        if (bigger) {
            f->hits = bigger;
            f->cap = cap;
        }
    }
    if (f->n < f->cap)
        f->hits[f->n++] = h;
    else
        free(h.body);
    pthread_mutex_unlock(&f->lock);
    if (a.sleep_ms > 0)
        usleep((useconds_t)a.sleep_ms * 1000);
    if (a.status == FAKE_SERVICE_RESET)
        return BL_HTTP_DROP_CONNECTION;
    if (a.retry_after[0])
        bl_http_response_header(resp, "Retry-After", a.retry_after);
    bl_http_response_status(resp, a.status);
    return a.body[0] ? bl_http_response_body_copy(resp, a.body, strlen(a.body), "application/json") : 0;
}

int fake_service_start(fake_service *f, const char *default_body)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    fake_service_default(f, 200, default_body);
    bl_err err = {0};
    bl_http_server_config cfg = {.connection_limit = 256, .drain_timeout_ms = 1000};
    f->server = bl_http_server_new(&cfg, &err);
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    static const char *const paths[] = {"/", "/:a", "/:a/:b", "/:a/:b/:c"};
    for (size_t m = 0; f->server && m < 5; m++)
        for (size_t i = 0; i < 4; i++)
            if (bl_http_server_route(f->server, methods[m], paths[i], handle, f, &err) != 0) {
                fprintf(stderr, "fake service: %s\n", err.msg);
                return -1;
            }
    if (!f->server || bl_http_server_start(f->server, &err) != 0) {
        fprintf(stderr, "fake service: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void fake_service_stop(fake_service *f)
{
    if (f->server)
        bl_http_server_free(f->server);
    for (size_t i = 0; i < f->n; i++)
        free(f->hits[i].body);
    free(f->hits);
    if (f->server)
        pthread_mutex_destroy(&f->lock);
    memset(f, 0, sizeof *f);
}

void fake_service_url(const fake_service *f, const char *path, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", bl_http_server_port(f->server), path);
}

static void set_answer(fake_answer *a, int status, const char *body, const char *retry_after)
{
    a->status = status;
    a->sleep_ms = 0;
    copy(a->body, sizeof a->body, body);
    copy(a->retry_after, sizeof a->retry_after, retry_after);
}

void fake_service_queue(fake_service *f, int status, const char *body, const char *retry_after)
{
    pthread_mutex_lock(&f->lock);
    if (f->script_n < FAKE_SERVICE_SCRIPT_MAX)
        set_answer(&f->script[f->script_n++], status, body, retry_after);
    pthread_mutex_unlock(&f->lock);
}

void fake_service_queue_slow(fake_service *f, int status, const char *body, int sleep_ms)
{
    pthread_mutex_lock(&f->lock);
    if (f->script_n < FAKE_SERVICE_SCRIPT_MAX) {
        set_answer(&f->script[f->script_n], status, body, NULL);
        f->script[f->script_n++].sleep_ms = sleep_ms;
    }
    pthread_mutex_unlock(&f->lock);
}

void fake_service_default(fake_service *f, int status, const char *body)
{
    pthread_mutex_lock(&f->lock);
    set_answer(&f->dflt, status, body, NULL);
    pthread_mutex_unlock(&f->lock);
}

size_t fake_service_count(fake_service *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int fake_service_hit(fake_service *f, size_t i, fake_hit *out)
{
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    if (i < f->n) {
        *out = f->hits[i];
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}
