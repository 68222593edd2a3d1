/* {prefix}/integrations of design document 001 on the Attendance-X surface:
 * list, connect (the OAuth flow /v1 uses: PKCE and a single-use state, or a
 * browserless connect for Zoom and Microsoft app-only), callback, settings
 * (nested, per provider, api/attendance/integration_settings.h) and the
 * connection test. Sync, history, delete: route_integrations_sync.c;
 * analytics: route_integrations_metrics.c. Answers {"success": true,
 * "data": ...}; errors in the surface's shape with the document's codes. */
#include "api/attendance/ax_integrations.h"
#include "api/attendance/integration_settings.h"
#include "api/audit/audit_log.h"

#include "api/routes/routes.h"
#include "connectors/oauth/oauth.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The document's providers, as busline names them, for SQL. */
#define DOC_PROVIDERS "('google_calendar', 'microsoft_365', 'slack', 'zoom')"

/* One integration (alias i) as the document's list shows it; "scopes" is
 * turned into "permissions" in C. */
#define INTEGRATION_JSON                                                                                          \
    "json_build_object('id', i.id, 'provider', CASE i.provider WHEN 'google_calendar' THEN 'google'"            \
    " WHEN 'microsoft_365' THEN 'microsoft' ELSE i.provider END,"                                              \
    " 'type', CASE i.type WHEN 'chat' THEN 'communication' WHEN 'meetings' THEN 'video' ELSE i.type END,"       \
    " 'name', CASE i.provider WHEN 'google_calendar' THEN 'Google Calendar' WHEN 'microsoft_365'"              \
    " THEN 'Microsoft 365' WHEN 'slack' THEN 'Slack Workspace' ELSE 'Zoom' END,"                                \
    " 'status', i.status, 'connectedAt', i.created_at, 'disconnectedAt', i.disconnected_at,"                   \
    " 'lastSync', i.last_sync_at,"                                                                            \
    " 'lastActivity', (SELECT max(c.created_at) FROM integration_calls c WHERE c.integration_id = i.id),"      \
    " 'settings', i.settings || jsonb_build_object('syncDirection', i.sync_direction, 'autoSync', i.auto_sync," \
    " 'syncInterval', i.sync_interval_s), 'notifications', i.notifications,"                                   \
    " 'nextSyncAt', i.next_sync_at, 'scopes', to_json(i.scopes),"                                               \
    " 'statistics', CASE WHEN i.type = 'calendar' THEN json_build_object("                                     \
    "   'eventsSynced', (SELECT count(*) FROM integration_event_links l WHERE l.integration_id = i.id"          \
    "     AND l.removed_at IS NULL),"                                                                         \
    "   'lastSyncDuration', (SELECT to_char(s.duration_ms / 1000.0, 'FM99990.0') || 's'"                        \
    "     FROM integration_sync_runs s WHERE s.integration_id = i.id AND s.duration_ms IS NOT NULL"              \
    "     AND s.type <> 'cleanup' ORDER BY s.started_at DESC LIMIT 1),"                                        \
    "   'errorCount', i.error_count,"                                                                         \
    "   'successRate', (SELECT round(count(*) FILTER (WHERE s.status IN ('success', 'completed'))::numeric"     \
    "     / nullif(count(*), 0), 4) FROM integration_sync_runs s WHERE s.integration_id = i.id"                  \
    "     AND s.type <> 'cleanup' AND s.status NOT IN ('queued', 'running')))"                                 \
    "   WHEN i.provider = 'slack' THEN json_build_object('errorCount', i.error_count,"                           \
    "   'channelsConnected', (SELECT count(DISTINCT v) FROM (SELECT jsonb_array_elements_text(CASE"              \
    "     WHEN jsonb_typeof(i.settings->'channels') = 'object' THEN (SELECT jsonb_agg(x) FROM"                    \
    "     jsonb_each_text(i.settings->'channels') e(k, x)) ELSE '[]' END) AS v UNION ALL"                        \
    "     SELECT i.settings->>'defaultChannel') ch WHERE v IS NOT NULL))"                                        \
    "   ELSE json_build_object('errorCount', i.error_count) END,"                                              \
    " 'connectedBy', CASE WHEN i.connected_by IS NULL THEN NULL ELSE coalesce("                               \
    "   (SELECT json_build_object('id', u.id, 'name', coalesce(nullif(trim(coalesce(u.first_name, '') || ' ' ||" \
    "     coalesce(u.last_name, '')), ''), u.email), 'email', u.email) FROM api_users u"                         \
    "     WHERE u.id::text = i.connected_by),"                                                                   \
    "   (SELECT json_build_object('id', k.id, 'name', k.name, 'email', NULL) FROM api_keys k"                    \
    "     WHERE k.id::text = i.connected_by)) END)"

