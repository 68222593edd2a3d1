/* The route files of the API, installed in order by bl_api_server_new. A new
 * route file adds its install function here and to api/routes/routes.c. */
#ifndef BUSLINE_API_ROUTES_H
#define BUSLINE_API_ROUTES_H

#include "api/server.h"

int bl_api_routes_ops(bl_api_server *s, bl_err *err);  /* /healthz /readyz /metrics */
int bl_api_routes_auth(bl_api_server *s, bl_err *err); /* /v1/auth/login|refresh|logout */
int bl_api_routes_keys(bl_api_server *s, bl_err *err); /* /v1/api-keys */
int bl_api_routes_webhooks(bl_api_server *s, bl_err *err); /* /v1/webhooks */
int bl_api_routes_commands(bl_api_server *s, bl_err *err); /* commands from the schemas, /v1/commands/:id */
int bl_api_routes_reads(bl_api_server *s, bl_err *err);    /* GET lists and details of the read model */
int bl_api_routes_usage(bl_api_server *s, bl_err *err);    /* /v1/usage, /v1/metrics */
int bl_api_routes_openapi(bl_api_server *s, bl_err *err);  /* /v1/openapi.json */
int bl_api_routes_integrations(bl_api_server *s, bl_err *err); /* /v1/integrations */
int bl_api_routes_audit(bl_api_server *s, bl_err *err); /* /v1/audit (api/audit/) */
int bl_api_routes_report_download(bl_api_server *s, bl_err *err); /* /v1/reports/:id/download: PDF, HTML, markdown */
int bl_api_routes_event_types(bl_api_server *s, bl_err *err); /* /v1/event-types: schemas and examples */
int bl_api_routes_console(bl_api_server *s, bl_err *err); /* /console/ static files */
/* the field-service surface (api/fieldservice/, patterns under its prefix) */
int bl_api_routes_fs_auth(bl_api_server *s, bl_err *err);         /* auth/login|refresh|logout */
int bl_api_routes_fs_users(bl_api_server *s, bl_err *err);        /* utilisateurs/ */
int bl_api_routes_fs_keys(bl_api_server *s, bl_err *err);         /* api-keys/ */
int bl_api_routes_fs_webhooks(bl_api_server *s, bl_err *err);     /* webhooks/, webhooks/:id/test */
int bl_api_routes_fs_integrations(bl_api_server *s, bl_err *err); /* integrations/ */
int bl_api_routes_fs_clients(bl_api_server *s, bl_err *err);       /* clients/ */
int bl_api_routes_fs_interventions(bl_api_server *s, bl_err *err); /* interventions/ */
int bl_api_routes_fs_command_status(bl_api_server *s, bl_err *err); /* commands/:id */
int bl_api_routes_fs_planning(bl_api_server *s, bl_err *err);     /* planning/, planning/calendar (documents its own) */
int bl_api_routes_fs_rapports(bl_api_server *s, bl_err *err);     /* rapports/ (documents its own) */
int bl_api_routes_fs_docs(bl_api_server *s, bl_err *err);         /* auth..integrations' OpenAPI operations */
int bl_api_routes_medias(bl_api_server *s, bl_err *err);  /* /api/medias: list, streamed upload and download */
/* the Attendance-X surface (api/attendance/, patterns under its prefix) */
int bl_api_routes_att_events(bl_api_server *s, bl_err *err);     /* events, events/:id */
int bl_api_routes_att_attendance(bl_api_server *s, bl_err *err); /* events/:id/attendance, commands/:id; documents the events' */
int bl_api_routes_ax_integrations(bl_api_server *s, bl_err *err); /* integrations/ of document 001 */

/* organizations' own endpoints (api/custom/, seed document 002) */
int bl_api_routes_custom(bl_api_server *s, bl_err *err); /* /v1/custom-apis, /custom/<slug>/... */
int bl_api_routes_workflows(bl_api_server *s, bl_err *err); /* /v1/workflows and their executions */
int bl_api_routes_alerts(bl_api_server *s, bl_err *err); /* /v1/alerts, the alert evaluator (api/alerts) */
int bl_api_routes_alert_rules(bl_api_server *s, bl_err *err); /* /v1/alert-rules (api/alerts) */
int bl_api_routes_egress_proxy(bl_api_server *s, bl_err *err); /* /v1/organizations/egress-proxy */
int bl_api_routes_webhook_transformation(bl_api_server *s, bl_err *err); /* /v1/webhooks/:id/transformation/test */

/* The read model's row id of collection ("reports") in organization org,
 * as GET /v1/<collection>/:id shows it under "data": a new object (caller
 * decrefs), or NULL with err (BL_ENOTFOUND when there is none). */
json_t *bl_api_v1_read_row(bl_api_server *s, const char *collection, const char *org, const char *id,
                           bl_err *err);

/* The catalog's example webhook body of event type (domain NULL: the one
 * domain that publishes it), as GET /v1/event-types/:type shows it. Returns
 * a new reference, or NULL with err (BL_ENOTFOUND: no such type; BL_EINVAL:
 * several domains publish it and none was named). */
json_t *bl_api_event_type_example(const char *type, const char *domain, bl_err *err);

/* Every install function, ended by NULL. */
extern const bl_api_routes_install_fn bl_api_route_files[];

#endif
