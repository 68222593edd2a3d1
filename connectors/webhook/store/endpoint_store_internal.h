/* Shared between the endpoint store's files; not a public API. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_STORE_INTERNAL_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_STORE_INTERNAL_H

#include "connectors/webhook/store/endpoint_store.h"

#include <libpq-fe.h>

/* The store's allow-list (borrowed; NULL when none). */
const bl_ssrf_allowlist *bl_webhook_store_allow(const bl_webhook_store *st);

/* The store's options with defaults applied (borrowed). */
const bl_webhook_store_opts *bl_webhook_store_opts_of(const bl_webhook_store *st);

/* Refuses (BL_ENOTFOUND) an id no endpoint can have: empty or too long. */
int bl_webhook_id_check(const char *id, bl_err *err);

/* The columns every endpoint read selects, in the order
 * bl_webhook_endpoint_from_row reads them. */
#define BL_WEBHOOK_MS(col) "(extract(epoch from " col ") * 1000)::bigint"
#define BL_WEBHOOK_ENDPOINT_COLS                                                             \
    "id, organization_id, name, url, array_to_json(event_types)::text, conditions::text, "  \
    "headers::text, active, disabled_reason, legacy_signature, strict_order, max_attempts, " \
    "backoff_base_ms, timeout_ms, rate_limit_per_s, rate_limit_burst, consecutive_failures, " \
    BL_WEBHOOK_MS("failure_window_started_at") ", secret_sealed, previous_secret_sealed, "   \
    BL_WEBHOOK_MS("previous_secret_expires_at") ", " BL_WEBHOOK_MS("created_at") ", "        \
    BL_WEBHOOK_MS("updated_at") ", hmac_header, payload_format, signature_scheme, "          \
    "ed25519_key_sealed, ed25519_public_key, previous_ed25519_key_sealed, "                  \
    "previous_ed25519_public_key, " BL_WEBHOOK_MS("previous_ed25519_expires_at") ", "            \
    "array_to_json(retry_schedule)::text, max_age_seconds, transformation::text, "            \
    "destination_type, kafka::text, kafka_sasl_password_sealed, " BL_WEBHOOK_TLS_COLS

/* The TLS columns (endpoint_tls_row.c), read from BL_WEBHOOK_TLS_COL0 on;
 * the egress proxy comes from the endpoint's organization. */
#define BL_WEBHOOK_TLS_COL0 37
#define BL_WEBHOOK_TLS_COLS                                                                 \
    "tls_client_certificate, tls_client_key_sealed, tls_ca_certificate, "                   \
    "(SELECT x.url FROM organization_egress_proxies x "                                     \
    "WHERE x.organization_id = webhook_endpoints.organization_id)"

/* Reads the TLS columns of row into e. Returns 0, or -1 out of memory. */
int bl_webhook_endpoint_tls_from_row(bl_webhook_endpoint *e, const PGresult *res, int row);

/* The TLS settings of spec as parameters of INSERT/UPDATE for endpoint id:
 * change ("keep", "set", "clear"), certificate, sealed key, CA. Owns the
 * sealed key; clear with bl_webhook_tls_params_clear. */
typedef struct bl_webhook_tls_params {
    const char *change, *cert, *ca;
    char *key_sealed;
} bl_webhook_tls_params;

/* Fills p from spec, sealing its key with kr for endpoint id. Returns 0, or
 * -1 with err (BL_EINVAL: a key to seal and no keyring). */
int bl_webhook_tls_params_fill(const bl_webhook_spec *spec, const bl_keyring *kr, const char *id,
                               bl_webhook_tls_params *p, bl_err *err);
void bl_webhook_tls_params_clear(bl_webhook_tls_params *p);

/* SQL of the TLS columns' new values from parameters $c (change), $c+1..$c+3. */
#define BL_WEBHOOK_TLS_SET_SQL(c, c1, c2, c3)                                                \
    "tls_client_certificate = CASE " c " WHEN 'keep' THEN tls_client_certificate WHEN 'set' THEN " c1 " END, " \
    "tls_client_key_sealed = CASE " c " WHEN 'keep' THEN tls_client_key_sealed WHEN 'set' THEN " c2 " END, "  \
    "tls_ca_certificate = CASE " c " WHEN 'keep' THEN tls_ca_certificate WHEN 'set' THEN " c3 " END"

/* A Kafka destination's columns (kafka_destination.h) as INSERT/UPDATE
 * parameters: type, url text, kafka column, the sealed password, and
 * whether SASL is on. Owns column and password_sealed; clear with
 * bl_webhook_kafka_params_clear. */
typedef struct bl_webhook_kafka_params {
    char url[BL_KDEST_URL_MAX]; /* what the url column holds */
    char *column;               /* the kafka column's text, NULL: HTTP */
    char *password_sealed;      /* the new password sealed, NULL: none given */
    const char *type, *sasl;
} bl_webhook_kafka_params;

/* Fills k for endpoint id from spec: the url text, the column and the
 * password sealed with the store's keyring. Returns 0 or -1 with err
 * (nothing left to clear). */
int bl_webhook_kafka_params_fill(const bl_webhook_store *st, const char *id, const bl_webhook_spec *spec,
                                 bl_webhook_kafka_params *k, bl_err *err);
void bl_webhook_kafka_params_clear(bl_webhook_kafka_params *k);

/* Whether endpoint id has a sealed Kafka password (an update that gives
 * none keeps it) into *stored. Returns 0 or -1 with err. */
int bl_webhook_kafka_password_stored(const bl_webhook_store *st, const char *id, bool *stored, bl_err *err);

/* bl_webhook_spec_check for an update: password_stored says the endpoint
 * already has a sealed Kafka password that the update keeps. */
int bl_webhook_spec_check_kept(const bl_webhook_store *st, const bl_webhook_spec *spec, bool password_stored,
                               bl_err *err);

/* The associated data an endpoint's sealed ed25519 key is bound to:
 * "<id>/ed25519" into out (at least BL_WEBHOOK_ID_MAX + 9 bytes). */
void bl_webhook_ed25519_aad(const char *id, char *out, size_t out_len);

/* Builds an endpoint from row of res (selected with BL_WEBHOOK_ENDPOINT_COLS).
 * Returns it (caller frees), or NULL with err. */
bl_webhook_endpoint *bl_webhook_endpoint_from_row(const PGresult *res, int row, bl_err *err);

#endif
