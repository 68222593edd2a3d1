/* The calendar providers' shared HTTP call (provider_http.h). */
#include "connectors/calendar_sync/provider_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATTEMPTS 5

void bl_calsync_page_clear(bl_calsync_page *p)
{
    json_decref(p->items);
    p->items = NULL;
}

void bl_calsync_provider_free(bl_calsync_provider *p)
{
    if (!p)
        return;
    if (p->free)
        p->free(p->self);
    free(p);
}

int bl_calsync_url_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                   *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (o + (keep ? 1 : 3) >= cap)
            return -1;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

json_t *bl_calsync_http_call(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                             bl_err *err)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) {
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", h->vendor);
        return NULL;
    }
    json_t *out = NULL;
    long wait = 1000;
    for (int attempt = 1;; attempt++) {
        bl_http_sync_result r;
        memset(&r, 0, sizeof r);
        if (bl_oauth_call(h->store, h->integration_id, method, url, text, body ? "application/json" : NULL, &r,
                          err) != 0) {
            bl_http_sync_result_clear(&r);
            break;
        }
        if (r.status >= 200 && r.status < 300) {
            if (r.body_truncated)
                bl_err_set(err, BL_OAUTH_E_SYNC, "%s %s: the answer is larger than the client reads", h->vendor,
                           method);
            else if (r.body_len == 0)
                out = json_null();
            else if (!(out = json_loadb(r.body, r.body_len, 0, NULL)))
                bl_err_set(err, BL_OAUTH_E_CONNECTION, "%s %s: the answer is not JSON", h->vendor, method);
            bl_http_sync_result_clear(&r);
            break;
        }
        bool again = false;
        char msg[200] = "";
        int code = h->classify(&r, &again, msg, sizeof msg);
        if (again && attempt < ATTEMPTS) {
            long ms = wait;
            if (r.retry_after[0] && atol(r.retry_after) >= 0)
                ms = atol(r.retry_after) * 1000L;
            if (ms > h->max_wait_ms)
                ms = h->max_wait_ms;
            bl_http_sync_result_clear(&r);
            sleep_ms(ms);
            wait *= 2;
            continue;
        }
        bl_err_set(err, code, "%s %s: HTTP %ld%s%s", h->vendor, method, r.status, msg[0] ? ": " : "", msg);
        bl_http_sync_result_clear(&r);
        break;
    }
    free(text);
    return out;
}

void bl_calsync_http_init(bl_calsync_http *h, bl_oauth_store *store, const char *integration_id, const char *vendor,
                          const char *base_url, const char *default_base, int max_wait_ms,
                          bl_calsync_classify_fn classify)
{
    memset(h, 0, sizeof *h);
    h->store = store;
    h->vendor = vendor;
    h->classify = classify;
    h->max_wait_ms = max_wait_ms > 0 ? max_wait_ms : 30000;
    snprintf(h->integration_id, sizeof h->integration_id, "%s", integration_id);
    snprintf(h->base, sizeof h->base, "%s", base_url && *base_url ? base_url : default_base);
    size_t n = strlen(h->base);
    while (n > 0 && h->base[n - 1] == '/')
        h->base[--n] = '\0';
}

int bl_calsync_status_code(long status, bool rate, bool quota)
{
    return status == 401            ? BL_OAUTH_E_CREDENTIALS
           : rate                   ? BL_OAUTH_E_RATE
           : status == 403 && quota ? BL_OAUTH_E_QUOTA
           : status == 403          ? BL_OAUTH_E_PERMISSION
           : status == 404          ? BL_CALSYNC_E_NOT_FOUND
           : status == 409          ? BL_CALSYNC_E_EXISTS
           : status == 410          ? BL_CALSYNC_E_CURSOR_GONE
           : status >= 500          ? BL_OAUTH_E_CONNECTION
                                    : BL_CALSYNC_E_INVALID;
}

bl_calsync_provider *bl_calsync_provider_new(const bl_calsync_provider *tmpl, void *self, bl_err *err)
{
    bl_calsync_provider *p = self ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        if (self)
            tmpl->free(self);
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        return NULL;
    }
    *p = *tmpl;
    p->self = self;
    return p;
}

int bl_calsync_http_delete(const bl_calsync_http *h, const char *url, bl_err *err)
{
    json_t *b = bl_calsync_http_call(h, "DELETE", url, NULL, err);
    if (b) {
        json_decref(b);
        return 1;
    }
    /* 410: deleted before; 404: never there or purged -- either way gone */
    if (err->code == BL_CALSYNC_E_CURSOR_GONE || err->code == BL_CALSYNC_E_NOT_FOUND) {
        bl_err_clear(err);
        return 0;
    }
    return -1;
}

json_t *bl_calsync_http_write(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                              const char *version_key, char id_out[BL_CALSYNC_ID_MAX],
                              char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err)
{
    json_t *b = bl_calsync_http_call(h, method, url, body, err);
    if (!b)
        return NULL;
    const char *id = json_string_value(json_object_get(b, "id"));
    const char *version = json_string_value(json_object_get(b, version_key));
    if (!id || !version) {
        bl_err_set(err, BL_OAUTH_E_SYNC, "%s: the answer has no id or %s", h->vendor, version_key);
        json_decref(b);
        return NULL;
    }
    if (id_out)
        snprintf(id_out, BL_CALSYNC_ID_MAX, "%s", id);
    snprintf(version_out, BL_CALSYNC_VERSION_MAX, "%s", version);
    return b;
}

json_t *bl_calsync_http_get_item(const bl_calsync_http *h, const char *url, json_t *(*normalize)(const json_t *),
                                 bl_err *err)
{
    json_t *b = bl_calsync_http_call(h, "GET", url, NULL, err);
    json_t *item = b ? normalize(b) : NULL;
    if (b && !item)
        bl_err_set(err, BL_CALSYNC_E_NOT_FOUND, "%s: the event is not a timed event", h->vendor);
    json_decref(b);
    return item;
}
