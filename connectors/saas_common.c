/* Shared pieces of the work-item, calendar and meeting connectors. */
#include "connectors/saas_common.h"

#include "connectors/vendor_http.h"
#include "core/time_format.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_saas_setting_str(const json_t *s, const char *connector, const char *name, const char *def, char *out,
                        size_t cap, char *err, size_t err_len)
{
    const json_t *v = json_object_get(s, name);
    const char *text = v ? json_string_value(v) : def;
    if (!text || (!*text && !(def && !*def)) || strlen(text) >= cap) {
        snprintf(err, err_len, "%s: settings.%s: a non-empty string under %zu bytes is required", connector, name,
                 cap);
        return -1;
    }
    snprintf(out, cap, "%s", text);
    return 0;
}

int bl_saas_setting_bool(const json_t *s, const char *connector, const char *name, int def, int *out, char *err,
                         size_t err_len)
{
    const json_t *v = json_object_get(s, name);
    if (v && !json_is_boolean(v)) {
        snprintf(err, err_len, "%s: settings.%s: true or false is required", connector, name);
        return -1;
    }
    *out = v ? json_is_true(v) : def;
    return 0;
}

int bl_saas_setting_int(const json_t *s, const char *connector, const char *name, long def, long lo, long hi,
                        long *out, char *err, size_t err_len)
{
    const json_t *v = json_object_get(s, name);
    if (v && (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)) {
        snprintf(err, err_len, "%s: settings.%s: an integer from %ld to %ld is required", connector, name, lo, hi);
        return -1;
    }
    *out = v ? (long)json_integer_value(v) : def;
    return 0;
}

int bl_saas_base_url(const json_t *s, const char *connector, const char *def, char *out, size_t cap, char *err,
                     size_t err_len)
{
    if (bl_saas_setting_str(s, connector, "base_url", def, out, cap, err, err_len) != 0)
        return -1;
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
    if (strncmp(out, "https://", 8) != 0 && strncmp(out, "http://", 7) != 0) {
        snprintf(err, err_len, "%s: settings.base_url: an http(s) URL is required", connector);
        return -1;
    }
    return 0;
}

int bl_saas_bearer(const bl_connector_host *host, const char *connector, char *out, size_t cap,
                   bl_connector_result *r)
{
    char token[4096];
    if (host->auth_token(host->ctx, token, sizeof token) != 0 || !token[0] ||
        snprintf(out, cap, "Authorization: Bearer %s", token) >= (int)cap) {
        bl_vendor_result(r, BL_CONNECTOR_AUTH_EXPIRED, "%s: no OAuth access token", connector);
        return -1;
    }
    return 0;
}

json_t *bl_saas_call(const bl_connector_host *host, const bl_saas_request *req, long *status,
                     bl_connector_result *r)
{
    const char *headers[] = {req->auth};
    bl_connector_http_response resp;
    int rc = bl_vendor_json_call_as(host, req->method, req->url, headers, req->auth ? 1 : 0, req->body,
                                    req->content_type, &resp);
    *status = rc == 0 ? resp.status : 0;
    char msg[400] = "";
    int override = -1;
    if (rc == 0 && (resp.status < 200 || resp.status >= 300) && req->error_text)
        override = req->error_text(resp.status, resp.body ? resp.body : "", resp.body_len, msg, sizeof msg);
    json_t *out = NULL;
    if (bl_vendor_classify(rc, &resp, req->what, msg[0] ? msg : NULL, host->now_ms(host->ctx), r)) {
        out = resp.body_len ? json_loadb(resp.body, resp.body_len, 0, NULL) : json_null();
        if (!out)
            bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "%s: HTTP %ld with a body that is not JSON", req->what,
                             resp.status);
    } else if (override >= 0) {
        r->status = override;
    }
    host->http_release(host->ctx, &resp);
    return out;
}

static void link_key(const char *kind, const char *subject, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", kind, subject);
}

int bl_saas_link_get(const bl_connector_host *host, const char *kind, const char *subject, char *out, size_t cap,
                     bl_connector_result *r)
{
    char key[600];
    link_key(kind, subject, key, sizeof key);
    int got = host->state_get(host->ctx, key, out, cap);
    if (got < 0) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "connector state unavailable (%s)", key);
        return -1;
    }
    return got == 1 && out[0] ? 1 : 0;
}

int bl_saas_link_put(const bl_connector_host *host, const char *kind, const char *subject, const char *value,
                     bl_connector_result *r)
{
    char key[600];
    link_key(kind, subject, key, sizeof key);
    if (host->state_put(host->ctx, key, value) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "connector state unavailable: could not link %s to %s", key,
                         value);
        return -1;
    }
    return 0;
}

