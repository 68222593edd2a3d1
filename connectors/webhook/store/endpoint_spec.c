/* Validation of a webhook endpoint's settings (bl_webhook_spec_check), kept
 * apart from the SQL of endpoint_store.c. */
#include "connectors/webhook/policy/endpoint_tls.h"
#include "connectors/webhook/store/endpoint_store.h"

#include "consumers/event_filter.h"
#include "consumers/retry_policy.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "connectors/webhook/policy/transformation.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include <ctype.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* Headers the delivery sets itself, or that change how the request is
 * framed or routed: an endpoint may not override them. */
static const char *const reserved_headers[] = {
    "host", "content-type", "content-length", "transfer-encoding", "connection", "keep-alive",
    "upgrade", "te", "trailer", "expect", "x-signature", "user-agent", NULL,
};

static bool header_is_reserved(const char *name)
{
    if (strncasecmp(name, "webhook-", 8) == 0 || strncasecmp(name, "proxy-", 6) == 0)
        return true;
    for (size_t i = 0; reserved_headers[i]; i++)
        if (strcasecmp(name, reserved_headers[i]) == 0)
            return true;
    return false;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int check_header(const char *name, const json_t *value, bl_err *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > BL_WEBHOOK_HEADER_NAME_MAX)
        return bl_err_set(err, BL_EINVAL, "headers: a name must have 1..%d characters",
                          BL_WEBHOOK_HEADER_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return bl_err_set(err, BL_EINVAL, "headers: \"%.64s\" is not a valid header name", name);
    if (header_is_reserved(name))
        return bl_err_set(err, BL_EINVAL, "headers: \"%.64s\" is set by busline and cannot be overridden",
                          name);
    const char *v = json_string_value(value);
    if (!v)
        return bl_err_set(err, BL_EINVAL, "headers: the value of \"%.64s\" must be a string", name);
    size_t vlen = strlen(v);
    if (vlen > BL_WEBHOOK_HEADER_VALUE_MAX)
        return bl_err_set(err, BL_EINVAL, "headers: the value of \"%.64s\" is over %d bytes", name,
                          BL_WEBHOOK_HEADER_VALUE_MAX);
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return bl_err_set(err, BL_EINVAL,
                              "headers: the value of \"%.64s\" holds a control character", name);
    }
    return 0;
}

static int check_headers(const json_t *headers, bl_err *err)
{
    if (!headers)
        return 0;
    if (!json_is_object(headers))
        return bl_err_set(err, BL_EINVAL, "headers: must be an object of name: value");
    if (json_object_size(headers) > BL_WEBHOOK_HEADERS_MAX)
        return bl_err_set(err, BL_EINVAL, "headers: at most %d custom headers",
                          BL_WEBHOOK_HEADERS_MAX);
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)headers, name, value) {
        if (check_header(name, value, err) != 0)
            return -1;
        /* Names are case-insensitive: two spellings of one header are one too many. */
        const char *other;
        json_t *ov;
        json_object_foreach((json_t *)headers, other, ov) {
            if (other != name && strcasecmp(other, name) == 0)
                return bl_err_set(err, BL_EINVAL, "headers: \"%.64s\" is given twice", name);
        }
    }
    return 0;
}

/* The HMAC header's name: a token busline does not set otherwise (X-Signature
 * only while the legacy signature is off) and no custom header's name. */
static int check_hmac_header(const bl_webhook_spec *s, bl_err *err)
{
    const char *name = s->hmac_header;
    if (!name)
        return 0;
    size_t len = strlen(name);
    if (len == 0 || len > BL_WEBHOOK_HEADER_NAME_MAX)
        return bl_err_set(err, BL_EINVAL, "hmac_header: a header name of 1..%d characters",
                          BL_WEBHOOK_HEADER_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)name[i]))
            return bl_err_set(err, BL_EINVAL, "hmac_header: \"%.64s\" is not a valid header name", name);
    bool legacy_name = strcasecmp(name, "x-signature") == 0;
    if ((header_is_reserved(name) && !legacy_name) || (legacy_name && s->legacy_signature))
        return bl_err_set(err, BL_EINVAL, "hmac_header: \"%.64s\" is set by busline itself", name);
    const char *other;
    json_t *v;
    json_object_foreach((json_t *)s->headers, other, v) {
        if (strcasecmp(other, name) == 0)
            return bl_err_set(err, BL_EINVAL, "hmac_header: \"%.64s\" is also a custom header", name);
    }
    return 0;
}

static int check_text(const char *value, const char *field, size_t max, bl_err *err)
{
    if (!value || !value[0])
        return bl_err_set(err, BL_EINVAL, "%s: required", field);
    if (strlen(value) > max)
        return bl_err_set(err, BL_EINVAL, "%s: longer than %zu bytes", field, max);
    return 0;
}

static int check_event_types(const bl_webhook_spec *spec, bl_err *err)
{
    if (spec->event_type_count == 0 || !spec->event_types)
        return bl_err_set(err, BL_EINVAL, "event_types: at least one event type or pattern");
    if (spec->event_type_count > BL_WEBHOOK_EVENT_TYPES_MAX)
        return bl_err_set(err, BL_EINVAL, "event_types: at most %d", BL_WEBHOOK_EVENT_TYPES_MAX);
    for (size_t i = 0; i < spec->event_type_count; i++) {
        const char *p = spec->event_types[i];
        if (!p || bl_event_type_pattern_check(p, err) != 0)
            return p ? bl_err_wrap(err, "event_types[%zu]", i)
                     : bl_err_set(err, BL_EINVAL, "event_types[%zu]: missing", i);
    }
    return 0;
}

