/* A webhook endpoint as read from PostgreSQL: parsing a row, freeing it, and
 * opening its sealed secrets. */
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/endpoint_ordering.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include "connectors/webhook/policy/endpoint_tls.h"
#include "core/time_format.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_webhook_endpoint_free(bl_webhook_endpoint *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->event_type_count; i++)
        free(e->event_types[i]);
    free(e->event_types);
    json_decref(e->conditions);
    json_decref(e->headers);
    free(e->id);
    free(e->organization_id);
    free(e->name);
    free(e->url);
    free(e->disabled_reason);
    free(e->hmac_header);
    free(e->secret_sealed);
    free(e->previous_secret_sealed);
    free(e->ed25519_key_sealed);
    free(e->ed25519_public_key);
    free(e->previous_ed25519_key_sealed);
    free(e->previous_ed25519_public_key);
    free(e->tls_client_cert);
    free(e->tls_client_key_sealed);
    free(e->tls_ca_cert);
    free(e->egress_proxy);
    json_decref(e->transformation);
    bl_webhook_kafka_clear(e->kafka);
    free(e->kafka);
    if (e->kafka_password_sealed)
        OPENSSL_cleanse(e->kafka_password_sealed, strlen(e->kafka_password_sealed));
    free(e->kafka_password_sealed);
    free(e);
}

void bl_webhook_spec_from_endpoint(const bl_webhook_endpoint *e, bl_webhook_spec *spec,
                                   const char **types_buf)
{
    for (size_t i = 0; i < e->event_type_count; i++)
        types_buf[i] = e->event_types[i];
    *spec = (bl_webhook_spec){
        .name = e->name,
        .url = e->url,
        .event_types = types_buf,
        .event_type_count = e->event_type_count,
        .conditions = e->conditions,
        .headers = e->headers,
        .legacy_signature = e->legacy_signature,
        .hmac_header = e->hmac_header,
        .strict_order = e->strict_order,
        .max_attempts = e->max_attempts,
        .backoff_base_ms = e->backoff_base_ms,
        .retry_schedule_s = e->retry_schedule_len ? e->retry_schedule_s : NULL,
        .retry_schedule_len = e->retry_schedule_len,
        .max_age_s = e->max_age_s,
        .timeout_ms = e->timeout_ms,
        .rate_limit_per_s = e->rate_limit_per_s,
        .rate_limit_burst = e->rate_limit_burst,
        .payload_format = e->payload_format,
        .signature_scheme = e->signature_scheme,
        .transformation = e->transformation,
        .kafka = e->kafka,
    };
}

/* A copy of the text at (row, col), or NULL for SQL NULL; *oom set when the
 * copy failed. */
static char *text_at(const PGresult *res, int row, int col, int *oom)
{
    if (PQgetisnull(res, row, col))
        return NULL;
    char *s = strdup(PQgetvalue(res, row, col));
    if (!s)
        *oom = 1;
    return s;
}

