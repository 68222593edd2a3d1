#include "api/fieldservice/fs_api.h"

#include "core/log.h"
#include "core/time_format.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- addresses ---- */

static void copy_span(char *out, size_t cap, const char *from, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(out, from, n);
    out[n] = '\0';
}

/* Whether text[0..n) is a postal code: 3 to 10 of digits, capitals and '-',
 * one digit at least. */
static bool postal_code_like(const char *text, size_t n)
{
    bool digit = false;
    if (n < 3 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!isdigit(c) && !isupper(c) && c != '-')
            return false;
        digit = digit || isdigit(c);
    }
    return digit;
}

void bl_fsapi_address_parse(const char *text, bl_fsapi_address *out)
{
    memset(out, 0, sizeof *out);
    size_t end = strlen(text);
    snprintf(out->country, sizeof out->country, "FR");
    if (end >= 4 && text[end - 4] == ',' && text[end - 3] == ' ' && isupper((unsigned char)text[end - 2]) &&
        isupper((unsigned char)text[end - 1]) && strcmp(text + end - 2, "FR") != 0) {
        copy_span(out->country, sizeof out->country, text + end - 2, 2);
        end -= 4;
    }
    size_t comma = end;
    for (size_t i = 0; i + 1 < end; i++)
        if (text[i] == ',' && text[i + 1] == ' ')
            comma = i;
    if (comma < end) {
        const char *code = text + comma + 2;
        size_t rest = end - (comma + 2);
        const char *space = memchr(code, ' ', rest);
        size_t code_len = space ? (size_t)(space - code) : rest;
        if (space && code_len + 1 < rest && postal_code_like(code, code_len)) {
            copy_span(out->street, sizeof out->street, text, comma);
            copy_span(out->postal_code, sizeof out->postal_code, code, code_len);
            copy_span(out->city, sizeof out->city, space + 1, rest - code_len - 1);
            return;
        }
    }
    copy_span(out->street, sizeof out->street, text, end);
}

json_t *bl_fsapi_address_json(const bl_fsapi_address *a)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "street", a->street, "postal_code", a->postal_code, "city",
                     a->city, "country", a->country);
}

/* ---- validation ---- */

void bl_fsapi_field_error(json_t **errors, const char *field, const char *message)
{
    if (!*errors && !(*errors = json_object()))
        return;
    json_t *list = json_object_get(*errors, field);
    if (!list) {
        list = json_array();
        if (json_object_set_new(*errors, field, list) != 0)
            return;
    }
    json_array_append_new(list, json_string(message));
}

int bl_fsapi_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                    json_t **errors)
{
    const json_t *v = json_object_get(body, field);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    char msg[96];
    if (!json_is_string(v)) {
        bl_fsapi_field_error(errors, field, "must be a string");
        return -1;
    }
    size_t n = json_string_length(v);
    if (non_empty && n == 0) {
        bl_fsapi_field_error(errors, field, "must not be empty");
        return -1;
    }
    if (n > max) {
        snprintf(msg, sizeof msg, "must be at most %zu characters", max);
        bl_fsapi_field_error(errors, field, msg);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

int bl_fsapi_parse_when(const char *text, bool end_of_day, int64_t *ms)
{
    int y, mo, d;
    char tail;
    if (strlen(text) == 10 && sscanf(text, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3 && text[4] == '-' &&
        text[7] == '-' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
        struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
        time_t t = timegm(&tm);
        struct tm back;
        if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d) /* 2024-02-31 */
            return -1;
        *ms = (int64_t)t * 1000 + (end_of_day ? 86400000 - 1 : 0);
        return 0;
    }
    if (bl_rfc3339_parse_millis(text, ms) == 0)
        return 0;
    char zoned[40]; /* a datetime without zone is UTC */
    if (strlen(text) == 19 && text[10] == 'T') {
        snprintf(zoned, sizeof zoned, "%sZ", text);
        return bl_rfc3339_parse_millis(zoned, ms);
    }
    return -1;
}

/* Reads query parameter name as an integer in [min, max] (def when absent). */
static long query_long(const bl_http_request *req, const char *name, long def, long min, long max,
                       json_t **errors)
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
        bl_fsapi_field_error(errors, name, msg);
        return def;
    }
    return n;
}

void bl_fsapi_page(const bl_http_request *req, long *page, long *size, json_t **errors)
{
    *page = query_long(req, "page", 1, 1, 1000000, errors);
    *size = query_long(req, "size", 10, 1, BL_FSAPI_SIZE_MAX, errors);
}

int bl_fsapi_like_pattern(const char *text, char *out, size_t len)
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

int bl_fsapi_invalid(const bl_api_request *req, bl_http_response *resp, json_t *errors)
{
    return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", "the request is not valid", errors);
}

json_t *bl_fsapi_query_json(bl_api_server *s, const char *sql, int n, const char *const *params, bl_err *err)
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

/* ---- commands ---- */