int bl_saas_linked(const bl_connector_host *host, const char *connector, const char *kind, const char *subject,
                   const char *verb, char *out, size_t cap, bl_connector_result *r)
{
    int linked = bl_saas_link_get(host, kind, subject, out, cap, r);
    if (linked == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, "%s: no %s for %s; nothing to %s", connector, kind, subject, verb);
    return linked;
}

size_t bl_saas_split(const char *text, size_t max, bl_saas_item_fn fn, void *ctx)
{
    size_t given = 0;
    const char *p = text ? text : "";
    while (*p && given < max) {
        size_t n = strcspn(p, ",;\n");
        const char *a = p, *b = p + n;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a) {
            char item[512];
            snprintf(item, sizeof item, "%.*s", (int)(b - a), a);
            fn(item, ctx);
            given++;
        }
        p += n + (p[n] != '\0');
    }
    return given;
}

int bl_saas_time_parse(const char *s, bl_saas_time *t)
{
    if (!s || !*s)
        return -1;
    if (bl_rfc3339_parse_millis(s, &t->ms) == 0) {
        t->local = 0;
        return 0;
    }
    /* A wall time without an offset: read it as UTC and remember it is local. */
    char utc[64];
    size_t n = strlen(s);
    if (n < 19 || n > 40 || strchr(s + 10, '+') || strchr(s + 10, 'Z') || strchr(s + 10, 'z') ||
        strchr(s + 11, '-'))
        return -1;
    snprintf(utc, sizeof utc, "%sZ", s);
    if (bl_rfc3339_parse_millis(utc, &t->ms) != 0)
        return -1;
    t->local = 1;
    return 0;
}

void bl_saas_time_format(const bl_saas_time *t, int utc_z, char *out, size_t cap)
{
    char full[40];
    bl_rfc3339_format_millis(t->ms, full, sizeof full);
    snprintf(out, cap, "%.19s%s", full, !t->local && utc_z ? "Z" : "");
}

int bl_saas_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (end && isspace((unsigned char)*end))
        end++;
    if (errno != 0 || !end || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

void bl_saas_unlink_deleted(const bl_connector_host *host, const char *connector, const char *kind,
                            const char *subject, const char *id, int already_gone, bl_connector_result *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->external_id, sizeof r->external_id, "%s", id);
    if (bl_saas_link_put(host, kind, subject, "", r) == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, "%s: deleted %s %s%s", connector, kind, id,
                         already_gone ? " (already gone)" : "");
}

void bl_saas_dispatch(const char *connector, const bl_saas_action *actions, const void *instance,
                      const bl_connector_event *ev, bl_connector_result *r)
{
    if (!ev->subject || !*ev->subject) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: the event has no subject (aggregate id)", connector);
        return;
    }
    for (const bl_saas_action *a = actions; a->name; a++) {
        if (strcmp(ev->action, a->name) == 0) {
            a->fn(instance, ev, r);
            return;
        }
    }
    bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: unknown action %s", connector, ev->action);
}

const char *bl_saas_field(const bl_connector_event *ev, const char *name)
{
    const char *v = bl_connector_event_field(ev, name);
    return v && *v ? v : NULL;
}

int bl_saas_event_times(const bl_connector_event *ev, const char *connector, long default_minutes,
                        bl_saas_time *start, bl_saas_time *end, bl_connector_result *r)
{
    const char *s = bl_saas_field(ev, "start");
    if (bl_saas_time_parse(s, start) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: field start: an RFC 3339 date-time is required, got \"%.80s\"",
                         connector, s ? s : "");
        return -1;
    }
    const char *e = bl_saas_field(ev, "end");
    if (e) {
        if (bl_saas_time_parse(e, end) != 0 || end->local != start->local || end->ms <= start->ms) {
            bl_vendor_result(r, BL_CONNECTOR_PERMANENT,
                             "%s: field end: a date-time after start (both with or both without an offset) is "
                             "required, got \"%.80s\"",
                             connector, e);
            return -1;
        }
        return 0;
    }
    long minutes = default_minutes;
    const char *d = bl_saas_field(ev, "duration_minutes");
    if (d && bl_saas_parse_long(d, 1, 60L * 24 * 14, &minutes) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: field duration_minutes: 1 to 20160 minutes, got \"%.40s\"",
                         connector, d);
        return -1;
    }
    *end = *start;
    end->ms += (int64_t)minutes * 60000;
    return 0;
}