static int64_t int_at(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static bool bool_at(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

static int parse_event_types(bl_webhook_endpoint *e, const char *json_text, bl_err *err)
{
    json_t *arr = json_loads(json_text, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return bl_err_set(err, BL_EINVAL, "webhook store: event_types of %s unreadable", e->id);
    }
    size_t n = json_array_size(arr);
    e->event_types = calloc(n ? n : 1, sizeof *e->event_types);
    int rc = e->event_types ? 0 : bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        e->event_types[i] = strdup(s ? s : "");
        if (!e->event_types[i])
            rc = bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        else
            e->event_type_count = i + 1;
    }
    json_decref(arr);
    return rc;
}

/* json_text: the retry_schedule column as a JSON array, or NULL (none). */
static int parse_retry_schedule(bl_webhook_endpoint *e, const char *json_text, bl_err *err)
{
    if (!json_text)
        return 0;
    json_t *arr = json_loads(json_text, 0, NULL);
    size_t n = json_array_size(arr);
    int rc = 0;
    if (!json_is_array(arr) || n > BL_WEBHOOK_RETRY_SCHEDULE_MAX)
        rc = bl_err_set(err, BL_EINVAL, "webhook store: retry_schedule of %s unreadable", e->id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        e->retry_schedule_s[i] = json_integer_value(json_array_get(arr, i));
    if (rc == 0)
        e->retry_schedule_len = n;
    json_decref(arr);
    return rc;
}

bl_webhook_endpoint *bl_webhook_endpoint_from_row(const PGresult *res, int row, bl_err *err)
{
    bl_webhook_endpoint *e = calloc(1, sizeof *e);
    if (!e) {
        bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        return NULL;
    }
    int oom = 0;
    e->id = text_at(res, row, 0, &oom);
    e->organization_id = text_at(res, row, 1, &oom);
    e->name = text_at(res, row, 2, &oom);
    e->url = text_at(res, row, 3, &oom);
    e->active = bool_at(res, row, 7);
    e->disabled_reason = text_at(res, row, 8, &oom);
    e->legacy_signature = bool_at(res, row, 9);
    e->strict_order = bool_at(res, row, 10);
    e->max_attempts = (int)int_at(res, row, 11);
    e->backoff_base_ms = int_at(res, row, 12);
    e->timeout_ms = (int)int_at(res, row, 13);
    e->rate_limit_per_s = PQgetisnull(res, row, 14) ? 0 : strtod(PQgetvalue(res, row, 14), NULL);
    e->rate_limit_burst = (int)int_at(res, row, 15);
    e->consecutive_failures = (int)int_at(res, row, 16);
    e->failing_since_ms = int_at(res, row, 17);
    e->secret_sealed = text_at(res, row, 18, &oom);
    e->previous_secret_sealed = text_at(res, row, 19, &oom);
    e->previous_secret_expires_ms = int_at(res, row, 20);
    e->created_ms = int_at(res, row, 21);
    e->updated_ms = int_at(res, row, 22);
    e->hmac_header = text_at(res, row, 23, &oom);
    e->payload_format = strcmp(PQgetvalue(res, row, 24), "smartleakpro") == 0 ? BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO
                                                                              : BL_WEBHOOK_PAYLOAD_STANDARD;
    e->signature_scheme = bl_webhook_scheme_parse(PQgetvalue(res, row, 25));
    if (!e->signature_scheme)
        e->signature_scheme = BL_WEBHOOK_SCHEME_V1;
    e->ed25519_key_sealed = text_at(res, row, 26, &oom);
    e->ed25519_public_key = text_at(res, row, 27, &oom);
    e->previous_ed25519_key_sealed = text_at(res, row, 28, &oom);
    e->previous_ed25519_public_key = text_at(res, row, 29, &oom);
    e->previous_ed25519_expires_ms = int_at(res, row, 30);
    e->max_age_s = int_at(res, row, 32);
    e->kafka_password_sealed = text_at(res, row, 36, &oom);
    if (oom) {
        bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        goto fail;
    }
    if (parse_event_types(e, PQgetvalue(res, row, 4), err) != 0)
        goto fail;
    e->conditions = json_loads(PQgetvalue(res, row, 5), 0, NULL);
    e->headers = json_loads(PQgetvalue(res, row, 6), 0, NULL);
    if (!json_is_array(e->conditions) || !json_is_object(e->headers)) {
        bl_err_set(err, BL_EINVAL, "webhook store: conditions or headers of %s unreadable", e->id);
        goto fail;
    }
    if (parse_retry_schedule(e, PQgetisnull(res, row, 31) ? NULL : PQgetvalue(res, row, 31), err) != 0)
        goto fail;
    /* json_is_object is a macro reading its argument twice: load first */
    if (!PQgetisnull(res, row, 33))
        e->transformation = json_loads(PQgetvalue(res, row, 33), 0, NULL);
    if (!PQgetisnull(res, row, 33) && !json_is_object(e->transformation)) {
        bl_err_set(err, BL_EINVAL, "webhook store: transformation of %s unreadable", e->id);
        goto fail;
    }
    if (bl_webhook_endpoint_tls_from_row(e, res, row) != 0) {
        bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        goto fail;
    }
    if (strcmp(PQgetvalue(res, row, 34), "kafka") == 0 && !PQgetisnull(res, row, 35)) {
        if (!(e->kafka = calloc(1, sizeof *e->kafka))) {
            bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
            goto fail;
        }
        if (bl_webhook_kafka_from_column(PQgetvalue(res, row, 35), e->kafka, err) != 0)
            goto fail;
    }
    return e;
fail:
    bl_webhook_endpoint_free(e);
    return NULL;
}

/* Opens one sealed secret bound to endpoint id and parses it. */
static int open_secret(const bl_keyring *kr, const char *sealed, const char *id,
                       bl_webhook_secret *out, bl_err *err)
{
    uint8_t *plain = NULL;
    size_t len = 0;
    if (bl_keyring_open(kr, sealed, id, strlen(id), &plain, &len, err) != 0)
        return bl_err_wrap(err, "webhook endpoint %s: secret", id);
    int rc = bl_webhook_secret_from_text((const char *)plain, out, err);
    memset(plain, 0, len);
    free(plain);
    return rc == 0 ? 0 : bl_err_wrap(err, "webhook endpoint %s: secret", id);
}

int bl_webhook_endpoint_secrets(const bl_webhook_endpoint *e, const bl_keyring *kr, int64_t now_ms,
                                bl_webhook_secret *current, bl_webhook_secret *previous,
                                int64_t *previous_until_ms, bl_err *err)
{
    previous->len = 0;
    *previous_until_ms = 0;
    if (!kr)
        return bl_err_set(err, BL_EINVAL, "webhook endpoint %s: no keyring to open its secret", e->id);
    if (open_secret(kr, e->secret_sealed, e->id, current, err) != 0)
        return -1;
    if (e->previous_secret_sealed && e->previous_secret_expires_ms > now_ms) {
        if (open_secret(kr, e->previous_secret_sealed, e->id, previous, err) != 0) {
            bl_webhook_secret_wipe(current);
            return -1;
        }
        *previous_until_ms = e->previous_secret_expires_ms;
    }
    return 0;
}

void bl_webhook_ed25519_aad(const char *id, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/ed25519", id);
}

int bl_webhook_endpoint_kafka_password(const bl_webhook_endpoint *e, const bl_keyring *kr, char **out,
                                       bl_err *err)
{
    *out = NULL;
    if (!e->kafka_password_sealed)
        return 0;
    if (!kr)
        return bl_err_set(err, BL_EINVAL, "webhook endpoint %s: no keyring to open its Kafka password", e->id);
    char aad[BL_WEBHOOK_ID_MAX + 16];
    bl_webhook_kafka_password_aad(e->id, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (bl_keyring_open(kr, e->kafka_password_sealed, aad, strlen(aad), &plain, &len, err) != 0)
        return bl_err_wrap(err, "webhook endpoint %s: Kafka password", e->id);
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, plain, len);
        text[len] = '\0';
    }
    OPENSSL_cleanse(plain, len);
    free(plain);
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "webhook endpoint %s: out of memory", e->id);
    *out = text;
    return 0;
}

