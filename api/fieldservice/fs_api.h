/* What the field-service surface's route files share (the SmartLeakPro
 * document, mounted at field_service_prefix): the one-string address of the
 * document mapped onto the domain's address record, list parameters,
 * validation messages gathered per field, and a command sent to the
 * field-service domain with a bounded wait for its outcome, answered as
 * the document does (the resource, or its error object; 202 with a status
 * URL only when the bound passed). Private to api/fieldservice/. */
#ifndef BUSLINE_API_FIELDSERVICE_FS_API_H
#define BUSLINE_API_FIELDSERVICE_FS_API_H

#include "api/command_wait.h"
#include "api/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BL_FSAPI_TEXT_MAX 500   /* longest adresse or lieu accepted */
#define BL_FSAPI_SIZE_MAX 100   /* largest page size */

/* The address record of the domain. */
typedef struct bl_fsapi_address {
    char street[BL_FSAPI_TEXT_MAX + 1];
    char postal_code[16];
    char city[BL_FSAPI_TEXT_MAX + 1];
    char country[8];
} bl_fsapi_address;

/* Reads the document's one-string address (adresse, lieu) into the record:
 * "<street>, <postal code> <city>[, <country>]" fills every part (a postal
 * code is 3 to 10 digits, capitals or '-', at least one digit; a country two
 * capitals other than FR); any other text is the street alone. The country
 * is FR unless given. Rendering (BL_FSAPI_ADDRESS_SQL) gives the text back
 * exactly as written. */
void bl_fsapi_address_parse(const char *text, bl_fsapi_address *out);

/* The address record as a new JSON object, or NULL (out of memory). */
json_t *bl_fsapi_address_json(const bl_fsapi_address *a);

/* The SQL expression rendering the address columns (street, postal_code,
 * city, country) back to the document's one string. */
#define BL_FSAPI_ADDRESS_SQL                                                                        \
    "(street || CASE WHEN postal_code <> '' AND city <> '' THEN ', ' || postal_code || ' ' || city" \
    " ELSE '' END || CASE WHEN country NOT IN ('', 'FR') THEN ', ' || country ELSE '' END)"

/* An RFC 3339 UTC datetime of a timestamptz column, for SQL. */
#define BL_FSAPI_DATETIME_SQL(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Adds message to the array of field in errors (an object, made on first
 * use; bl_fs_field_error's shape). */
void bl_fsapi_field_error(json_t **errors, const char *field, const char *message);

/* Reads an optional string member of body: 1 with *out set (borrowed), 0
 * when absent or null, -1 after adding a field error (not a string, empty
 * when non_empty, longer than max bytes). */
int bl_fsapi_string(const json_t *body, const char *field, bool non_empty, size_t max, const char **out,
                    json_t **errors);

/* Parses a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 datetime (UTC when
 * it has no zone) into milliseconds since the epoch. end_of_day: a date
 * means the end of that day (its last millisecond). Returns 0, or -1 when
 * text is neither. */
int bl_fsapi_parse_when(const char *text, bool end_of_day, int64_t *ms);

/* page and size of the query (defaults 1 and 10; size at most
 * BL_FSAPI_SIZE_MAX), adding field errors for bad ones. */
void bl_fsapi_page(const bl_http_request *req, long *page, long *size, json_t **errors);

#define BL_FSAPI_ID_MAX 256

/* Sends the field-service command type with data (borrowed) about aggregate
 * subject for the caller's organization (honouring Idempotency-Key: a
 * replay answers about the first request's aggregate, which applied_id
 * gets, BL_FSAPI_ID_MAX bytes; else subject), waits
 * at most the server's command_wait_ms for the domain's outcome and
 * answers what is not a success: 503 when the bus cannot take it, 202 with
 * {detail, id: subject, command_id, status_url, status} and Location when
 * the bound passed (status_url: <prefix>/commands/<command id>), 404 NOT_FOUND for a refusal "not found", 422
 * VALIDATION_ERROR for any other refusal with its reason under
 * refused_field (NULL: the detail only) (api/command_wait.h). */
bl_api_wait_result bl_fsapi_send(bl_api_commands *commands, const bl_api_request *req, bl_http_response *resp,
                                 const char *type, const char *subject, const json_t *data,
                                 const char *refused_field, char applied_id[BL_FSAPI_ID_MAX]);

/* Documents the routes of tag ("clients", "interventions", "commands") for the
 * surface's OpenAPI document (api/fieldservice/fs_openapi.c). After their
 * registration. Returns 0 or -1 with err. */
int bl_fsapi_document(bl_api_server *s, const char *tag, bl_err *err);

#endif
