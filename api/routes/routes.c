#include "api/routes/routes.h"

#include <stddef.h>

const bl_api_routes_install_fn bl_api_route_files[] = {
    bl_api_routes_ops,
    bl_api_routes_auth,
    bl_api_routes_keys,
    bl_api_routes_webhooks,
    bl_api_routes_commands,
    bl_api_routes_reads,
    bl_api_routes_usage,
    bl_api_routes_openapi,
    bl_api_routes_integrations,
    bl_api_routes_console,
    NULL,
};
