/* The clients and interventions routes' helpers (fs_api.h). */
#include "api/fieldservice/fs_api.h"

#include "api/fieldservice/fs_common.h"
#include "api/surface_fields.h"
#include "core/time_format.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
    bl_fs_field_error(*errors, field, message);
}

int bl_fsapi_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                    json_t **errors)
{
    *out = NULL;
    return bl_api_json_string(body, field, non_empty, max, out, bl_fsapi_field_error, errors);
}

int bl_fsapi_parse_when(const char *text, bool end_of_day, int64_t *ms)
{
    if (bl_api_parse_day_or_time(text, end_of_day, ms) == 0)
        return 0;
    char zoned[40]; /* a datetime without zone is UTC */
    if (strlen(text) == 19 && text[10] == 'T') {
        snprintf(zoned, sizeof zoned, "%sZ", text);
        return bl_rfc3339_parse_millis(zoned, ms);
    }
    return -1;
}

void bl_fsapi_page(const bl_http_request *req, long *page, long *size, json_t **errors)
{
    bl_api_surface_page(req, "size", 10, BL_FSAPI_SIZE_MAX, page, size, bl_fsapi_field_error, errors);
}

/* ---- commands ---- */

static int answer_pending(bl_http_response *resp, const char *subject, const char *command_id,
                          const char *status_url)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "detail",
                             "accepted: the field-service domain has not answered yet; the status URL "
                             "tells when it has",
                             "id", subject, "command_id", command_id, "status_url", status_url,
                             "status", "accepted");
    if (!body)
        return -1;
    int rc = bl_http_response_json(resp, 202, body);
    json_decref(body);
    return rc;
}

static int answer_refused(const bl_api_request *req, bl_http_response *resp, const char *type, const char *why,
                          const char *error_class, const char *refused_field)
{
    (void)type;
    if (strcmp(error_class, "not_found") == 0)
        return bl_api_fail(req->http, resp, 404, "NOT_FOUND", why, NULL);
    json_t *errors = NULL;
    if (refused_field)
        bl_fsapi_field_error(&errors, refused_field, why);
    return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", why, errors);
}

static const bl_api_wait_answers fs_answers = {
    .surface = BL_API_SURFACE_FIELD_SERVICE,
    .in_progress_code = NULL,
    .log_msg = "api: field-service command failed",
    .field_error = bl_fsapi_field_error,
    .pending = answer_pending,
    .refused = answer_refused,
};

bl_api_wait_result bl_fsapi_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                                 const char *type, const char *subject, const json_t *data,
                                 const char *refused_field, char applied_id[BL_FSAPI_ID_MAX])
{
    return bl_api_command_send_wait(commands, req, resp, &fs_answers, type, subject, data, refused_field,
                                    applied_id, BL_FSAPI_ID_MAX);
}