/* The reason of a refusal without the "<type>: <id>: " the domain puts first. */
static const char *reason_text(const char *reason, const char *type, const char *subject)
{
    size_t t = strlen(type), s = strlen(subject);
    if (strncmp(reason, type, t) == 0 && strncmp(reason + t, ": ", 2) == 0 &&
        strncmp(reason + t + 2, subject, s) == 0 && strncmp(reason + t + 2 + s, ": ", 2) == 0)
        return reason + t + 2 + s + 2;
    return reason;
}

static int answer_pending(const bl_api_request *req, bl_http_response *resp, const bl_api_sent_command *sent,
                          const char *subject)
{
    char status_url[160];
    snprintf(status_url, sizeof status_url, "%s/commands/%s",
             bl_api_server_surface_prefix(req->server, BL_API_SURFACE_FIELD_SERVICE), sent->command_id);
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "detail",
                             "accepted: the field-service domain has not answered yet; the status URL "
                             "tells when it has",
                             "id", subject, "command_id", sent->command_id, "status_url", status_url,
                             "status", "accepted");
    if (!body)
        return -1;
    bl_http_response_header(resp, "Location", status_url);
    int rc = bl_http_response_json(resp, 202, body);
    json_decref(body);
    return rc;
}

bl_fsapi_result bl_fsapi_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                              const char *type, const char *subject, const json_t *data,
                              const char *refused_field, char applied_id[BL_FSAPI_ID_MAX])
{
    snprintf(applied_id, BL_FSAPI_ID_MAX, "%s", subject);
    if (!bl_api_commands_can_send(commands))
        return bl_api_fail(req->http, resp, 503, NULL, "commands are not configured on this server", NULL) == 0
                   ? BL_FSAPI_ANSWERED
                   : BL_FSAPI_FAILED;
    const char *idem = bl_http_request_header(req->http, "Idempotency-Key");
    if (idem && !bl_api_idempotency_key_ok(idem)) {
        json_t *errors = NULL;
        bl_fsapi_field_error(&errors, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        return bl_fsapi_invalid(req, resp, errors) == 0 ? BL_FSAPI_ANSWERED : BL_FSAPI_FAILED;
    }
    char hash[BL_SHA256_HEX_SIZE];
    bl_err err = {0};
    bl_api_sent_command sent = {0};
    bl_api_command_outcome outcome = {0};
    int rc = -1;
    bl_fsapi_result result = BL_FSAPI_ANSWERED;
    if (bl_api_request_fingerprint(req->http, hash, &err) != 0)
        goto done;
    bl_api_command_spec spec = {.type = type, .organization_id = req->auth->org_id,
                                .actor = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id,
                                .subject = subject, .data = data, .idempotency_key = idem,
                                .fingerprint = hash, .wait = true};
    if (bl_api_command_send(commands, &spec, &sent, &err) != 0) {
        if (err.code == BL_EKAFKA || err.code == BL_ETIMEOUT)
            rc = bl_api_fail(req->http, resp, 503, NULL, "the bus did not acknowledge the command; retry", NULL);
        else if (err.code == BL_EINVAL)
            rc = bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", err.msg, NULL);
        goto done;
    }
    if (sent.status == BL_API_KEY_MISMATCH) {
        json_t *errors = NULL;
        bl_fsapi_field_error(&errors, "Idempotency-Key", "was used for a different request");
        rc = bl_fsapi_invalid(req, resp, errors);
        goto done;
    }
    if (sent.status == BL_API_KEY_IN_PROGRESS) {
        rc = bl_api_fail(req->http, resp, 409, NULL,
                         "a request with this Idempotency-Key is still being processed; retry later", NULL);
        goto done;
    }
    snprintf(applied_id, BL_FSAPI_ID_MAX, "%s", sent.aggregate_id);
    subject = applied_id;
    if (bl_api_command_await(commands, &sent, req->auth->org_id, &outcome, &err) != 0)
        goto done;
    switch (outcome.kind) {
    case BL_API_OUTCOME_APPLIED:
        result = BL_FSAPI_APPLIED;
        rc = 0;
        break;
    case BL_API_OUTCOME_PENDING: rc = answer_pending(req, resp, &sent, subject); break;
    case BL_API_OUTCOME_REFUSED: {
        const char *why = reason_text(outcome.reason, type, subject);
        if (strcmp(outcome.error_class, "not_found") == 0) {
            rc = bl_api_fail(req->http, resp, 404, "NOT_FOUND", why, NULL);
        } else {
            json_t *errors = NULL;
            if (refused_field)
                bl_fsapi_field_error(&errors, refused_field, why);
            rc = bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", why, errors);
        }
        break;
    }
    }
done:
    if (rc != 0 && err.msg[0])
        bl_log_error("api: field-service command failed", BL_FS("type", type), BL_FS("error", err.msg));
    bl_api_sent_command_clear(commands, &sent);
    return rc == 0 ? result : BL_FSAPI_FAILED;
}
