/* The delivery tests' local receiver (see webhook_sink.h). */
#include "tests/support/webhook_sink.h"
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void copy(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

static int handle(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    webhook_sink *s = ctx;
    sink_hit h = {0};
    h.at_ms = bl_clock_wall_ms();
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    copy(h.id, sizeof h.id, bl_http_request_header(req, "webhook-id"));
    copy(h.timestamp, sizeof h.timestamp, bl_http_request_header(req, "webhook-timestamp"));
    copy(h.signature, sizeof h.signature, bl_http_request_header(req, "webhook-signature"));
    copy(h.legacy, sizeof h.legacy, bl_http_request_header(req, "x-signature"));
    copy(h.custom, sizeof h.custom, bl_http_request_header(req, "x-tenant"));
    copy(h.powalyze, sizeof h.powalyze, bl_http_request_header(req, "x-powalyze-signature"));
    copy(h.webhook_sig, sizeof h.webhook_sig, bl_http_request_header(req, "x-webhook-signature"));
    copy(h.api_key, sizeof h.api_key, bl_http_request_header(req, "x-api-key"));
    copy(h.path, sizeof h.path, bl_http_request_path(req));
    h.body = malloc(len + 1);
    if (h.body) {
        memcpy(h.body, body, len);
        h.body[len] = '\0';
        h.body_len = len;
    }
    int status = 200, sleep_ms = 0;
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    if (s->behave)
        s->behave(n, h.path, h.id, &status, &h.retry_after_s, &sleep_ms, s->user);
    h.status = status == SINK_RESET ? 0 : status;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        sink_hit *bigger = realloc(s->hits, cap * sizeof *bigger);
        if (bigger) {
            s->hits = bigger;
            s->cap = cap;
        }
    }
    if (s->n < s->cap)
        s->hits[s->n++] = h;
    else
        free(h.body);
    pthread_mutex_unlock(&s->lock);
    for (int slept = 0; slept < sleep_ms && !atomic_load(&s->stopping); slept += 20)
        usleep(20 * 1000);
    if (status == SINK_RESET)
        return BL_HTTP_DROP_CONNECTION;
    if (h.retry_after_s > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", h.retry_after_s);
        bl_http_response_header(resp, "Retry-After", ra);
    }
    bl_http_response_status(resp, status);
    return bl_http_response_body_copy(resp, WEBHOOK_SINK_BODY, strlen(WEBHOOK_SINK_BODY), "text/plain");
}

int webhook_sink_start(webhook_sink *s, sink_behave_fn behave, void *user)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->behave = behave;
    s->user = user;
    bl_err err = {0};
    bl_http_server_config cfg = {.connection_limit = 1024, .drain_timeout_ms = 1000};
    s->server = bl_http_server_new(&cfg, &err);
    static const char *const paths[] = {"/", "/:a", "/:a/:b"};
    for (size_t i = 0; s->server && i < 3; i++)
        if (bl_http_server_route(s->server, "POST", paths[i], handle, s, &err) != 0)
            return -1;
    if (!s->server || bl_http_server_start(s->server, &err) != 0) {
        fprintf(stderr, "sink: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void webhook_sink_url(const webhook_sink *s, const char *path, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u%s", bl_http_server_port(s->server), path);
}

size_t webhook_sink_count(webhook_sink *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int webhook_sink_wait(webhook_sink *s, int (*pred)(webhook_sink *, void *), void *user, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (pred(s, user))
            return 1;
        usleep(50 * 1000);
    }
    return pred(s, user);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t webhook_sink_distinct_ok(webhook_sink *s)
{
    pthread_mutex_lock(&s->lock);
    char **ids = malloc((s->n + 1) * sizeof *ids);
    size_t k = 0, distinct = 0;
    for (size_t i = 0; ids && i < s->n; i++)
        if (s->hits[i].status / 100 == 2)
            ids[k++] = s->hits[i].id;
    if (ids)
        qsort(ids, k, sizeof *ids, cmp_str);
    for (size_t i = 0; i < k; i++)
        if (i == 0 || strcmp(ids[i], ids[i - 1]) != 0)
            distinct++;
    free(ids);
    pthread_mutex_unlock(&s->lock);
    return distinct;
}

void webhook_sink_stop(webhook_sink *s)
{
    atomic_store(&s->stopping, 1);
    bl_http_server_free(s->server);
    for (size_t i = 0; i < s->n; i++)
        free(s->hits[i].body);
    free(s->hits);
    pthread_mutex_destroy(&s->lock);
}

size_t webhook_sink_count_to(webhook_sink *s, const char *path)
{
    size_t k = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++)
        k += strcmp(s->hits[i].path, path) == 0;
    pthread_mutex_unlock(&s->lock);
    return k;
}

size_t webhook_sink_hits_to(webhook_sink *s, const char *path, sink_hit *out, size_t cap)
{
    size_t k = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n && k < cap; i++)
        if (!path || strcmp(s->hits[i].path, path) == 0)
            out[k++] = s->hits[i];
    pthread_mutex_unlock(&s->lock);
    return k;
}
