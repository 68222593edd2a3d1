/* The shared core of the SaaS vendor fakes. */
#include "tests/support/fake_saas.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int bl_fake_saas_start(bl_fake_saas *f, const char *vendor, const char *accepted_auth)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    f->objects = json_object();
    f->gcal_meta = json_object();
    pthread_cond_init(&f->gcal_cond, NULL);
    f->next_id = 1000;
    snprintf(f->accepted_auth, sizeof f->accepted_auth, "%s", accepted_auth);
    bl_err err = {0};
    bl_http_server_config cfg = {.host = "127.0.0.1", .drain_timeout_ms = 2000};
    f->server = bl_http_server_new(&cfg, &err);
    int rc = -1;
    if (!f->server)
        goto done;
    if (strcmp(vendor, "azure_devops") == 0) {
        f->error_body = bl_fake_azure_devops_error;
        rc = bl_fake_azure_devops_routes(f, &err);
    } else if (strcmp(vendor, "google_calendar") == 0) {
        f->error_body = bl_fake_google_error;
        rc = bl_fake_google_calendar_routes(f, &err);
    } else if (strcmp(vendor, "graph") == 0) {
        f->error_body = bl_fake_graph_error;
        rc = bl_fake_graph_routes(f, &err);
    } else if (strcmp(vendor, "zoom") == 0) {
        f->error_body = bl_fake_zoom_error;
        rc = bl_fake_zoom_routes(f, &err);
    } else {
        snprintf(err.msg, sizeof err.msg, "no fake for %s", vendor);
    }
    if (rc == 0)
        rc = bl_http_server_start(f->server, &err);
    if (rc == 0)
        snprintf(f->base_url, sizeof f->base_url, "http://127.0.0.1:%u", bl_http_server_port(f->server));
done:
    if (rc != 0)
        fprintf(stderr, "fake %s: %s\n", vendor, err.msg);
    return rc;
}

void bl_fake_saas_stop(bl_fake_saas *f)
{
    if (f->server) {
        pthread_mutex_lock(&f->lock);
        f->gcal_hold_at = 0;
        pthread_cond_broadcast(&f->gcal_cond);
        pthread_mutex_unlock(&f->lock);
        bl_http_server_free(f->server);
    }
    f->server = NULL;
    json_decref(f->gcal_meta);
    f->gcal_meta = NULL;
    json_decref(f->graph_meetings);
    f->graph_meetings = NULL;
    json_decref(f->zoom_reports);
    f->zoom_reports = NULL;
    pthread_cond_destroy(&f->gcal_cond);
    json_decref(f->objects);
    json_decref(f->last_body);
    f->objects = f->last_body = NULL;
    pthread_mutex_destroy(&f->lock);
}

void bl_fake_saas_fail_next(bl_fake_saas *f, int status, const char *message, const char *retry_after)
{
    pthread_mutex_lock(&f->lock);
    if (f->fail_n < 4) {
        f->fail_status[f->fail_n] = status;
        snprintf(f->fail_message[f->fail_n], sizeof f->fail_message[0], "%s", message ? message : "");
        snprintf(f->fail_retry_after[f->fail_n], sizeof f->fail_retry_after[0], "%s", retry_after ? retry_after : "");
        f->fail_n++;
    }
    pthread_mutex_unlock(&f->lock);
}

void bl_fake_saas_accept(bl_fake_saas *f, const char *accepted_auth)
{
    pthread_mutex_lock(&f->lock);
    snprintf(f->accepted_auth, sizeof f->accepted_auth, "%s", accepted_auth);
    pthread_mutex_unlock(&f->lock);
}

size_t bl_fake_saas_count(bl_fake_saas *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = json_object_size(f->objects);
    pthread_mutex_unlock(&f->lock);
    return n;
}

static void answer(bl_fake_saas *f, bl_http_response *resp, int status, const char *message)
{
    json_t *body = f->error_body(status, message);
    bl_http_response_json(resp, status, body);
    json_decref(body);
}

int bl_fake_saas_begin(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp)
{
    f->requests++;
    snprintf(f->last_method, sizeof f->last_method, "%s", bl_http_request_method(req));
    snprintf(f->last_path, sizeof f->last_path, "%s", bl_http_request_path(req));
    const char *ct = bl_http_request_header(req, "Content-Type");
    snprintf(f->last_content_type, sizeof f->last_content_type, "%s", ct ? ct : "");
    json_decref(f->last_body);
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    f->last_body = len ? json_loadb(body, len, 0, NULL) : NULL;
    if (f->fail_n > 0) {
        int status = f->fail_status[0];
        char message[256], retry_after[32];
        snprintf(message, sizeof message, "%s", f->fail_message[0]);
        snprintf(retry_after, sizeof retry_after, "%s", f->fail_retry_after[0]);
        f->fail_n--;
        memmove(f->fail_status, f->fail_status + 1, sizeof f->fail_status[0] * (size_t)f->fail_n);
        memmove(f->fail_message, f->fail_message + 1, sizeof f->fail_message[0] * (size_t)f->fail_n);
        memmove(f->fail_retry_after, f->fail_retry_after + 1, sizeof f->fail_retry_after[0] * (size_t)f->fail_n);
        answer(f, resp, status, message[0] ? message : NULL);
        if (retry_after[0])
            bl_http_response_header(resp, "Retry-After", retry_after);
        return 1;
    }
    const char *auth = bl_http_request_header(req, "Authorization");
    if (!auth || strcmp(auth, f->accepted_auth) != 0) {
        answer(f, resp, 401, NULL);
        return 1;
    }
    return 0;
}

int bl_fake_saas_refuse(bl_fake_saas *f, bl_http_response *resp, const char *why)
{
    if (!f->problem[0])
        snprintf(f->problem, sizeof f->problem, "%s %s: %s", f->last_method, f->last_path, why);
    answer(f, resp, 400, why);
    return 0;
}

int bl_fake_saas_content_type_is(const bl_http_request *req, const char *media_type)
{
    const char *ct = bl_http_request_header(req, "Content-Type");
    size_t n = strlen(media_type);
    return ct && strncasecmp(ct, media_type, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

json_t *bl_fake_saas_object(bl_fake_saas *f, const char *id)
{
    pthread_mutex_lock(&f->lock);
    json_t *o = json_object_get(f->objects, id);
    json_t *copy = o ? json_deep_copy(o) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}

void bl_fake_saas_expire_tokens(bl_fake_saas *f)
{
    pthread_mutex_lock(&f->lock);
    f->gcal_token_floor = f->gcal_seq + 1;
    pthread_mutex_unlock(&f->lock);
}

int bl_fake_change_by_seq(const void *a, const void *b)
{
    long x = ((const bl_fake_change *)a)->seq, y = ((const bl_fake_change *)b)->seq;
    return x < y ? -1 : x > y;
}
