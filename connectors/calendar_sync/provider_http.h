/* What the calendar providers (google_sync.c, graph_sync.c) share: one
 * OAuth call with the waits of a rate limit, percent-encoding, and the
 * page and provider frees of provider.h. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_PROVIDER_HTTP_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_PROVIDER_HTTP_H

#include "connectors/calendar_sync/provider.h"
#include "connectors/oauth/oauth.h"

#include <stdbool.h>

/* Reads a non-2xx answer: returns the error code for err (provider.h) and
 * sets *again when the call is worth trying again (throttled, 5xx); msg
 * gets the vendor's message. */
typedef int (*bl_calsync_classify_fn)(const bl_http_sync_result *r, bool *again, char *msg, size_t cap);

typedef struct bl_calsync_http {
    bl_oauth_store *store;      /* borrowed */
    char integration_id[64];
    const char *vendor;         /* "google", "graph" (static): error context */
    char base[512];             /* no trailing slash */
    int max_wait_ms;            /* longest single wait */
    bl_calsync_classify_fn classify;
} bl_calsync_http;

/* Fills h: integration_id and base_url copied (NULL or "": default_base;
 * trailing slashes dropped), max_wait_ms <= 0: 30 s. */
void bl_calsync_http_init(bl_calsync_http *h, bl_oauth_store *store, const char *integration_id, const char *vendor,
                          const char *base_url, const char *default_base, int max_wait_ms,
                          bl_calsync_classify_fn classify);

/* The error code of a non-2xx status (provider.h, oauth.h): 401
 * credentials, rate (throttled) and quota as the vendor's body says, other
 * 403 permission, 404 not found, 409 exists, 410 cursor gone, 5xx
 * connection, else invalid. */
int bl_calsync_status_code(long status, bool rate, bool quota);

/* A provider over self with the functions of tmpl (its self ignored).
 * Returns it, or NULL with err -- self is then freed with tmpl->free. */
bl_calsync_provider *bl_calsync_provider_new(const bl_calsync_provider *tmpl, void *self, bl_err *err);

/* POST or PATCH body (borrowed) to url; the stored item's "id" goes to
 * id_out (may be NULL) and its version_key ("etag", "changeKey") to
 * version_out. Returns the answer (new), or NULL with err. */
json_t *bl_calsync_http_write(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                              const char *version_key, char id_out[BL_CALSYNC_ID_MAX],
                              char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err);

/* GET url and normalize the answer (new item), or NULL with err
 * (BL_CALSYNC_E_NOT_FOUND also when normalize skips it: not a timed event). */
json_t *bl_calsync_http_get_item(const bl_calsync_http *h, const char *url, json_t *(*normalize)(const json_t *),
                                 bl_err *err);

/* DELETE url: 1 when removed now, 0 when it was already gone (404, 410),
 * -1 with err. */
int bl_calsync_http_delete(const bl_calsync_http *h, const char *url, bl_err *err);

/* One call (body borrowed, may be NULL) through bl_oauth_call (bearer, one
 * refresh on a 401); an answer classify calls "again" waits its Retry-After
 * (else 1 s doubling, capped at max_wait_ms) and is tried again, at most 5
 * times. Returns the parsed body of a 2xx (json null when empty), else NULL
 * with err carrying classify's code. */
json_t *bl_calsync_http_call(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                             bl_err *err);

/* Percent-encodes s (RFC 3986 unreserved kept) into out. Returns 0, or -1
 * when it does not fit in cap. */
int bl_calsync_url_escape(const char *s, char *out, size_t cap);

#endif
