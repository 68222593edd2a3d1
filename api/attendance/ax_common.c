/* Shared pieces of the Attendance-X integrations routes (ax_integrations.h). */
#include "api/attendance/ax_integrations.h"

#include "connectors/oauth/oauth.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bl_ax_provider providers[] = {
    {"google", "google_calendar", "calendar", "Google Calendar"},
    {"microsoft", "microsoft_365", "calendar", "Microsoft 365"},
    {"slack", "slack", "communication", "Slack Workspace"},
    {"zoom", "zoom", "video", "Zoom"},
};

const bl_ax_provider *bl_ax_provider_find(const char *name, bool internal)
{
    for (size_t i = 0; name && i < sizeof providers / sizeof providers[0]; i++)
        if (strcmp(internal ? providers[i].internal : providers[i].name, name) == 0)
            return &providers[i];
    return NULL;
}

/* A document scope word, the provider scope it asks for, and the document
 * permissions that scope grants (space-separated). */
typedef struct scope_row {
    const char *provider, *word, *scope, *permissions;
} scope_row;

static const scope_row scopes[] = {
    {"google_calendar", "calendar.read", "https://www.googleapis.com/auth/calendar.readonly", "read_calendar"},
    {"google_calendar", "calendar.write", "https://www.googleapis.com/auth/calendar.events",
     "read_calendar write_calendar manage_events"},
    {"google_calendar", "events.manage", "https://www.googleapis.com/auth/calendar",
     "read_calendar write_calendar manage_events"},
    {"microsoft_365", "calendar.read", "Calendars.Read", "read_calendar"},
    {"microsoft_365", "calendar.write", "Calendars.ReadWrite", "read_calendar write_calendar manage_events"},
    {"microsoft_365", "events.manage", "Calendars.ReadWrite", "read_calendar write_calendar manage_events"},
    {"microsoft_365", "meetings.manage", "OnlineMeetings.ReadWrite", "manage_meetings"},
    {"slack", "messages.send", "chat:write", "send_messages"},
    {"slack", "channels.read", "channels:read", "read_channels"},
    {"zoom", "meetings.manage", "meeting:write:admin", "manage_meetings"},
    {"zoom", "reports.read", "report:read:admin", "read_reports"},
};

/* Whether scope is one the table maps (so not an identity scope). */
static bool mapped_scope(const char *provider, const char *scope, size_t len)
{
    for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++)
        if (strcmp(scopes[i].provider, provider) == 0 && strlen(scopes[i].scope) == len &&
            strncmp(scopes[i].scope, scope, len) == 0)
            return true;
    return false;
}

static int append_scope(char *out, size_t cap, size_t *o, const char *scope, size_t len, char sep)
{
    /* a scope asked for twice is asked for once */
    for (const char *at = out; *at;) {
        size_t n = strcspn(at, (char[]){sep, 0});
        if (n == len && strncmp(at, scope, len) == 0)
            return 0;
        at += n;
        at += *at ? 1 : 0;
    }
    int n = snprintf(out + *o, cap - *o, "%s%.*s", *o ? (char[]){sep, 0} : "", (int)len, scope);
    if (n < 0 || (size_t)n >= cap - *o)
        return -1;
    *o += (size_t)n;
    return 0;
}

int bl_ax_scopes_for(const bl_ax_provider *p, const json_t *words, char *out, size_t cap, json_t *fields)
{
    const bl_oauth_provider *op = bl_oauth_provider_find(p->internal);
    char sep = op && op->scope_separator ? op->scope_separator : ' ';
    size_t o = 0;
    out[0] = '\0';
    if (!json_is_array(words) || json_array_size(words) > 16) {
        json_object_set_new(fields, "scopes", json_string("an array of at most 16 scope words"));
        return -1;
    }
    /* the provider's identity scopes (openid, offline_access, ...) stay */
    const char *d = op ? op->scopes : "";
    while (d && *d) {
        size_t len = strcspn(d, " ,");
        if (len && !mapped_scope(p->internal, d, len) && append_scope(out, cap, &o, d, len, sep) != 0)
            return -1;
        d += len;
        d += strspn(d, " ,");
    }
    int rc = 0;
    size_t i;
    json_t *w;
    json_array_foreach (words, i, w) {
        const char *word = json_string_value(w);
        const scope_row *row = NULL;
        for (size_t k = 0; word && k < sizeof scopes / sizeof scopes[0] && !row; k++)
            if (strcmp(scopes[k].provider, p->internal) == 0 && strcmp(scopes[k].word, word) == 0)
                row = &scopes[k];
        if (!row) {
            char key[32], msg[256];
            snprintf(key, sizeof key, "scopes[%zu]", i);
            size_t m = (size_t)snprintf(msg, sizeof msg, "not a scope of %s; one of", p->name);
            for (size_t k = 0; k < sizeof scopes / sizeof scopes[0] && m < sizeof msg; k++)
                if (strcmp(scopes[k].provider, p->internal) == 0)
                    m += (size_t)snprintf(msg + m, sizeof msg - m, " %s", scopes[k].word);
            json_object_set_new(fields, key, json_string(msg));
            rc = -1;
        } else if (append_scope(out, cap, &o, row->scope, strlen(row->scope), sep) != 0) {
            rc = -1;
        }
    }
    return rc;
}

