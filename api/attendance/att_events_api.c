/* The helpers of the Attendance-X event routes (att_events_api.h). */
#include "api/attendance/att_events_api.h"

#include "api/surface_fields.h"

#include <stdio.h>
#include <string.h>

void bl_att_detail(json_t **details, const char *field, const char *message)
{
    if (!*details)
        *details = json_object();
    if (*details && !json_object_get(*details, field))
        json_object_set_new(*details, field, json_string(message));
}

int bl_att_invalid(const bl_api_request *req, bl_http_response *resp, json_t *details)
{
    return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", "the request is not valid", details);
}

int bl_att_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                  json_t **details)
{
    return bl_api_json_string(body, field, non_empty, max, out, bl_att_detail, details);
}

void bl_att_page(const bl_http_request *req, long *page, long *limit, json_t **details)
{
    bl_api_surface_page(req, "limit", 20, BL_ATT_LIMIT_MAX, page, limit, bl_att_detail, details);
}

/* A reason "<type>: data.<field>: ..." without its type (the head the
 * domain puts first when no subject follows). */
static const char *reason_text(const char *reason, const char *type)
{
    size_t t = strlen(type);
    if (strncmp(reason, type, t) == 0 && strncmp(reason + t, ": data.", 7) == 0)
        return reason + t + 2;
    return reason;
}

/* The request's field names of the domain's (data.<field> in a reason). */
static const struct {
    const char *domain, *api;
} field_names[] = {
    {"event_type", "type"},          {"starts_at", "startDate"},       {"ends_at", "endDate"},
    {"is_private", "isPrivate"},     {"reminder_minutes", "reminderMinutes"},
    {"expected_version", "expectedVersion"}, {"person_id", "personId"}, {"duration_minutes", "durationMinutes"},
};

/* The details of a refusal: its field (a reason "data.<field>: <message>",
 * renamed as the request names it; a version mismatch is expectedVersion's),
 * else fallback's (may be NULL), else none. */
static json_t *refusal_details(const char *why, const char *fallback)
{
    json_t *details = NULL;
    if (strstr(why, "version mismatch")) {
        bl_att_detail(&details, "expectedVersion", why);
        return details;
    }
    const char *colon = strncmp(why, "data.", 5) == 0 ? strstr(why, ": ") : NULL;
    if (!colon) {
        if (fallback)
            bl_att_detail(&details, fallback, why);
        return details;
    }
    char field[128];
    snprintf(field, sizeof field, "%.*s", (int)(colon - why - 5), why + 5);
    const char *api = field;
    size_t head = strcspn(field, ".[");
    char renamed[160];
    for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
        if (strlen(field_names[i].domain) == head && strncmp(field, field_names[i].domain, head) == 0) {
            snprintf(renamed, sizeof renamed, "%s%s", field_names[i].api, field + head);
            api = renamed;
        }
    char *person = strstr(api == field ? field : renamed, ".person_id");
    if (person)
        memcpy(person, ".id\0", 4);
    bl_att_detail(&details, api, colon + 2);
    return details;
}

static int answer_pending(bl_http_response *resp, const char *subject, const char *command_id,
                          const char *status_url)
{
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", subject, "commandId", command_id, "status",
                             "accepted", "statusUrl", status_url, "message",
                             "accepted: the attendance domain has not answered yet; the status URL tells when it has");
    if (!data)
        return -1;
    return bl_att_answer(resp, 202, data, NULL);
}

static int answer_refused(const bl_api_request *req, bl_http_response *resp, const char *type, const char *why,
                          const char *error_class, const char *refused_field)
{
    why = reason_text(why, type);
    if (strcmp(error_class, "not_found") == 0)
        return bl_api_fail(req->http, resp, 404, "EVENT_NOT_FOUND", why, NULL);
    json_t *details = refusal_details(why, refused_field);
    /* A lower-case code is kept as the reason beside the document's code. */
    return bl_api_fail(req->http, resp, 422, strcmp(error_class, "conflict") == 0 ? "conflict" : "invalid", why,
                       details);
}

static const bl_api_wait_answers att_answers = {
    .surface = BL_API_SURFACE_ATTENDANCE,
    .in_progress_code = "CONFLICT",
    .log_msg = "api: attendance command failed",
    .field_error = bl_att_detail,
    .pending = answer_pending,
    .refused = answer_refused,
};

bl_api_wait_result bl_att_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                               const char *type, const char *subject, const json_t *data,
                               const char *refused_field, char applied_id[BL_ATT_ID_MAX])
{
    return bl_api_command_send_wait(commands, req, resp, &att_answers, type, subject, data, refused_field,
                                    applied_id, BL_ATT_ID_MAX);
}
