/* The compiled shape of a call, shared by the files of connectors/calls. */
#ifndef BUSLINE_CONNECTORS_CALLS_CALL_INTERNAL_H
#define BUSLINE_CONNECTORS_CALLS_CALL_INTERNAL_H

#include "connectors/calls/call.h"
#include "connectors/webhook/policy/signature.h"

#include <jansson.h>

#define BL_CALL_ID_MAX 128
#define BL_CALL_MAX_ATTEMPTS 10
#define BL_CALL_MAX_HEADERS 32

typedef enum bl_call_backoff {
    BL_CALL_BACKOFF_EXPONENTIAL = 0,
    BL_CALL_BACKOFF_LINEAR,
    BL_CALL_BACKOFF_FIXED,
} bl_call_backoff;

typedef enum bl_call_fallback {
    BL_CALL_FALLBACK_NONE = 0,
    BL_CALL_FALLBACK_CACHE,
    BL_CALL_FALLBACK_DEFAULT,
    BL_CALL_FALLBACK_ALTERNATIVE,
} bl_call_fallback;

typedef struct bl_call_retry {
    int max_attempts;
    bl_call_backoff strategy;
    int64_t base_delay_ms;
    int64_t max_delay_ms;
    double jitter;
} bl_call_retry;

struct bl_call {
    bl_call_type type;
    char id[BL_CALL_ID_MAX + 1];
    char *key;               /* "<organization>/<id>": breaker and cache key */
    char *organization_id;
    char *actor;
    char *endpoint;          /* URL template (http, graphql, webhook) */
    char *method;            /* http: the verb; others POST */
    char *header_names[BL_CALL_MAX_HEADERS];
    char *header_values[BL_CALL_MAX_HEADERS]; /* templates */
    size_t header_count;
    json_t *body;            /* template or NULL (http, webhook) */
    bool body_is_input;      /* no template: send the input */
    char *query;             /* graphql */
    char *operation_name;    /* graphql, may be NULL */
    json_t *variables;       /* graphql template or NULL (= the input) */
    /* bus */
    char *topic;
    char *message_type;
    char *subject;           /* template */
    json_t *data;            /* template or NULL (= the input) */
    bl_msg_kind kind;
    char *domain;
    /* authentication */
    char *auth_header;       /* "Authorization: Bearer ..." etc., or NULL */
    bool signs;              /* webhook-signature */
    bl_webhook_secret secret;
    long timeout_ms;
    bl_call_retry retry;
    bl_call_fallback fallback;
    json_t *fallback_data;   /* default-response */
    char *alternative;       /* alternative-service URL template */
    bool has_breaker;
    bl_breaker_config breaker;
};

/* Config reading shared by the compile files. bl_call_cfg_only_fields fails
 * (BL_EINVAL, "<where>.<field>: unknown field") on a field not in allowed
 * (NULL-terminated). bl_call_cfg_str returns obj.name when it is a non-empty
 * string, NULL when absent (an error when required) and sets *bad with err
 * filled when it is wrong. */
int bl_call_cfg_only_fields(const json_t *obj, const char *where, const char *const *allowed, bl_err *err);
const char *bl_call_cfg_str(const json_t *obj, const char *name, const char *where, bool required,
                            bl_err *err, bool *bad);

/* Reads authentication (may be NULL) into c->auth_header or c->secret, per
 * c->type; reads headers (may be NULL) into c's header templates. Return 0
 * or -1 with err naming the field. */
int bl_call_compile_auth(bl_call *c, const json_t *auth, bl_err *err);
int bl_call_compile_headers(bl_call *c, const json_t *headers, bl_err *err);

/* Fills template text with input values: "{a.b}" takes input.a.b (strings as
 * they are, numbers and booleans as JSON text); url_encode percent-encodes
 * each value (RFC 3986 unreserved kept). Returns a malloc'd string or NULL
 * with err (BL_EINVAL naming a missing value). */
char *bl_call_fill_text(const char *tmpl, const json_t *input, bool url_encode, bl_err *err);

/* Fills a JSON template: a string that is exactly one placeholder takes the
 * input's value with its type; other strings are filled as text; objects and
 * arrays are walked. Returns a new reference or NULL with err. */
json_t *bl_call_fill_json(const json_t *tmpl, const json_t *input, bl_err *err);

/* The input's value at a dotted path ("a.b.0"), borrowed, or NULL. */
const json_t *bl_call_input_at(const json_t *input, const char *path, size_t path_len);

/* Checks a URL template: placeholders only after the authority, balanced
 * braces, and the URL with placeholders as "x" passes the SSRF guard.
 * field names the field in errors. Returns 0 or -1 with err. */
int bl_call_check_url_template(const char *tmpl, const bl_ssrf_allowlist *allow, const char *field,
                               bl_err *err);

/* The backoff before the retry after attempt (1-based) under rp, with
 * jitter from the OS random source. */
int64_t bl_call_backoff_ms(const bl_call_retry *rp, int attempt);

#endif
