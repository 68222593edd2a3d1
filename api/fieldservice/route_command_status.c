/* GET /commands/:id on the field-service surface: the status URL a create
 * answered 202 with (fs_api.h), the same record as /v1/commands/:id
 * (bl_api_command_status) with this surface's errors. */
#include "api/fieldservice/fs_api.h"
#include "api/routes/routes.h"

static int command_status(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_err err = {0};
    json_t *status = bl_api_command_status(ctx, bl_http_request_param(req->http, "id"), req->auth->org_id, &err);
    if (!status && err.code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such command in this organization", NULL);
    if (!status)
        return -1;
    int rc = bl_http_response_json(resp, 200, status);
    json_decref(status);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/commands/:id", BL_API_BY_METHOD, command_status},
};

int bl_api_routes_fs_command_status(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, 1, commands, err) != 0)
        return -1;
    return bl_fsapi_document(s, "commands", err);
}
