#include "api/routes/routes.h"

#include <stddef.h>

const bl_api_routes_install_fn bl_api_route_files[] = {
    bl_api_routes_ops,
    bl_api_routes_auth,
    bl_api_routes_keys,
    bl_api_routes_webhooks,
    bl_api_routes_commands,
    bl_api_routes_reads,
    bl_api_routes_report_download,
    bl_api_routes_usage,
    bl_api_routes_openapi,
    bl_api_routes_integrations,
    bl_api_routes_audit,
    bl_api_routes_event_types,
    bl_api_routes_console,
    bl_api_routes_fs_auth,
    bl_api_routes_fs_users,
    bl_api_routes_fs_keys,
    bl_api_routes_fs_webhooks,
    bl_api_routes_fs_integrations,
    bl_api_routes_fs_clients,
    bl_api_routes_fs_interventions,
    bl_api_routes_fs_command_status,
    bl_api_routes_fs_planning,
    bl_api_routes_fs_rapports,
    bl_api_routes_fs_docs,
    bl_api_routes_medias,
    bl_api_routes_att_events,
    bl_api_routes_att_attendance,
    bl_api_routes_ax_integrations,
    bl_api_routes_custom,
    bl_api_routes_workflows,
    bl_api_routes_alerts,
    bl_api_routes_alert_rules,
    bl_api_routes_egress_proxy,
    bl_api_routes_webhook_transformation,
    NULL,
};

bl_api_server *bl_api_server_new(const bl_api_config *cfg, bl_pg_pool *pool, bl_err *err)
{
    bl_api_server *s = bl_api_server_create(cfg, pool, err);
    for (size_t i = 0; s && bl_api_route_files[i]; i++)
        if (bl_api_route_files[i](s, err) != 0) {
            bl_api_server_free(s);
            return NULL;
        }
    return s;
}