/* Replaces the row's "scopes" by the document's "permissions". */
static void scopes_to_permissions(json_t *row)
{
    const char *doc = json_string_value(json_object_get(row, "provider"));
    const bl_ax_provider *p = bl_ax_provider_find(doc, false);
    json_t *perms = p ? bl_ax_permissions(p, json_object_get(row, "scopes")) : json_array();
    json_object_del(row, "scopes");
    json_object_set_new(row, "permissions", perms ? perms : json_array());
}

/* The integrations of the caller's organization matching the filters
 * ($2 provider, $3 status, $4 type; NULL = any), or the one of id ($5). */
static json_t *integrations_json(PGconn *conn, const bl_api_request *req, const char *provider, const char *status,
                                 const char *type, const char *id, bl_err *err)
{
    const char *params[] = {req->auth->org_id, provider, status, type, id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT coalesce(json_agg(x.j ORDER BY x.c, x.k), '[]')::text FROM (SELECT "
                             INTEGRATION_JSON " AS j, i.created_at AS c, i.id AS k FROM integrations i"
                             " WHERE i.organization_id::text = $1 AND i.provider IN " DOC_PROVIDERS
                             " AND ($2::text IS NULL OR i.provider = $2) AND ($3::text IS NULL OR i.status = $3)"
                             " AND ($4::text IS NULL OR i.type = $4) AND ($5::text IS NULL OR i.id::text = $5)) x",
                             5, params, err);
    if (!r)
        return NULL;
    json_t *rows = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row)
        scopes_to_permissions(row);
    if (!rows)
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
    return rows;
}

/* GET /integrations?provider&status&type */
static int list_integrations(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *provider = bl_http_request_query(req->http, "provider");
    const char *status = bl_http_request_query(req->http, "status");
    const char *type = bl_http_request_query(req->http, "type");
    const bl_ax_provider *p = provider ? bl_ax_provider_find(provider, false) : NULL;
    if (provider && !p)
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED",
                           "provider is one of google, microsoft, slack, zoom", NULL);
    static const char *const statuses[] = {"connected", "disconnected", "error", "pending", NULL};
    static const char *const types[][2] = {{"calendar", "calendar"}, {"communication", "chat"},
                                           {"video", "meetings"}, {"storage", "storage"}};
    json_t *fields = json_object();
    if (!fields)
        return -1;
    bool known = !status;
    for (size_t i = 0; status && statuses[i]; i++)
        known = known || strcmp(status, statuses[i]) == 0;
    if (!known)
        json_object_set_new(fields, "status", json_string("one of connected, disconnected, error, pending"));
    const char *internal_type = NULL;
    for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(type, types[i][0]) == 0)
            internal_type = types[i][1];
    if (type && !internal_type)
        json_object_set_new(fields, "type", json_string("one of calendar, communication, video, storage"));
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", fields);
    json_decref(fields);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *rows = integrations_json(conn, req, p ? p->internal : NULL, status, internal_type, NULL, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return rows ? bl_att_answer(resp, 200, rows, NULL) : -1;
}

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Moves settings' syncDirection, autoSync and syncInterval into the
 * integration's columns (arming the autoSync timer) in one statement. */
