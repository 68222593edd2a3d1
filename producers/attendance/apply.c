/* Dispatch of attendance commands to their aggregate, and the origin record
 * every change of an event carries. */
#include "producers/attendance/internal.h"

#include <string.h>

const bl_domain_rules bl_attendance_rules = {
    .domain = BL_ATTENDANCE_DOMAIN,
    .processed_table = "attendance_processed_commands",
    .apply = bl_attendance_apply,
    .fire_due = bl_attendance_fire_reminders,
};

/* event.record_attendance is an event's command (keyed by the event, so it
 * is ordered with the event's other commands); att_apply_event hands it to
 * apply_attendance.c. */
static const bl_domain_aggregate aggregates[] = {
    {"event", att_apply_event},
};

int bl_attendance_apply(PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                        bl_err *err)
{
    return bl_domain_dispatch(BL_ATTENDANCE_DOMAIN, aggregates, sizeof aggregates / sizeof aggregates[0],
                              conn_in_tx, cmd, out, err);
}

json_t *att_origin(const bl_domain_command *c, bl_err *err)
{
    const json_t *o = json_object_get(c->data, "origin");
    if (!o || json_is_null(o))
        return json_null();
    static const char *const required[] = {"integration_id", "provider", "external_id"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *v = json_is_object(o) ? json_object_get(o, required[i]) : NULL;
        if (!json_is_string(v) || json_string_length(v) == 0) {
            bl_err_set(err, BL_EINVAL, "%s: data.origin.%s: missing or not a string", c->type, required[i]);
            return NULL;
        }
    }
    const json_t *version = json_object_get(o, "external_version");
    if (version && !json_is_null(version) && !json_is_string(version)) {
        bl_err_set(err, BL_EINVAL, "%s: data.origin.external_version: must be a string", c->type);
        return NULL;
    }
    json_t *r = json_pack("{s:O, s:O, s:O, s:O}", "integration_id", json_object_get(o, "integration_id"),
                          "provider", json_object_get(o, "provider"), "external_id",
                          json_object_get(o, "external_id"), "external_version",
                          version ? (json_t *)version : json_null());
    if (!r)
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", c->type);
    return r;
}
