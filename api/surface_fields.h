/* What the documented surfaces' route files (api/fieldservice/,
 * api/attendance/) share to read a request and the database: an integer
 * query parameter, a string member of a body, a date-or-datetime, a LIKE
 * pattern, one JSON value read from PostgreSQL. Each surface keeps its own
 * words and error shape: these return what is wrong, the caller notes it. */
#ifndef BUSLINE_API_SURFACE_FIELDS_H
#define BUSLINE_API_SURFACE_FIELDS_H

#include "api/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Reads query parameter name as a decimal integer in [min, max]: 1 with
 * *out set, 0 when absent (*out untouched), -1 when it is empty, not an
 * integer or out of range. */
int bl_api_query_long(const bl_http_request *req, const char *name, long min, long max, long *out);

/* How a surface notes a problem with field in *errors (its own shape; an
 * object made on first use). */
typedef void (*bl_api_note_fn)(json_t **errors, const char *field, const char *message);

/* Reads an optional string member field of body: 1 with *out set
 * (borrowed), 0 when absent or null (*out untouched), -1 after noting what
 * is wrong: not a string, empty when non_empty, longer than max bytes
 * ("must be at most <max> characters"). */
int bl_api_json_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                       bl_api_note_fn note, json_t **errors);

/* The page (default 1, at most 1000000) and the page size (query parameter
 * size_name: default size_def, at most size_max) of a list, noting "must be
 * an integer from <min> to <max>" for a bad one (which keeps its default). */
void bl_api_surface_page(const bl_http_request *req, const char *size_name, long size_def, long size_max, long *page,
                      long *size, bl_api_note_fn note, json_t **errors);

/* Parses a date (YYYY-MM-DD: midnight UTC, or its last millisecond with
 * end_of_day) or an RFC 3339 datetime into epoch milliseconds. Returns 0,
 * or -1 when text is neither (2024-02-31 is neither). */
int bl_api_parse_day_or_time(const char *text, bool end_of_day, int64_t *ms);

/* A LIKE pattern matching text anywhere ('%', '_' and '\' escaped) into out
 * (len bytes). Returns 0, or -1 when it does not fit. */
int bl_api_like_pattern(const char *text, char *out, size_t len);

/* Runs sql with n text params (borrowed) and parses its first row's one
 * column as JSON: a new reference, or NULL with err (BL_ENOTFOUND: no row). */
json_t *bl_api_query_json(bl_api_server *s, const char *sql, int n, const char *const *params, bl_err *err);

#endif