/* Opens one sealed "whsk_" key of endpoint id and parses it. */
static int open_ed25519(const bl_keyring *kr, const char *sealed, const char *id, bl_webhook_ed25519_key *out,
                        bl_err *err)
{
    char aad[BL_WEBHOOK_ID_MAX + 16];
    bl_webhook_ed25519_aad(id, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (bl_keyring_open(kr, sealed, aad, strlen(aad), &plain, &len, err) != 0)
        return bl_err_wrap(err, "webhook endpoint %s: ed25519 key", id);
    int rc = bl_webhook_ed25519_parse((const char *)plain, out, err);
    OPENSSL_cleanse(plain, len);
    free(plain);
    if (rc == 0 && !out->has_private)
        rc = bl_err_set(err, BL_ECRYPTO, "sealed key is not a signing key");
    return rc == 0 ? 0 : bl_err_wrap(err, "webhook endpoint %s: ed25519 key", id);
}

int bl_webhook_endpoint_keys_open(const bl_webhook_endpoint *e, const bl_keyring *kr, int64_t now_ms,
                                  bl_webhook_keys *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (bl_webhook_endpoint_secrets(e, kr, now_ms, &out->secret, &out->previous_secret, &out->previous_until_ms,
                                    err) != 0)
        return -1;
    if (e->ed25519_key_sealed && open_ed25519(kr, e->ed25519_key_sealed, e->id, &out->ed, err) != 0)
        goto fail;
    if (e->previous_ed25519_key_sealed && e->previous_ed25519_expires_ms > now_ms) {
        if (open_ed25519(kr, e->previous_ed25519_key_sealed, e->id, &out->ed_previous, err) != 0)
            goto fail;
        out->ed_previous_until_ms = e->previous_ed25519_expires_ms;
    }
    return 0;
fail:
    bl_webhook_keys_wipe(out);
    return -1;
}

bl_webhook_rotation bl_webhook_keys_rotation(const bl_webhook_endpoint *e, const bl_webhook_keys *k)
{
    return (bl_webhook_rotation){
        .current = &k->secret,
        .previous = k->previous_secret.len ? &k->previous_secret : NULL,
        .previous_until = k->previous_until_ms / 1000,
        .scheme = e->signature_scheme,
        .ed_current = k->ed.set ? &k->ed : NULL,
        .ed_previous = k->ed_previous.set ? &k->ed_previous : NULL,
        .ed_previous_until = k->ed_previous_until_ms / 1000,
    };
}

void bl_webhook_keys_wipe(bl_webhook_keys *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof *k);
}

