/* What the route files of the field-service surface (/api, the SmartLeakPro
 * document) share: field errors in the document's shape ({"field": ["msg",
 * ...]}, every invalid field at once), its page/size pagination envelope,
 * body readers that note what is wrong instead of answering, and the
 * field-service events the API appends to the outbox itself (user.created). */
#ifndef BUSLINE_API_FIELDSERVICE_FS_COMMON_H
#define BUSLINE_API_FIELDSERVICE_FS_COMMON_H

#include "api/server.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#define BL_FS_PAGE_SIZE_DEFAULT 10
#define BL_FS_PAGE_SIZE_MAX 100

/* Appends msg to errors[field] (an array, created when absent). */
void bl_fs_field_error(json_t *errors, const char *field, const char *msg);

/* Answers 422 VALIDATION_ERROR with errors (stolen). Returns what
 * bl_api_fail returns. */
int bl_fs_invalid(const bl_api_request *req, bl_http_response *resp, json_t *errors);

/* The body as an object, or NULL after noting "body" in errors. */
const json_t *bl_fs_body(const bl_api_request *req, json_t *errors);

/* Notes every key of body that is not in the NULL-ended list known. */
void bl_fs_unknown_fields(const json_t *body, const char *const *known, json_t *errors);

/* A string field of 1..max bytes: returns it (borrowed) or NULL; a missing
 * one is noted when required, a wrong type or length always. */
const char *bl_fs_string(const json_t *body, const char *name, size_t max, bool required, json_t *errors);

/* page (>= 1, default 1) and size (1..100, default 10) from the query; a
 * bad one is noted in errors. */
void bl_fs_page_read(const bl_http_request *req, long *page, long *size, json_t *errors);

/* {key: items (stolen), "total", "page", "size", "pages"}; NULL when out of
 * memory. */
json_t *bl_fs_page_envelope(const char *key, json_t *items, long total, long page, long size);

/* Runs sql whose one row and column is a JSON text; returns that JSON (new
 * reference), or NULL (no row, or a failure, logged by the pool):
 * bl_api_query_json without its error. */
json_t *bl_fs_query_json(bl_api_server *s, const char *sql, int nparams, const char *const *params);

/* Answers one page of a list: reads page and size (a 422 naming them when
 * bad), then runs sql with $1 the caller's organization, $2 the page size
 * and $3 the offset, whose one row and column is the JSON answered with 200.
 * Returns 0, or -1 so the server answers 500. */
int bl_fs_answer_page(const bl_api_request *req, bl_http_response *resp, const char *sql);

/* Runs sql whose one row and column is a JSON text and answers it with
 * status (200 or 201). Returns 0, or -1 for a 500. */
int bl_fs_answer_query(const bl_api_request *req, bl_http_response *resp, int status, const char *sql,
                       int nparams, const char *const *params);

/* The field-service event encoder of a server: made on first use (it loads
 * the catalog and registers the event topic's schema), freed with s. */
typedef struct bl_fs_events bl_fs_events;

/* Returns the encoder slot of s (freed with s), or NULL with err. */
bl_fs_events *bl_fs_events_attach(bl_api_server *s, bl_err *err);

/* Appends one event of the field-service user topic (events.fieldservice.
 * user: "user.created") about
 * aggregate_id of organization_id with data (borrowed) to the outbox in the
 * transaction open on conn. Returns 0, or -1 with err. */
int bl_fs_event_append(bl_fs_events *ev, PGconn *conn_in_tx, const char *type, const char *organization_id,
                       const char *aggregate_id, const json_t *data, bl_err *err);

#endif
