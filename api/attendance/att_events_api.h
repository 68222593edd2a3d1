/* What the event routes of the Attendance-X surface share (api/attendance/,
 * mounted at attendance_prefix): the {"success": true, "data", "meta"}
 * envelope, invalid fields gathered under details, list parameters, reads
 * as one JSON value from PostgreSQL, and a command sent to the attendance
 * domain with a bounded wait for its outcome (api/command_send.h). Private
 * to the event routes of api/attendance/. */
#ifndef BUSLINE_API_ATTENDANCE_ATT_EVENTS_API_H
#define BUSLINE_API_ATTENDANCE_ATT_EVENTS_API_H

#include "api/attendance/att_answer.h"
#include "api/command_wait.h"
#include "api/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BL_ATT_LIMIT_MAX 100 /* largest page */
#define BL_ATT_ID_MAX 256

/* An RFC 3339 UTC datetime (milliseconds) of a timestamptz column, for SQL. */
#define BL_ATT_DATETIME_SQL(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Sets details[field] = message (details made on first use; a field keeps its first message). */
void bl_att_detail(json_t **details, const char *field, const char *message);

/* Answers 422 VALIDATION_ERROR "the request is not valid" with details (stolen). */
int bl_att_invalid(const bl_api_request *req, bl_http_response *resp, json_t *details);

/* Reads an optional string member of body: 1 with *out set (borrowed), 0
 * when absent (or null when null_ok), -1 after adding a detail (not a
 * string, empty when non_empty, longer than max bytes). */
int bl_att_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                  json_t **details);

/* page and limit of the query (defaults 1 and 20, limit at most
 * BL_ATT_LIMIT_MAX), adding details for bad ones. */
void bl_att_page(const bl_http_request *req, long *page, long *limit, json_t **details);

/* Sends the attendance command type with data (borrowed) about aggregate
 * subject for the caller's organization (honouring Idempotency-Key: a
 * replay answers about the first request's aggregate, which applied_id
 * gets; else subject), waits at most the server's command_wait_ms for the
 * domain's outcome and answers what is not a success: 503 when the bus
 * cannot take it, 202 {success, data: {id, commandId, status: "accepted",
 * statusUrl}} with Location past the bound (statusUrl: <prefix>/commands/<id>),
 * 404 EVENT_NOT_FOUND for a refusal "not found", 422 for any other refusal
 * (message: the domain's reason; reason: its class, "invalid" or
 * "conflict"; details[refused_field] when given) (api/command_wait.h). */
bl_api_wait_result bl_att_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                               const char *type, const char *subject, const json_t *data,
                               const char *refused_field, char applied_id[BL_ATT_ID_MAX]);

/* Documents the event routes on the surface's OpenAPI document
 * (att_events_openapi.c). After their registration. Returns 0 or -1. */
int bl_att_events_document(bl_api_server *s, bl_err *err);

#endif