/* An RFC 3339 string for unix ms, or JSON null for 0. */
static json_t *time_json(int64_t ms)
{
    char text[BL_RFC3339_MS_SIZE];
    if (ms == 0 || bl_rfc3339_from_ms(ms, text, NULL) != 0)
        return json_null();
    return json_string(text);
}

json_t *bl_webhook_endpoint_to_json(const bl_webhook_endpoint *e)
{
    json_t *types = json_array();
    for (size_t i = 0; types && i < e->event_type_count; i++)
        json_array_append_new(types, json_string(e->event_types[i]));
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:O, s:O, s:b, s:o, s:b, s:b, s:i, s:I, s:i, s:o, s:o, "
        "s:i, s:o, s:o, s:o, s:o, s:o}",
        "id", e->id, "organization_id", e->organization_id, "name", e->name, "url", e->url,
        "event_types", types ? types : json_array(), "conditions", e->conditions, "headers",
        e->headers, "active", e->active, "disabled_reason",
        e->disabled_reason ? json_string(e->disabled_reason) : json_null(), "legacy_signature",
        e->legacy_signature, "strict_order", e->strict_order, "max_attempts", e->max_attempts,
        "backoff_base_ms", (json_int_t)e->backoff_base_ms, "timeout_ms", e->timeout_ms,
        "rate_limit_per_s", e->rate_limit_per_s > 0 ? json_real(e->rate_limit_per_s) : json_null(),
        "rate_limit_burst", e->rate_limit_per_s > 0 ? json_integer(e->rate_limit_burst) : json_null(),
        "consecutive_failures", e->consecutive_failures, "failing_since",
        time_json(e->failing_since_ms), "previous_secret_until",
        time_json(e->previous_secret_sealed ? e->previous_secret_expires_ms : 0), "created_at",
        time_json(e->created_ms), "updated_at", time_json(e->updated_ms), "signature_header",
        e->hmac_header ? json_string(e->hmac_header) : json_null());
    if (!j)
        return NULL;
    bool prev_ed = e->previous_ed25519_public_key != NULL;
    json_object_set_new(j, "payload_format", json_string(bl_webhook_payload_format_name(e->payload_format)));
    json_object_set_new(j, "signature_scheme", json_string(bl_webhook_scheme_name(e->signature_scheme)));
    json_object_set_new(j, "public_key", e->ed25519_public_key ? json_string(e->ed25519_public_key) : json_null());
    json_object_set_new(j, "previous_public_key",
                        prev_ed ? json_string(e->previous_ed25519_public_key) : json_null());
    json_object_set_new(j, "previous_public_key_until", time_json(prev_ed ? e->previous_ed25519_expires_ms : 0));
    json_t *schedule = e->retry_schedule_len ? json_array() : json_null();
    for (size_t i = 0; i < e->retry_schedule_len; i++)
        json_array_append_new(schedule, json_integer(e->retry_schedule_s[i]));
    json_object_set_new(j, "retry_schedule", schedule);
    json_object_set_new(j, "max_age_seconds", e->max_age_s ? json_integer(e->max_age_s) : json_null());
    json_object_set_new(j, "ordering", json_string(bl_webhook_ordering_name(e->strict_order)));
    json_t *tls = bl_webhook_tls_json(e->tls_client_cert, e->tls_ca_cert);
    json_object_set_new(j, "tls", tls ? tls : json_null());
    json_object_set_new(j, "transformation", e->transformation ? json_incref(e->transformation) : json_null());
    json_object_set_new(j, "type", json_string(e->kafka ? "kafka" : "http"));
    json_object_set_new(j, "kafka", e->kafka ? bl_webhook_kafka_to_json(e->kafka, e->kafka_password_sealed != NULL)
                                             : json_null());
    return j;
}

const char *bl_webhook_payload_format_name(bl_webhook_payload_format f)
{
    return f == BL_WEBHOOK_PAYLOAD_SMARTLEAKPRO ? "smartleakpro" : "standard";
}