static int check_numbers(const bl_webhook_spec *s, bl_err *err)
{
    if (s->max_attempts < 0 || s->max_attempts > BL_RETRY_MAX_ATTEMPTS_LIMIT)
        return bl_err_set(err, BL_EINVAL, "max_attempts: must be 1..%d", BL_RETRY_MAX_ATTEMPTS_LIMIT);
    if (s->backoff_base_ms < 0 || s->backoff_base_ms > BL_RETRY_MAX_DELAY_LIMIT_MS)
        return bl_err_set(err, BL_EINVAL, "backoff_base_ms: must be 1ms..1 week");
    if (s->timeout_ms < 0 || s->timeout_ms > BL_WEBHOOK_TIMEOUT_MAX_MS)
        return bl_err_set(err, BL_EINVAL, "timeout_ms: must be 1..%d", BL_WEBHOOK_TIMEOUT_MAX_MS);
    if (!isfinite(s->rate_limit_per_s) || s->rate_limit_per_s < 0 ||
        s->rate_limit_per_s > BL_WEBHOOK_RATE_MAX)
        return bl_err_set(err, BL_EINVAL, "rate_limit_per_s: must be 0 (unlimited) .. %.0f",
                          BL_WEBHOOK_RATE_MAX);
    if (s->rate_limit_burst < 0 || s->rate_limit_burst > 1000000)
        return bl_err_set(err, BL_EINVAL, "rate_limit_burst: must be 0..1000000");
    if (s->retry_schedule_len > BL_WEBHOOK_RETRY_SCHEDULE_MAX || (s->retry_schedule_len && !s->retry_schedule_s))
        return bl_err_set(err, BL_EINVAL, "retry_schedule: 1 to %d delays in seconds", BL_WEBHOOK_RETRY_SCHEDULE_MAX);
    for (size_t i = 0; i < s->retry_schedule_len; i++)
        if (s->retry_schedule_s[i] < 1 || s->retry_schedule_s[i] > BL_WEBHOOK_RETRY_DELAY_MAX_S)
            return bl_err_set(err, BL_EINVAL, "retry_schedule[%zu]: a delay of 1 to %d seconds", i,
                              BL_WEBHOOK_RETRY_DELAY_MAX_S);
    if (s->max_age_s < 0 || s->max_age_s > BL_WEBHOOK_MAX_AGE_MAX_S)
        return bl_err_set(err, BL_EINVAL, "max_age_seconds: 1 to %d seconds, or none", BL_WEBHOOK_MAX_AGE_MAX_S);
    if ((int)s->signature_scheme < 0 || s->signature_scheme > BL_WEBHOOK_SCHEME_BOTH)
        return bl_err_set(err, BL_EINVAL, "signature_scheme: must be \"v1\", \"v1a\" or \"both\"");
    return 0;
}

/* A Kafka destination has no URL of its own: its brokers go through the
 * guard instead (kafka_destination.h). */
static int check_kafka(const bl_webhook_store *st, const bl_webhook_spec *spec, bool password_stored, bl_err *err)
{
    const char *pw = spec->kafka_sasl_password;
    if (!spec->kafka)
        return pw ? bl_err_set(err, BL_EINVAL, "kafka.saslPassword: only for a destination of type \"kafka\"") : 0;
    if (pw && (!pw[0] || strlen(pw) > BL_KDEST_PASSWORD_MAX))
        return bl_err_set(err, BL_EINVAL, "kafka.saslPassword: 1..%d characters", BL_KDEST_PASSWORD_MAX);
    bool has_password = pw || (password_stored && bl_webhook_kafka_uses_sasl(spec->kafka));
    return bl_webhook_kafka_check(spec->kafka, has_password, bl_webhook_store_allow(st), err);
}

int bl_webhook_spec_check(const bl_webhook_store *st, const bl_webhook_spec *spec, bl_err *err)
{
    return bl_webhook_spec_check_kept(st, spec, false, err);
}

int bl_webhook_spec_check_kept(const bl_webhook_store *st, const bl_webhook_spec *spec, bool password_stored,
                               bl_err *err)
{
    if (!spec)
        return bl_err_set(err, BL_EINVAL, "webhook endpoint: no settings");
    if (check_text(spec->name, "name", BL_WEBHOOK_NAME_MAX, err) != 0 ||
        (!spec->kafka && check_text(spec->url, "url", BL_SSRF_URL_MAX, err) != 0) ||
        check_event_types(spec, err) != 0 || check_numbers(spec, err) != 0 ||
        check_headers(spec->headers, err) != 0 || check_hmac_header(spec, err) != 0)
        return -1;
    if (spec->conditions && !json_is_array(spec->conditions))
        return bl_err_set(err, BL_EINVAL, "conditions: must be an array");
    bl_event_filter *f = bl_event_filter_new(spec->conditions, err);
    if (!f)
        return bl_err_wrap(err, "conditions");
    bl_event_filter_free(f);
    if (spec->transformation) {
        bl_transform *t = bl_webhook_transformation_compile(spec->transformation, err);
        if (!t)
            return -1;
        bl_transform_free(t);
    }
    if (spec->kafka || spec->kafka_sasl_password)
        return check_kafka(st, spec, password_stored, err);
    bl_ssrf_target target;
    if (bl_ssrf_check_url(spec->url, bl_webhook_store_allow(st), &target, err) != 0) {
        err->code = BL_EINVAL; /* a name that does not resolve is bad input here too */
        return bl_err_wrap(err, "url");
    }
    if (spec->tls_change == BL_WEBHOOK_TLS_SET &&
        bl_webhook_tls_check(spec->tls_client_cert, spec->tls_client_key, spec->tls_ca_cert, err) != 0)
        return -1;
    return 0;
}