static int hoist_sync_fields(PGconn *conn, const char *id, bl_err *err)
{
    const char *params[] = {id};
    return bl_pg_exec_cmd(conn,
                          "UPDATE integrations SET"
                          " sync_direction = coalesce(settings->>'syncDirection', sync_direction),"
                          " auto_sync = coalesce((settings->>'autoSync')::boolean, auto_sync),"
                          " sync_interval_s = coalesce((settings->>'syncInterval')::int, sync_interval_s),"
                          " next_sync_at = CASE WHEN coalesce((settings->>'autoSync')::boolean, auto_sync)"
                          "   AND status = 'connected' THEN now() + make_interval(secs =>"
                          "   coalesce((settings->>'syncInterval')::int, sync_interval_s)) END,"
                          " settings = settings - 'syncDirection' - 'autoSync' - 'syncInterval', updated_at = now()"
                          " WHERE id::text = $1",
                          1, params, err);
}

/* The data of a new connection: the document's callback answer. For a
 * calendar an initial sync is queued for the worker (busline sync). */
static json_t *connected_json(PGconn *conn, const bl_api_request *req, const bl_ax_provider *p, const char *id,
                              bl_err *err)
{
    if (hoist_sync_fields(conn, id, err) != 0)
        return NULL;
    json_t *initial = json_null();
    if (strcmp(p->type, "calendar") == 0) {
        const char *params[] = {id};
        PGresult *r = bl_pg_exec(conn,
                                 "INSERT INTO integration_sync_runs (integration_id, status, type, direction,"
                                 " triggered_by) SELECT id, 'queued', 'automatic', sync_direction, '\"initial_sync\"'"
                                 " FROM integrations WHERE id::text = $1 RETURNING id",
                                 1, params, err);
        if (!r)
            return NULL;
        char url[512];
        bl_ax_status_url(req, id, PQgetvalue(r, 0, 0), url, sizeof url);
        json_t *estimate = bl_ax_estimated_duration(conn, id, err);
        initial = json_pack("{s:s, s:s, s:s, s:o*}", "status", "scheduled", "syncId", PQgetvalue(r, 0, 0),
                            "statusUrl", url, "estimatedDuration", estimate);
        PQclear(r);
    }
    const char *params[] = {id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT to_json(created_at)#>>'{}', account_name, to_json(scopes)::text"
                             " FROM integrations WHERE id::text = $1",
                             1, params, err);
    if (!r) {
        json_decref(initial);
        return NULL;
    }
    const char *account = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
    json_t *scopes = json_loads(PQgetvalue(r, 0, 2), 0, NULL);
    json_t *perms = bl_ax_permissions(p, scopes);
    json_decref(scopes);
    /* userInfo is what the provider's token or "who am I" answer named */
    json_t *user = json_pack("{s:s?, s:s?, s:n}", "email", account && strchr(account, '@') ? account : NULL, "name",
                             account, "avatar");
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "integrationId", id, "provider", p->name,
                            "status", "connected", "connectedAt", PQgetvalue(r, 0, 0), "permissions",
                            perms ? perms : json_array(), "userInfo", user ? user : json_null(), "initialSync",
                            initial);
    PQclear(r);
    return out;
}

static const char *const connect_fields[] = {"scopes", "settings", "redirectUri", NULL};

