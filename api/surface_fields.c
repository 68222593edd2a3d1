/* Request and database readers of the documented surfaces (surface_fields.h). */
#include "api/surface_fields.h"

#include "core/time_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int bl_api_query_long(const bl_http_request *req, const char *name, long min, long max, long *out)
{
    const char *v = bl_http_request_query(req, name);
    if (!v)
        return 0;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max)
        return -1;
    *out = n;
    return 1;
}

int bl_api_json_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                       bl_api_note_fn note, json_t **errors)
{
    const json_t *v = json_object_get(body, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        note(errors, field, "must be a string");
        return -1;
    }
    size_t n = json_string_length(v);
    if (non_empty && n == 0) {
        note(errors, field, "must not be empty");
        return -1;
    }
    if (n > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be at most %zu characters", max);
        note(errors, field, msg);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* Query parameter name in [min, max], def when absent; a bad one is noted. */
static long page_param(const bl_http_request *req, const char *name, long def, long min, long max,
                       bl_api_note_fn note, json_t **errors)
{
    long n = def;
    if (bl_api_query_long(req, name, min, max, &n) < 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "must be an integer from %ld to %ld", min, max);
        note(errors, name, msg);
        return def;
    }
    return n;
}

void bl_api_surface_page(const bl_http_request *req, const char *size_name, long size_def, long size_max, long *page,
                      long *size, bl_api_note_fn note, json_t **errors)
{
    *page = page_param(req, "page", 1, 1, 1000000, note, errors);
    *size = page_param(req, size_name, size_def, 1, size_max, note, errors);
}

int bl_api_parse_day_or_time(const char *text, bool end_of_day, int64_t *ms)
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
    return bl_rfc3339_parse_millis(text, ms) == 0 ? 0 : -1;
}

int bl_api_like_pattern(const char *text, char *out, size_t len)
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

json_t *bl_api_query_json(bl_api_server *s, const char *sql, int n, const char *const *params, bl_err *err)
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
