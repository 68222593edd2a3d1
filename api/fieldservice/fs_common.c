/* The field-service surface's shared helpers (see fs_common.h). */
#include "api/fieldservice/fs_common.h"

#include "api/surface_fields.h"

#include "core/log.h"
#include "producers/outbox/domain_events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_SOURCE "busline-api"
#define USER_ENTITY "user" /* the API appends user events only; the domain service the rest */

void bl_fs_field_error(json_t *errors, const char *field, const char *msg)
{
    json_t *list = json_object_get(errors, field);
    if (!json_is_array(list)) {
        list = json_array();
        if (!list || json_object_set_new(errors, field, list) != 0)
            return;
    }
    json_array_append_new(list, json_string(msg));
}

int bl_fs_invalid(const bl_api_request *req, bl_http_response *resp, json_t *errors)
{
    return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", "the request is not valid", errors);
}

const json_t *bl_fs_body(const bl_api_request *req, json_t *errors)
{
    if (json_is_object(req->body))
        return req->body;
    bl_fs_field_error(errors, "body", "a JSON object is required");
    return NULL;
}

void bl_fs_unknown_fields(const json_t *body, const char *const *known, json_t *errors)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(known[i], key) == 0;
        if (!found)
            bl_fs_field_error(errors, key, "unknown field");
    }
}

const char *bl_fs_string(const json_t *body, const char *name, size_t max, bool required, json_t *errors)
{
    const json_t *v = json_object_get(body, name);
    if (!v || json_is_null(v)) {
        if (required)
            bl_fs_field_error(errors, name, "this field is required");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s) {
        bl_fs_field_error(errors, name, "must be a string");
        return NULL;
    }
    size_t n = json_string_length(v);
    if ((n == 0 && required) || n > max || strlen(s) != n) {
        char msg[64];
        snprintf(msg, sizeof msg, "must be %s to %zu bytes", required ? "1" : "0", max);
        bl_fs_field_error(errors, name, msg);
        return NULL;
    }
    return s;
}

/* A positive integer query parameter within [1, max]; def when absent or empty. */
static long query_long(const bl_http_request *req, const char *name, long def, long max, json_t *errors)
{
    const char *v = bl_http_request_query(req, name);
    long n = def;
    if (!v || !*v)
        return def;
    if (bl_api_query_long(req, name, 1, max, &n) < 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "an integer from 1 to %ld", max);
        bl_fs_field_error(errors, name, msg);
        return def;
    }
    return n;
}

void bl_fs_page_read(const bl_http_request *req, long *page, long *size, json_t *errors)
{
    *page = query_long(req, "page", 1, 1000000, errors);
    *size = query_long(req, "size", BL_FS_PAGE_SIZE_DEFAULT, BL_FS_PAGE_SIZE_MAX, errors);
}

json_t *bl_fs_page_envelope(const char *key, json_t *items, long total, long page, long size)
{
    long pages = size > 0 ? (total + size - 1) / size : 0;
    return json_pack("{s:o, s:I, s:I, s:I, s:I}", key, items ? items : json_array(), "total",
                     (json_int_t)total, "page", (json_int_t)page, "size", (json_int_t)size, "pages",
                     (json_int_t)pages);
}

json_t *bl_fs_query_json(bl_api_server *s, const char *sql, int nparams, const char *const *params)
{
    bl_err err = {0};
    return bl_api_query_json(s, sql, nparams, params, &err);
}

int bl_fs_answer_query(const bl_api_request *req, bl_http_response *resp, int status, const char *sql,
                       int nparams, const char *const *params)
{
    json_t *j = bl_fs_query_json(req->server, sql, nparams, params);
    int rc = j ? bl_http_response_json(resp, status, j) : -1;
    json_decref(j);
    return rc;
}

/* ---- events ---- */

struct bl_fs_events {
    bl_api_server *server;
    pthread_mutex_t lock;
    bl_domain_events *ev; /* NULL until first used */
};

static void events_free(void *ctx)
{
    bl_fs_events *e = ctx;
    bl_domain_events_free(e->ev);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

bl_fs_events *bl_fs_events_attach(bl_api_server *s, bl_err *err)
{
    bl_fs_events *e = calloc(1, sizeof *e);
    if (!e) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    e->server = s;
    pthread_mutex_init(&e->lock, NULL);
    if (bl_api_server_on_free(s, events_free, e, err) != 0)
        return NULL; /* freed by the hook */
    return e;
}

int bl_fs_event_append(bl_fs_events *ev, PGconn *conn_in_tx, const char *type, const char *organization_id,
                       const char *aggregate_id, const json_t *data, bl_err *err)
{
    pthread_mutex_lock(&ev->lock);
    if (!ev->ev) {
        const bl_api_config *cfg = bl_api_server_config(ev->server);
        ev->ev = bl_domain_events_new_entity(bl_api_server_pool(ev->server), cfg->schemas_dir, "fieldservice",
                                             USER_ENTITY, EVENTS_SOURCE, cfg->topic_prefix, err);
    }
    bl_domain_events *d = ev->ev;
    pthread_mutex_unlock(&ev->lock);
    if (!d)
        return bl_err_wrap(err, "api: field-service events");
    char aggregate[64];
    snprintf(aggregate, sizeof aggregate, "%.*s", (int)strcspn(type, "."), type);
    return bl_domain_events_append(d, conn_in_tx, type, organization_id, aggregate, aggregate_id, data, err);
}

int bl_fs_answer_page(const bl_api_request *req, bl_http_response *resp, const char *sql)
{
    long page, size;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_fs_page_read(req->http, &page, &size, errors);
    if (json_object_size(errors) > 0)
        return bl_fs_invalid(req, resp, errors);
    json_decref(errors);
    char limit[24], offset[24];
    snprintf(limit, sizeof limit, "%ld", size);
    snprintf(offset, sizeof offset, "%ld", (page - 1) * size);
    const char *params[] = {req->auth->org_id, limit, offset};
    return bl_fs_answer_query(req, resp, 200, sql, 3, params);
}
