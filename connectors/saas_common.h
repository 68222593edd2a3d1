/* What the work-item, calendar and meeting connectors (Azure DevOps, Google
 * Calendar, Microsoft 365, Zoom) share: reading settings, the bearer header,
 * one JSON call classified with the vendor's own error text, the link from
 * an aggregate to the vendor object kept in the integration's state, list
 * splitting and the start/end date-times of an event. Built on
 * connectors/vendor_http.h. */
#ifndef BUSLINE_CONNECTORS_SAAS_COMMON_H
#define BUSLINE_CONNECTORS_SAAS_COMMON_H

#include "busline/connector.h"

#include <jansson.h>
#include <stdint.h>

/* The string setting name of s (def when absent; def NULL = required) into
 * out (cap bytes). Returns 0, or -1 with "<connector>: settings.<name>: ..."
 * in err. */
int bl_saas_setting_str(const json_t *s, const char *connector, const char *name, const char *def, char *out,
                        size_t cap, char *err, size_t err_len);

/* The boolean setting name into *out (def when absent). Returns 0, or -1
 * with err when it is not a boolean. */
int bl_saas_setting_bool(const json_t *s, const char *connector, const char *name, int def, int *out, char *err,
                         size_t err_len);

/* The integer setting name within [lo, hi] into *out (def when absent).
 * Returns 0, or -1 with err. */
int bl_saas_setting_int(const json_t *s, const char *connector, const char *name, long def, long lo, long hi,
                        long *out, char *err, size_t err_len);

/* settings.base_url (def when absent) into out, trailing '/' dropped; an
 * http(s) URL is required. Returns 0, or -1 with err. */
int bl_saas_base_url(const json_t *s, const char *connector, const char *def, char *out, size_t cap, char *err,
                     size_t err_len);

/* "Authorization: Bearer <token>" from host->auth_token into out. Returns
 * 0, or -1 with r AUTH_EXPIRED when the host has no token. */
int bl_saas_bearer(const bl_connector_host *host, const char *connector, char *out, size_t cap,
                   bl_connector_result *r);

/* Reads a vendor's error body (len bytes, NUL-terminated): writes the
 * vendor's message into msg (cap bytes, "" when none) and returns a
 * bl_connector_status that overrides the HTTP class, or -1 to keep it. */
typedef int (*bl_saas_error_fn)(long status, const char *body, size_t len, char *msg, size_t cap);

typedef struct bl_saas_request {
    const char *method;
    const char *url;
    const char *auth;          /* "Authorization: ..." line */
    const json_t *body;        /* NULL = no body */
    const char *content_type;  /* NULL = application/json */
    const char *what;          /* "zoom create meeting", for messages */
    bl_saas_error_fn error_text;
} bl_saas_request;

/* Sends req and classifies the answer (connectors/vendor_http.h rules, the
 * vendor's message from error_text, its override applied). Returns the
 * parsed body of a 2xx (json null when empty; new reference), else NULL
 * with r filled. *status gets the HTTP status (0 when none came). */
json_t *bl_saas_call(const bl_connector_host *host, const bl_saas_request *req, long *status,
                     bl_connector_result *r);

/* The vendor object linked to aggregate subject, state key "<kind>/<subject>".
 * get copies it into out (cap bytes): 1 when linked, 0 when not (an empty
 * value is no link), -1 with r RETRYABLE when the state is unavailable.
 * put returns 0, or -1 with r RETRYABLE. */
int bl_saas_link_get(const bl_connector_host *host, const char *kind, const char *subject, char *out, size_t cap,
                     bl_connector_result *r);
int bl_saas_link_put(const bl_connector_host *host, const char *kind, const char *subject, const char *value,
                     bl_connector_result *r);

/* bl_saas_link_get for an action on an existing object: returns 1 when
 * linked; 0 with r OK ("<connector>: no <kind> for <subject>; nothing to
 * <verb>") when not; -1 with r filled. */
int bl_saas_linked(const bl_connector_host *host, const char *connector, const char *kind, const char *subject,
                   const char *verb, char *out, size_t cap, bl_connector_result *r);

/* Calls fn for each item of text split at ',', ';' and newlines, spaces
 * trimmed, empty items skipped, at most max items (each cut at 511 bytes).
 * Returns how many were given. */
typedef void (*bl_saas_item_fn)(const char *item, void *ctx);
size_t bl_saas_split(const char *text, size_t max, bl_saas_item_fn fn, void *ctx);

/* A date-time: an absolute instant ("2026-05-01T10:00:00Z", "+02:00") or a
 * local wall time ("2026-05-01T10:00:00", meaningful with a time zone). */
typedef struct bl_saas_time {
    int64_t ms; /* Unix ms; for a local time, as if it were UTC */
    int local;
} bl_saas_time;

/* Parses s as above. Returns 0 or -1. */
int bl_saas_time_parse(const char *s, bl_saas_time *t);

/* "YYYY-MM-DDTHH:MM:SS" into out (at least 24 bytes), with "Z" when t is
 * absolute and utc_z is set; an absolute time is written in UTC. */
void bl_saas_time_format(const bl_saas_time *t, int utc_z, char *out, size_t cap);

/* The event's start (field "start", required) and end (field "end", else
 * start + field "duration_minutes", else start + default_minutes). Returns
 * 0, or -1 with r PERMANENT naming the bad field. */
int bl_saas_event_times(const bl_connector_event *ev, const char *connector, long default_minutes,
                        bl_saas_time *start, bl_saas_time *end, bl_connector_result *r);

/* Parses the whole of s as a decimal integer within [lo, hi]. Returns 0 or -1. */
int bl_saas_parse_long(const char *s, long lo, long hi, long *out);

/* After the vendor deleted the object id linked to subject (or said it was
 * already gone): forgets the link and sets r OK ("<connector>: deleted
 * <kind> <id>"), or r RETRYABLE when the state is unavailable. */
void bl_saas_unlink_deleted(const bl_connector_host *host, const char *connector, const char *kind,
                            const char *subject, const char *id, int already_gone, bl_connector_result *r);

/* One action a connector takes: fn gets the connector's instance. */
typedef struct bl_saas_action {
    const char *name; /* "create_event" */
    void (*fn)(const void *instance, const bl_connector_event *ev, bl_connector_result *r);
} bl_saas_action;

/* Runs the action of actions (ended by {NULL}) that ev names, for an event
 * with a subject (aggregate id); otherwise r PERMANENT saying why, prefixed
 * with connector. */
void bl_saas_dispatch(const char *connector, const bl_saas_action *actions, const void *instance,
                      const bl_connector_event *ev, bl_connector_result *r);

/* A non-empty rendered field or NULL. */
const char *bl_saas_field(const bl_connector_event *ev, const char *name);

#endif