/* POST /integrations/:provider/connect */
static int connect_provider(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_api_integrations *c = ctx;
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const bl_ax_provider *p = bl_ax_provider_find(bl_http_request_param(req->http, "provider"), false);
    if (!p)
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED",
                           "the provider is one of google, microsoft, slack, zoom", NULL);
    const bl_oauth_provider *op = bl_oauth_provider_find(p->internal);
    const json_t *body = req->body;
    json_t *fields = json_object();
    if (!fields)
        return -1;
    if (body && !json_is_object(body))
        json_object_set_new(fields, "body", json_string("an object"));
    else if (body)
        bl_ax_unknown_fields(body, connect_fields, "", fields);
    const json_t *settings = json_object_get(body, "settings");
    if (settings)
        bl_integration_settings_check(p->internal, settings, "settings", true, c->catalog, fields);
    const json_t *words = json_object_get(body, "scopes");
    char scopes[1024] = "";
    if (words)
        bl_ax_scopes_for(p, words, scopes, sizeof scopes, fields);
    const char *mode = json_string_value(json_object_get(settings, "mode"));
    bool direct = op->flow != BL_OAUTH_FLOW_CODE || (mode && strcmp(mode, "client_credentials") == 0);
    const json_t *redirect_v = json_object_get(body, "redirectUri");
    const char *redirect = json_string_value(redirect_v);
    if (!direct && !redirect)
        json_object_set_new(fields, "redirectUri", json_string("required: the URL the provider returns to"));
    else if (redirect_v && (!redirect || strncmp(redirect, "http", 4) != 0 || strlen(redirect) > 2048))
        json_object_set_new(fields, "redirectUri", json_string("an http(s) URL of at most 2048 characters"));
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the connect request is not valid", fields);
    json_decref(fields);
    bl_err err = {0};
    if (direct) {
        char id[40];
        bl_audit_hook audit;
        bl_oauth_change change = bl_api_integrations_audit(req, &audit);
        int done = bl_oauth_connect_direct(st, p->internal, req->auth->org_id, settings, NULL,
                                           bl_api_integrations_actor(req), id, &change, &err);
        bl_audit_hook_clear(&audit);
        if (done != 0)
            return bl_api_integrations_fail(req, resp, &err);
        PGconn *conn = bl_api_acquire_pg(req->server, &err);
        json_t *data = conn ? connected_json(conn, req, p, id, &err) : NULL;
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        return data ? bl_att_answer(resp, 201, data, NULL) : -1;
    }
    bl_oauth_begin_result b;
    if (bl_oauth_begin(st, p->internal, req->auth->org_id, redirect, words ? scopes : NULL, settings, &b, &err) != 0)
        return bl_api_integrations_fail(req, resp, &err);
    char expires[32];
    rfc3339(b.expires_at, expires);
    json_t *shown = words ? json_deep_copy(words) : json_array();
    for (const char *s = words ? "" : op->scopes; shown && *s;) {
        size_t len = strcspn(s, " ,");
        if (len)
            json_array_append_new(shown, json_stringn(s, len));
        s += len;
        s += strspn(s, " ,");
    }
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "authUrl", b.authorization_url, "state", b.state,
                             "expiresAt", expires, "provider", p->name, "scopes", shown ? shown : json_array(),
                             "pkce", b.pkce);
    return data ? bl_att_answer(resp, 200, data, NULL) : -1;
}

static const char *const callback_fields[] = {"code", "state", "error", "error_description", NULL};

/* POST /integrations/:provider/callback */
static int callback_provider(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    const bl_ax_provider *p = bl_ax_provider_find(bl_http_request_param(req->http, "provider"), false);
    if (!p)
        return bl_api_fail(req->http, resp, 400, "PROVIDER_NOT_SUPPORTED",
                           "the provider is one of google, microsoft, slack, zoom", NULL);
    const json_t *body = req->body;
    const char *denied = json_string_value(json_object_get(body, "error"));
    if (denied) /* the provider came back with ?error=access_denied */
        return bl_api_fail(req->http, resp, 400, "OAUTH_ERROR", denied, NULL);
    json_t *fields = json_object();
    if (!fields)
        return -1;
    if (json_is_object(body))
        bl_ax_unknown_fields(body, callback_fields, "", fields);
    const char *state = json_string_value(json_object_get(body, "state"));
    const char *code = json_string_value(json_object_get(body, "code"));
    if (!state)
        json_object_set_new(fields, "state", json_string("required: the state of the connect"));
    if (!code)
        json_object_set_new(fields, "code", json_string("required: the provider's authorization code"));
    if (json_object_size(fields) > 0)
        return bl_api_fail(req->http, resp, 422, NULL, "the callback is not valid", fields);
    json_decref(fields);
    bl_err err = {0};
    char id[40];
    bl_audit_hook audit;
    bl_oauth_change change = bl_api_integrations_audit(req, &audit);
    int done = bl_oauth_complete(st, p->internal, req->auth->org_id, state, code, bl_api_integrations_actor(req),
                                 id, &change, &err);
    bl_audit_hook_clear(&audit);
    if (done != 0)
        return bl_api_integrations_fail(req, resp, &err);
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    json_t *data = conn ? connected_json(conn, req, p, id, &err) : NULL;
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    return data ? bl_att_answer(resp, 200, data, NULL) : -1;
}

