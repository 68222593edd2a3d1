/* Helpers the built-in SaaS connectors share: a JSON request through the
 * host's HTTP, and the usual classification of a vendor's answer into a
 * connector result (transport errors, 408, 429 with Retry-After and 5xx
 * retry; 401 means the credentials expired; other 4xx are permanent). */
#ifndef BUSLINE_CONNECTORS_VENDOR_HTTP_H
#define BUSLINE_CONNECTORS_VENDOR_HTTP_H

#include "busline/connector.h"

#include <jansson.h>

/* Sends method url with the extra header lines (auth, ...) and body (a
 * JSON value serialised compactly, or NULL) as application/json. Fills
 * resp (release with host->http_release). Returns what host->http does. */
int bl_vendor_json_call(const bl_connector_host *host, const char *method, const char *url,
                        const char *const *headers, size_t n_headers, const json_t *body,
                        bl_connector_http_response *resp);

/* bl_vendor_json_call with the body sent as content_type (a JSON media
 * type such as "application/json-patch+json"; NULL = application/json). */
int bl_vendor_json_call_as(const bl_connector_host *host, const char *method, const char *url,
                           const char *const *headers, size_t n_headers, const json_t *body,
                           const char *content_type, bl_connector_http_response *resp);

/* Classifies a finished call: returns 1 when resp is a 2xx (result left
 * untouched), else 0 after filling result (status, retry_after_ms from
 * Retry-After for 429/503, message "<what>: HTTP 400: <vendor_message>").
 * vendor_message may be NULL (the body's start is used). */
int bl_vendor_classify(int rc, const bl_connector_http_response *resp, const char *what,
                       const char *vendor_message, int64_t now_ms, bl_connector_result *result);

/* Fills result with status and a printf-style message; returns status. */
int bl_vendor_result(bl_connector_result *result, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Percent-encodes s for a URL query value into out (cap bytes). Returns 0,
 * or -1 when it does not fit. */
int bl_vendor_url_encode(const char *s, char *out, size_t cap);

/* Builds "Authorization: Basic base64(user:secret)" into out (cap bytes).
 * Returns 0, or -1 when it does not fit. */
int bl_vendor_basic_auth(const char *user, const char *secret, char *out, size_t cap);

#endif
