/* The helpers of the Attendance-X event routes (att_events_api.h). */
#include "api/attendance/att_events_api.h"

#include "core/log.h"
#include "core/time_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int bl_att_answer(bl_http_response *resp, int status, json_t *data, json_t *meta)
{
    json_t *body = json_pack("{s:b, s:o}", "success", 1, "data", data);
    if (body && meta && json_object_set_new(body, "meta", meta) != 0) {
        json_decref(body);
        return -1;
    }
    if (!body) {
        json_decref(meta);
        return -1;
    }
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

int bl_att_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                  json_t **details)
{
    const json_t *v = json_object_get(body, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        bl_att_detail(details, field, "must be a string");
        return -1;
    }
    if (non_empty && json_string_length(v) == 0) {
        bl_att_detail(details, field, "must not be empty");
        return -1;
    }
    if (json_string_length(v) > max) {
        char msg[64];
        snprintf(msg, sizeof msg, "must be at most %zu characters", max);
        bl_att_detail(details, field, msg);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int bl_att_parse_when(const char *text, bool end_of_day, int64_t *ms)
{
    int y, mo, d;
    char tail;
    if (strlen(text) == 10 && sscanf(text, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && text[4] == '-' &&
        text[7] == '-' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
        time_t t = timegm(&tm);
        struct tm back;
        if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d) /* 2027-02-31 */
            return -1;
        *ms = (int64_t)t * 1000 + (end_of_day ? 86400000 - 1 : 0);
        return 0;
    }
    return bl_rfc3339_parse_millis(text, ms) == 0 ? 0 : -1;
}

static long query_long(const bl_http_request *req, const char *name, long def, long min, long max,
                       json_t **details)
{
    const char *v = bl_http_request_query(req, name);
    if (!v)
        return def;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be an integer from %ld to %ld", min, max);
        bl_att_detail(details, name, msg);
        return def;
    }
    return n;
}

void bl_att_page(const bl_http_request *req, long *page, long *limit, json_t **details)
{
    *page = query_long(req, "page", 1, 1, 1000000, details);
    *limit = query_long(req, "limit", 20, 1, BL_ATT_LIMIT_MAX, details);
}

int bl_att_like_pattern(const char *text, char *out, size_t len)
{
    size_t o = 0;
    if (len < 3)
        return -1;
    out[o++] = '%';
    for (const char *c = text; *c; c++) {
        if (o + 4 > len)
            return -1;
        if (*c == '%' || *c == '_' || *c == '\\')
            out[o++] = '\\';
        out[o++] = *c;
    }
    out[o++] = '%';
    out[o] = '\0';
    return 0;
}

json_t *bl_att_query_json(bl_api_server *s, const char *sql, int n, const char *const *params, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return NULL;
    PGresult *r = bl_pg_exec(conn, sql, n, params, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    json_t *j = NULL;
    if (r && PQntuples(r) == 0)
        bl_err_set(err, BL_ENOTFOUND, "api: not found");
    else if (r && !(j = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
        bl_err_set(err, BL_ENOMEM, "api: unreadable JSON from the database");
    PQclear(r);
    return j;
}

/* The reason of a refusal without the "<type>: <id>: " the domain puts first. */
static const char *reason_text(const char *reason, const char *type, const char *subject)
{
    size_t t = strlen(type), s = strlen(subject);
    if (strncmp(reason, type, t) == 0 && strncmp(reason + t, ": ", 2) == 0 &&
        strncmp(reason + t + 2, subject, s) == 0 && strncmp(reason + t + 2 + s, ": ", 2) == 0)
        return reason + t + 2 + s + 2;
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

static int answer_pending(const bl_api_request *req, bl_http_response *resp, const bl_api_sent_command *sent,
                          const char *subject)
{
    char status_url[192];
    snprintf(status_url, sizeof status_url, "%s/commands/%s",
             bl_api_server_surface_prefix(req->server, BL_API_SURFACE_ATTENDANCE), sent->command_id);
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", subject, "commandId", sent->command_id, "status",
                             "accepted", "statusUrl", status_url, "message",
                             "accepted: the attendance domain has not answered yet; the status URL tells when it has");
    if (!data)
        return -1;
    bl_http_response_header(resp, "Location", status_url);
    return bl_att_answer(resp, 202, data, NULL);
}

static bl_att_result done(int rc, bl_att_result result)
{
    return rc == 0 ? result : BL_ATT_FAILED;
}

bl_att_result bl_att_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                          const char *type, const char *subject, const json_t *data, const char *refused_field,
                          char applied_id[BL_ATT_ID_MAX])
{
    snprintf(applied_id, BL_ATT_ID_MAX, "%s", subject);
    if (!bl_api_commands_can_send(commands))
        return done(bl_api_fail(req->http, resp, 503, NULL, "commands are not configured on this server", NULL),
                    BL_ATT_ANSWERED);
    const char *idem = bl_http_request_header(req->http, "Idempotency-Key");
    if (idem && !bl_api_idempotency_key_ok(idem)) {
        json_t *details = NULL;
        bl_att_detail(&details, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        return done(bl_att_invalid(req, resp, details), BL_ATT_ANSWERED);
    }
    char hash[BL_SHA256_HEX_SIZE];
    bl_err err = {0};
    bl_api_sent_command sent = {0};
    bl_api_command_outcome outcome = {0};
    int rc = -1;
    bl_att_result result = BL_ATT_ANSWERED;
    if (bl_api_request_fingerprint(req->http, hash, &err) != 0)
        goto out;
    bl_api_command_spec spec = {.type = type, .organization_id = req->auth->org_id,
                                .actor = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id,
                                .subject = subject, .data = data, .idempotency_key = idem,
                                .fingerprint = hash, .wait = true};
    if (bl_api_command_send(commands, &spec, &sent, &err) != 0) {
        if (err.code == BL_EKAFKA || err.code == BL_ETIMEOUT)
            rc = bl_api_fail(req->http, resp, 503, NULL, "the bus did not acknowledge the command; retry", NULL);
        else if (err.code == BL_EINVAL)
            rc = bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", err.msg, NULL);
        goto out;
    }
    if (sent.status == BL_API_KEY_MISMATCH) {
        json_t *details = NULL;
        bl_att_detail(&details, "Idempotency-Key", "was used for a different request");
        rc = bl_att_invalid(req, resp, details);
        goto out;
    }
    if (sent.status == BL_API_KEY_IN_PROGRESS) {
        rc = bl_api_fail(req->http, resp, 409, "CONFLICT",
                         "a request with this Idempotency-Key is still being processed; retry later", NULL);
        goto out;
    }
    snprintf(applied_id, BL_ATT_ID_MAX, "%s", sent.aggregate_id);
    subject = applied_id;
    if (bl_api_command_await(commands, &sent, req->auth->org_id, &outcome, &err) != 0)
        goto out;
    switch (outcome.kind) {
    case BL_API_OUTCOME_APPLIED:
        result = BL_ATT_APPLIED;
        rc = 0;
        break;
    case BL_API_OUTCOME_PENDING: rc = answer_pending(req, resp, &sent, subject); break;
    case BL_API_OUTCOME_REFUSED: {
        const char *why = reason_text(outcome.reason, type, subject);
        if (strcmp(outcome.error_class, "not_found") == 0) {
            rc = bl_api_fail(req->http, resp, 404, "EVENT_NOT_FOUND", why, NULL);
        } else {
            json_t *details = refusal_details(why, refused_field);
            /* A lower-case code is kept as the reason beside the document's code. */
            rc = bl_api_fail(req->http, resp, 422, strcmp(outcome.error_class, "conflict") == 0 ? "conflict" : "invalid",
                             why, details);
        }
        break;
    }
    }
out:
    if (rc != 0 && err.msg[0])
        bl_log_error("api: attendance command failed", BL_FS("type", type), BL_FS("error", err.msg));
    bl_api_sent_command_clear(commands, &sent);
    return done(rc, result);
}