static const char *const settings_fields[] = {"syncDirection", "autoSync", "syncInterval", "settings",
                                              "notifications", NULL};
static const char *const notification_fields[] = {"syncErrors", "syncSuccess", "weeklyReport", NULL};

/* PUT /integrations/:id/settings: the top-level fields into the columns,
 * settings merged over the stored ones (a key given replaces its value). */
static int put_settings(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_api_integrations *c = ctx;
    const json_t *body = req->body;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    int rc = -1;
    char provider[32], status[16];
    json_t *fields = NULL, *merged = NULL;
    char *settings_text = NULL, *notes_text = NULL;
    int found = bl_ax_integration_find(conn, req, provider, status, &err);
    if (found <= 0) {
        rc = found < 0 ? -1 : bl_ax_not_found(req, resp);
        goto done;
    }
    if (!(fields = json_object()))
        goto done;
    if (!json_is_object(body)) {
        json_object_set_new(fields, "body", json_string("an object"));
    } else {
        bl_ax_unknown_fields(body, settings_fields, "", fields);
        /* the top-level fields are checked by the same schema as settings' */
        json_t *top = json_object();
        for (size_t i = 0; top && i < 3; i++)
            if (json_object_get(body, settings_fields[i]))
                json_object_set(top, settings_fields[i], json_object_get(body, settings_fields[i]));
        json_t *top_fields = json_object();
        if (top && top_fields && bl_integration_settings_check(provider, top, "", false, c->catalog, top_fields) != 0) {
            const char *k;
            json_t *v;
            json_object_foreach (top_fields, k, v)
                json_object_set(fields, k + 1, v); /* ".syncInterval" -> "syncInterval" */
        }
        json_decref(top);
        json_decref(top_fields);
        const json_t *settings = json_object_get(body, "settings");
        if (settings)
            bl_integration_settings_check(provider, settings, "settings", true, c->catalog, fields);
        const json_t *notes = json_object_get(body, "notifications");
        if (notes && !json_is_object(notes)) {
            json_object_set_new(fields, "notifications", json_string("an object"));
        } else if (notes) {
            bl_ax_unknown_fields(notes, notification_fields, "notifications", fields);
            const char *k;
            json_t *v;
            json_object_foreach ((json_t *)notes, k, v)
                if (!json_is_boolean(v)) {
                    char path[96];
                    snprintf(path, sizeof path, "notifications.%s", k);
                    if (!json_object_get(fields, path))
                        json_object_set_new(fields, path, json_string("a boolean"));
                }
        }
    }
    if (json_object_size(fields) > 0) {
        rc = bl_api_fail(req->http, resp, 422, NULL, "the settings are not valid", fields);
        fields = NULL;
        goto done;
    }
    merged = json_object();
    const json_t *settings = json_object_get(body, "settings");
    if (merged && settings)
        json_object_update(merged, (json_t *)settings);
    for (size_t i = 0; merged && i < 3; i++) /* the top level wins over settings' copies */
        if (json_object_get(body, settings_fields[i]))
            json_object_set(merged, settings_fields[i], json_object_get(body, settings_fields[i]));
    settings_text = merged ? json_dumps(merged, JSON_COMPACT) : NULL;
    const json_t *notes = json_object_get(body, "notifications");
    notes_text = notes ? json_dumps(notes, JSON_COMPACT) : strdup("{}");
    if (!settings_text || !notes_text)
        goto done;
    const char *params[] = {bl_http_request_param(req->http, "id"), settings_text, notes_text};
    bl_audit_actor who = bl_audit_actor_of(req);
    bl_audit_change ch = {.entity_type = "integration", .table = "integrations", .entity_id = params[0],
                          .action = "update"};
    if (bl_pg_begin(conn, &err) != 0)
        goto done;
    if (bl_audit_change_begin(conn, &ch, &err) != 0 ||
        bl_pg_exec_cmd(conn,
                       "UPDATE integrations SET settings = settings || $2::jsonb,"
                       " notifications = notifications || $3::jsonb, updated_at = now() WHERE id::text = $1",
                       3, params, &err) != 0 ||
        hoist_sync_fields(conn, params[0], &err) != 0 || bl_audit_change_end(conn, &who, &ch, &err) != 0 ||
        bl_pg_commit(conn, &err) != 0) {
        bl_audit_change_clear(&ch);
        bl_pg_rollback(conn, &(bl_err){0});
        goto done;
    }
    json_t *rows = integrations_json(conn, req, NULL, NULL, NULL, params[0], &err);
    json_t *row = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    rc = row ? bl_att_answer(resp, 200, row, NULL) : -1;
done:
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    json_decref(fields);
    json_decref(merged);
    free(settings_text);
    free(notes_text);
    return rc;
}