json_t *bl_ax_permissions(const bl_ax_provider *p, const json_t *granted)
{
    json_t *out = json_array();
    size_t i;
    json_t *g;
    json_array_foreach (granted, i, g) {
        const char *scope = json_string_value(g);
        for (size_t k = 0; scope && out && k < sizeof scopes / sizeof scopes[0]; k++) {
            if (strcmp(scopes[k].provider, p->internal) != 0 || strcmp(scopes[k].scope, scope) != 0)
                continue;
            for (const char *w = scopes[k].permissions; *w;) {
                size_t len = strcspn(w, " ");
                bool seen = false;
                size_t j;
                json_t *have;
                json_array_foreach (out, j, have)
                    seen = seen || (strlen(json_string_value(have)) == len &&
                                    strncmp(json_string_value(have), w, len) == 0);
                if (!seen)
                    json_array_append_new(out, json_stringn(w, len));
                w += len;
                w += strspn(w, " ");
            }
        }
    }
    return out;
}

void bl_ax_unknown_fields(const json_t *obj, const char *const *allowed, const char *base, json_t *fields)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)obj, key, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok) {
            char path[160];
            snprintf(path, sizeof path, "%s%s%s", base, base[0] ? "." : "", key);
            json_object_set_new(fields, path, json_string("unknown field"));
        }
    }
}

int bl_ax_not_found(const bl_api_request *req, bl_http_response *resp)
{
    return bl_api_fail(req->http, resp, 404, "INTEGRATION_NOT_FOUND", "no such integration in this organization",
                       NULL);
}

int bl_ax_integration_find(PGconn *conn, const bl_api_request *req, char *provider, char *status, bl_err *err)
{
    const char *params[] = {bl_http_request_param(req->http, "id"), req->auth->org_id};
    PGresult *r = bl_pg_exec(conn, "SELECT provider, status FROM integrations WHERE id::text = $1"
                                   " AND organization_id::text = $2", 2, params, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(provider, 32, "%s", PQgetvalue(r, 0, 0));
        snprintf(status, 16, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return found;
}

void bl_ax_status_url(const bl_api_request *req, const char *id, const char *run, char *out, size_t cap)
{
    snprintf(out, cap, "%s/integrations/%s/sync/%s/status",
             bl_api_server_surface_prefix(req->server, BL_API_SURFACE_ATTENDANCE), id, run);
}

json_t *bl_ax_estimated_duration(PGconn *conn, const char *id, bl_err *err)
{
    const char *params[] = {id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT min(d), max(d), count(*) FROM (SELECT duration_ms AS d FROM integration_sync_runs"
                             " WHERE integration_id::text = $1 AND duration_ms IS NOT NULL AND type <> 'cleanup'"
                             " ORDER BY started_at DESC LIMIT 10) x",
                             1, params, err);
    if (!r)
        return NULL;
    json_t *out = json_null();
    if (atol(PQgetvalue(r, 0, 2)) > 0) {
        long lo = atol(PQgetvalue(r, 0, 0)), hi = atol(PQgetvalue(r, 0, 1));
        char text[64];
        if (hi < 60000)
            snprintf(text, sizeof text, lo / 1000 == hi / 1000 ? "%ld seconds" : "%ld-%ld seconds",
                     lo / 1000 == hi / 1000 ? (hi + 999) / 1000 : lo / 1000, (hi + 999) / 1000);
        else
            snprintf(text, sizeof text, lo / 60000 == (hi + 59999) / 60000 ? "%ld minutes" : "%ld-%ld minutes",
                     lo / 60000 == (hi + 59999) / 60000 ? (hi + 59999) / 60000 : lo / 60000, (hi + 59999) / 60000);
        out = json_string(text);
    }
    PQclear(r);
    return out;
}

json_t *bl_ax_caller(PGconn *conn, const bl_api_request *req)
{
    bool user = req->auth->user_id[0] != '\0';
    const char *params[] = {user ? req->auth->user_id : req->auth->key_id};
    bl_err err = {0};
    PGresult *r = bl_pg_exec(conn,
                             user ? "SELECT coalesce(nullif(trim(coalesce(first_name, '') || ' ' ||"
                                    " coalesce(last_name, '')), ''), email) FROM api_users WHERE id::text = $1"
                                  : "SELECT name FROM api_keys WHERE id::text = $1",
                             1, params, &err);
    const char *name = r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : NULL;
    json_t *out = json_pack("{s:s, s:s?}", "userId", params[0], "name", name);
    PQclear(r);
    return out;
}

int bl_ax_finish_disconnect(const bl_api_request *req, void *ctx, const char *id, bool *revoked, bl_err *err)
{
    bl_api_integrations *c = ctx;
    if (!c->store)
        return bl_err_set(err, BL_EINVAL, "integrations are not configured on this server (encryption keys missing)");
    bl_audit_hook audit;
    bl_oauth_change change = bl_api_integrations_audit(req, &audit);
    int rc = bl_oauth_disconnect_keep(c->store, req->auth->org_id, id, bl_api_integrations_actor(req), revoked,
                                      &change, err);
    bl_audit_hook_clear(&audit);
    return rc;
}
