/* Field-service webhook endpoints in the shared store (see fs_webhook.h). */
#include "api/fieldservice/fs_webhook.h"

#include "api/fieldservice/fs_common.h"
#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "url: ssrf: ..." -> "url"; anything else -> "body". */
static void note_store_refusal(json_t *errors, const char *msg)
{
    size_t n = 0;
    while (msg[n] && (islower((unsigned char)msg[n]) || msg[n] == '_'))
        n++;
    char field[64] = "body";
    if (n > 0 && n < sizeof field && (msg[n] == ':' || msg[n] == '['))
        snprintf(field, sizeof field, "%.*s", (int)n, msg);
    bl_fs_field_error(errors, field, msg);
}

bl_webhook_endpoint *bl_fs_endpoint_create(const bl_api_request *req, bl_api_webhook_env *env,
                                           const bl_fs_endpoint_spec *spec, char *secret_out, json_t *errors,
                                           bl_err *err)
{
    bl_webhook_spec ws = {.name = spec->name,
                          .url = spec->url,
                          .event_types = spec->bus_types,
                          .event_type_count = spec->bus_type_count,
                          .conditions = spec->bus_conditions,
                          .headers = spec->headers,
                          .hmac_header = BL_FS_WEBHOOK_SIGNATURE_HEADER,
                          .payload_format = BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO,
                          .secret = spec->secret};
    bl_webhook_endpoint *e =
        bl_webhook_store_create(env->store, req->auth->org_id, &ws, secret_out, BL_WEBHOOK_SECRET_TEXT_MAX, err);
    if (!e && err->code == BL_EINVAL)
        note_store_refusal(errors, err->msg);
    return e;
}

void bl_fs_endpoint_undo(bl_api_webhook_env *env, const char *id)
{
    bl_err err = {0};
    if (bl_webhook_store_delete(env->store, id, &err) != 0)
        bl_log_error("api: half-made webhook endpoint not deleted", BL_FS("endpoint_id", id),
                     BL_FS("error", err.msg));
}
