/* Webhook JSON bodies from event envelopes. */
#include "connectors/webhook/workers/payload.h"

#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A required non-empty string field of the envelope. */
static const json_t *string_field(const json_t *env, const char *name, bl_err *err)
{
    const json_t *v = json_object_get(env, name);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        bl_err_set(err, BL_EINVAL, "webhook payload: envelope field %s must be a non-empty string", name);
        return NULL;
    }
    return v;
}

char *bl_webhook_payload_build(const json_t *envelope, size_t *len, bl_err *err)
{
    if (!json_is_object(envelope)) {
        bl_err_set(err, BL_EINVAL, "webhook payload: envelope is not a JSON object");
        return NULL;
    }
    const json_t *type = string_field(envelope, "type", err);
    const json_t *org = type ? string_field(envelope, "organization_id", err) : NULL;
    if (!org)
        return NULL;
    const json_t *time_v = json_object_get(envelope, "time");
    if (!json_is_integer(time_v)) {
        bl_err_set(err, BL_EINVAL, "webhook payload: envelope field time must be an integer (unix ms)");
        return NULL;
    }
    char stamp[BL_RFC3339_MS_SIZE];
    if (bl_rfc3339_from_ms(json_integer_value(time_v), stamp, err) != 0) {
        bl_err_wrap(err, "webhook payload");
        return NULL;
    }
    const json_t *data = json_object_get(envelope, "data");
    if (!json_is_object(data) && !json_is_null(data)) {
        bl_err_set(err, BL_EINVAL, "webhook payload: envelope field data must be an object or null");
        return NULL;
    }
    /* Built by hand so the top level keeps the documented order while the
     * keys inside data are sorted. */
    const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
    char *type_s = json_dumps(type, flags);
    char *org_s = json_dumps(org, flags);
    char *data_s = json_dumps(data, flags | JSON_SORT_KEYS);
    char *body = NULL;
    if (!type_s || !org_s || !data_s) {
        bl_err_set(err, BL_ENOMEM, "webhook payload: out of memory serializing the event");
        goto done;
    }
    size_t need = strlen(type_s) + strlen(org_s) + strlen(data_s) + strlen(stamp) + 64;
    if (need > BL_WEBHOOK_PAYLOAD_MAX + 1) {
        bl_err_set(err, BL_EINVAL, "webhook payload: body of about %zu bytes exceeds %d", need,
                   BL_WEBHOOK_PAYLOAD_MAX);
        goto done;
    }
    body = malloc(need);
    if (!body) {
        bl_err_set(err, BL_ENOMEM, "webhook payload: out of memory");
        goto done;
    }
    int n = snprintf(body, need, "{\"event\":%s,\"timestamp\":\"%s\",\"organization_id\":%s,\"data\":%s}",
                     type_s, stamp, org_s, data_s);
    if (n < 0 || (size_t)n >= need || (size_t)n > BL_WEBHOOK_PAYLOAD_MAX) {
        bl_err_set(err, BL_EINVAL, "webhook payload: body exceeds %d bytes", BL_WEBHOOK_PAYLOAD_MAX);
        free(body);
        body = NULL;
        goto done;
    }
    *len = (size_t)n;
done:
    free(type_s);
    free(org_s);
    free(data_s);
    return body;
}