/* The permissions a provider's type needs for what busline does with it. */
static const char *required_permissions(const char *type)
{
    return strcmp(type, "calendar") == 0        ? "read_calendar write_calendar manage_events"
           : strcmp(type, "communication") == 0 ? "send_messages"
                                                : "manage_meetings";
}

/* POST /integrations/:id/test: the provider's "who am I" answered (or not),
 * with the permissions the granted scopes give and the quota the provider
 * reported; a failed check is a 200 with connectionStatus "unhealthy" and
 * the document's code in lastError. */
static int test_integration(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_oauth_store *st = bl_api_integrations_store(req, resp, ctx);
    if (!st)
        return 0;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    char provider[32], status[16];
    int found = bl_ax_integration_find(conn, req, provider, status, &err);
    const bl_ax_provider *p = found == 1 ? bl_ax_provider_find(provider, true) : NULL;
    if (found <= 0 || !p) {
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
        return found < 0 ? -1 : bl_ax_not_found(req, resp);
    }
    const char *id = bl_http_request_param(req->http, "id");
    bl_err failure = {0};
    json_t *health = bl_oauth_test(st, req->auth->org_id, id, &failure);
    const char *params[] = {id};
    PGresult *r = bl_pg_exec(conn, "SELECT last_error_code, last_error_message, settings->>'webhookUrl'"
                                   " FROM integrations WHERE id::text = $1",
                             1, params, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r) {
        json_decref(health);
        return -1;
    }
    /* Slack's incoming webhook gets a test message too */
    long webhook_ms = 0;
    bl_err hook = {0};
    bool hook_failed = strcmp(p->internal, "slack") == 0 && !PQgetisnull(r, 0, 2) &&
                       bl_ax_slack_webhook_check(PQgetvalue(r, 0, 2), &webhook_ms, &hook) != 0;
    if (hook_failed) {
        json_decref(health);
        health = NULL;
        failure = hook;
    }
    json_t *last = NULL;
    const char *fail_code = health ? NULL : bl_oauth_code_name(failure.code);
    if (!health)
        last = json_pack("{s:s, s:s}", "code", fail_code ? fail_code : "CONNECTION_ERROR", "message", failure.msg);
    else if (!PQgetisnull(r, 0, 0))
        last = json_pack("{s:s, s:s}", "code", PQgetvalue(r, 0, 0), "message", PQgetvalue(r, 0, 1));
    PQclear(r);
    json_t *granted = health ? bl_ax_permissions(p, json_object_get(health, "scopes")) : json_array();
    json_t *perms = json_object(), *advice = json_array();
    const char *need = required_permissions(p->type);
    int missing = 0;
    for (const char *w = need; perms && *w;) {
        size_t len = strcspn(w, " ");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)len, w);
        bool has = false;
        size_t i;
        json_t *g;
        json_array_foreach (granted, i, g)
            has = has || strcmp(json_string_value(g), name) == 0;
        json_object_set_new(perms, name, json_boolean(has));
        if (!has && health) {
            char line[160];
            snprintf(line, sizeof line, "Permission %s is not granted: connect again asking for it", name);
            json_array_append_new(advice, json_string(line));
            missing++;
        }
        w += len;
        w += strspn(w, " ");
    }
    json_decref(granted);
    json_t *quota = json_object_get(health, "quota");
    json_t *limits = json_is_object(quota)
                         ? json_pack("{s:O, s:n, s:O}", "remaining", json_object_get(quota, "remaining"), "resetAt",
                                     "dailyLimit", json_object_get(quota, "limit"))
                         : json_null();
    char took[32] = "";
    if (health) {
        snprintf(took, sizeof took, "%lldms", (long long)json_integer_value(json_object_get(health, "duration_ms")));
        json_array_insert_new(advice, 0, json_string("Connection is healthy"));
        if (!missing)
            json_array_append_new(advice, json_string("All required permissions are granted"));
    } else {
        char line[320];
        snprintf(line, sizeof line, "The provider check failed (%s): %s", last ? json_string_value(
                 json_object_get(last, "code")) : "CONNECTION_ERROR",
                 fail_code && strcmp(fail_code, "INVALID_CREDENTIALS") == 0 ? "connect the integration again"
                                                                             : "try again later");
        json_array_append_new(advice, json_string(line));
    }
    json_t *data = json_pack("{s:s, s:s?, s:o, s:o, s:o, s:o}", "connectionStatus", health ? "healthy" : "unhealthy",
                             "responseTime", health ? took : NULL, "permissions", perms, "apiLimits", limits,
                             "lastError", last ? last : json_null(), "recommendations", advice);
    json_decref(health);
    return data ? bl_att_answer(resp, 200, data, NULL) : -1;
}

