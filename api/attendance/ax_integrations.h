/* What the Attendance-X integrations route files share
 * (api/attendance/route_integrations*.c): design document 001's provider
 * names beside busline's, its scope and permission words, the success
 * envelope, the answer of an error value, and the run and integration
 * lookups (errors answer as /v1's do: bl_api_integrations_fail). The
 * routes' context is /v1's (api/routes/route_integrations.h):
 * the same OAuth store, keyring and catalog.
 *
 * Permissions: the document's "Manager or Admin" is a key or user with the
 * write permission (Manager) or admin (Admin); "Admin" (analytics) is admin.
 * A read key is refused with 403 PERMISSION_DENIED. */
#ifndef BUSLINE_API_ATTENDANCE_AX_INTEGRATIONS_H
#define BUSLINE_API_ATTENDANCE_AX_INTEGRATIONS_H

#include "api/attendance/att_answer.h"
#include "api/routes/route_integrations.h"
#include "api/server.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* One provider as document 001 names it. */
typedef struct bl_ax_provider {
    const char *name;     /* the document's: "google" */
    const char *internal; /* busline's (connectors/providers.c): "google_calendar" */
    const char *type;     /* the document's: calendar, communication, video */
    const char *label;    /* "Google Calendar" */
} bl_ax_provider;

/* The provider of the document's name, or of busline's name (internal
 * true), or NULL; static. */
const bl_ax_provider *bl_ax_provider_find(const char *name, bool internal);

/* The document's scope words of a connect ("calendar.read") as the
 * provider's scopes, space-separated, into out (cap bytes), after the
 * provider's identity scopes (openid, offline_access, ...). An unknown word
 * is noted in fields as "scopes[i]". Returns 0 or -1. */
int bl_ax_scopes_for(const bl_ax_provider *p, const json_t *words, char *out, size_t cap, json_t *fields);

/* The document's permission words ("read_calendar") that granted (a JSON
 * array of the provider's scopes, borrowed) give: a new array. */
json_t *bl_ax_permissions(const bl_ax_provider *p, const json_t *granted);

/* Notes in fields, as "<base>.<key>" ("<key>" when base is ""), "unknown
 * field" for each key of obj that is not one of allowed (NULL-ended). */
void bl_ax_unknown_fields(const json_t *obj, const char *const *allowed, const char *base, json_t *fields);

/* 404 INTEGRATION_NOT_FOUND in the surface's shape. */
int bl_ax_not_found(const bl_api_request *req, bl_http_response *resp);

/* The integration of the ":id" parameter in the caller's organization:
 * provider (32 bytes) and status (16 bytes). Returns 1 found, 0 not (also
 * for an id that is no uuid), -1 on error. */
int bl_ax_integration_find(PGconn *conn, const bl_api_request *req, char *provider, char *status, bl_err *err);

/* The statusUrl of run of integration id under the surface's configured
 * prefix, into out (cap bytes). */
void bl_ax_status_url(const bl_api_request *req, const char *id, const char *run, char *out, size_t cap);

/* The document's "3-5 minutes": the range of the durations of the last ten
 * finished runs of integration id (NULL when it has none: nobody knows
 * yet). A new string reference or json null. */
json_t *bl_ax_estimated_duration(PGconn *conn, const char *id, bl_err *err);

/* Who the caller is, as the document's triggeredBy {userId, name}: a new
 * object. */
json_t *bl_ax_caller(PGconn *conn, const bl_api_request *req);

/* SQL of a duration in ms (expression d) as the document writes it:
 * "2m 15s", "2.3s". */
#define BL_AX_DURATION_SQL(d)                                                                         \
    "CASE WHEN " d " IS NULL THEN NULL WHEN " d " >= 60000 THEN (" d " / 60000) || 'm ' || (" d      \
    " / 1000 % 60) || 's' ELSE to_char(" d " / 1000.0, 'FM99990.0') || 's' END"

/* A sync run row (alias s) as the document's history shows it. */
#define BL_AX_RUN_JSON                                                                                       \
    "json_build_object('id', s.id, 'startedAt', s.started_at, 'completedAt', s.finished_at,"              \
    " 'status', CASE s.status WHEN 'completed' THEN 'success' WHEN 'failed' THEN 'error' ELSE s.status END," \
    " 'type', s.type, 'direction', CASE s.direction WHEN 'inbound' THEN 'external_to_attendance'"            \
    " WHEN 'outbound' THEN 'attendance_to_external' WHEN 'both' THEN 'bidirectional' ELSE s.direction END," \
    " 'scope', s.scope, 'dryRun', s.dry_run, 'statistics', s.statistics, 'errors', s.errors,"               \
    " 'conflicts', s.conflicts, 'duration', " BL_AX_DURATION_SQL("s.duration_ms") ","                   \
    " 'triggeredBy', s.triggered_by)"

/* Finishes the disconnect of integration id after its cleanup run ended:
 * revokes the tokens and marks it disconnected (bl_oauth_disconnect_keep).
 * *revoked: whether the provider took the revocation. Returns 0 or -1. */
int bl_ax_finish_disconnect(const bl_api_request *req, void *ctx, const char *id, bool *revoked, bl_err *err);

/* slack_webhook_check.c: posts a test message to a Slack incoming webhook
 * url (borrowed) through the SSRF guard; *took_ms gets the time taken.
 * Returns 0 on a 2xx, or -1 with err (BL_OAUTH_E_WEBHOOK: WEBHOOK_FAILED). */
int bl_ax_slack_webhook_check(const char *url, long *took_ms, bl_err *err);

/* route_integrations_sync.c */
int bl_ax_history(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_ax_sync(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_ax_sync_status(const bl_api_request *req, bl_http_response *resp, void *ctx);
int bl_ax_delete(const bl_api_request *req, bl_http_response *resp, void *ctx);
/* route_integrations_metrics.c */
int bl_ax_metrics(const bl_api_request *req, bl_http_response *resp, void *ctx);
/* route_integrations_openapi.c: attaches the operations to the routes. */
int bl_ax_integrations_document(bl_api_server *s, bl_err *err);

#endif