static const bl_api_route routes[] = {
    {"GET", "/integrations/analytics/metrics", BL_API_ADMIN, bl_ax_metrics},
    {"GET", "/integrations", BL_API_WRITE, list_integrations},
    {"POST", "/integrations/:provider/connect", BL_API_WRITE, connect_provider},
    {"POST", "/integrations/:provider/callback", BL_API_WRITE, callback_provider},
    {"PUT", "/integrations/:id/settings", BL_API_WRITE, put_settings},
    {"DELETE", "/integrations/:id", BL_API_WRITE, bl_ax_delete},
    {"GET", "/integrations/:id/history", BL_API_WRITE, bl_ax_history},
    {"POST", "/integrations/:id/sync", BL_API_WRITE, bl_ax_sync},
    {"GET", "/integrations/:id/sync/:syncId/status", BL_API_WRITE, bl_ax_sync_status},
    {"POST", "/integrations/:id/test", BL_API_WRITE, test_integration},
};

int bl_api_routes_ax_integrations(bl_api_server *s, bl_err *err)
{
    bl_api_integrations *ctx = bl_api_integrations_attach(s, "api: attendance integration routes answer 503",
                                                          "api: Slack templates checked without the event catalog",
                                                          err);
    if (!ctx)
        return -1;
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_ATTENDANCE, routes, sizeof routes / sizeof routes[0], ctx,
                                     err) != 0)
        return -1;
    return bl_ax_integrations_document(s, err);
}
