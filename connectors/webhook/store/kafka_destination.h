/* A webhook endpoint of type "kafka": the organization's own cluster and
 * topic its matching events are produced to instead of being POSTed
 * (issue 21 item 6). Parsing from the API's JSON shape, validation (the
 * brokers list and, through the SSRF guard, every broker address, as for a
 * URL), serialising to the API and to the webhook_endpoints.kafka column.
 * The SASL password is never part of these settings: it is sealed with the
 * keyring beside them (kafka_sasl_password_sealed) and never returned. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_KAFKA_DESTINATION_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_KAFKA_DESTINATION_H

#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BL_KDEST_BROKERS_MAX 16            /* brokers in the bootstrap list */
#define BL_KDEST_BROKERS_TEXT_MAX 2048     /* "host:port,host:port" */
#define BL_KDEST_TOPIC_MAX 249             /* Kafka's own limit */
#define BL_KDEST_USERNAME_MAX 256
#define BL_KDEST_PASSWORD_MAX 1024
#define BL_KDEST_CA_MAX (64 * 1024)        /* PEM bundle */
#define BL_KDEST_URL_MAX (BL_KDEST_BROKERS_TEXT_MAX + BL_KDEST_TOPIC_MAX + 16)

/* The settings of a Kafka destination; every string owned (NULL: unset).
 * Free the fields with bl_webhook_kafka_clear. */
typedef struct bl_webhook_kafka {
    char *brokers;           /* "host:port,...", normalised (no spaces) */
    char *topic;
    char *security_protocol; /* "plaintext" | "ssl" | "sasl_plaintext" | "sasl_ssl" */
    char *sasl_mechanism;    /* "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; with sasl_* only */
    char *sasl_username;     /* with sasl_* only */
    char *ssl_ca_pem;        /* PEM certificates; with ssl / sasl_ssl only */
} bl_webhook_kafka;

/* Frees what k holds and zeroes it. Accepts NULL. */
void bl_webhook_kafka_clear(bl_webhook_kafka *k);

/* A deep copy of k into out. Returns 0, or -1 with err (BL_ENOMEM). */
int bl_webhook_kafka_copy(const bl_webhook_kafka *k, bl_webhook_kafka *out, bl_err *err);

/* Reads the API's object {brokers (string "h:p,h:p" or array of "h:p"),
 * topic, securityProtocol (default "plaintext"), saslMechanism,
 * saslUsername, saslPassword, sslCaCertificate} into out, whose strings
 * are then borrowed from obj and brokers_buf (the normalised list, at least
 * BL_KDEST_BROKERS_TEXT_MAX + 1 bytes): never bl_webhook_kafka_clear it.
 * *password (may be NULL) gets saslPassword, borrowed (NULL when absent).
 * Shape only; bl_webhook_kafka_check does the rest. Returns 0, or -1 with
 * BL_EINVAL naming the field ("kafka.topic: must be a string"). */
int bl_webhook_kafka_read_json(const json_t *obj, bl_webhook_kafka *out, char *brokers_buf, size_t brokers_cap,
                               const char **password, bl_err *err);

/* Checks k: 1..BL_KDEST_BROKERS_MAX brokers each "host:port" (IPv6 in
 * brackets, port 1..65535) whose host resolves to an address the SSRF
 * guard accepts with allow (may be NULL), as for an endpoint URL; a topic
 * of 1..249 of [a-zA-Z0-9._-] other than "." and ".."; a known protocol;
 * with a sasl_* protocol a mechanism, a username and (has_password) a
 * password; the CA only with an ssl protocol and as PEM. Returns 0, or -1
 * with BL_EINVAL and a message naming the field ("kafka.brokers[1]: ..."). */
int bl_webhook_kafka_check(const bl_webhook_kafka *k, bool has_password, const bl_ssrf_allowlist *allow,
                           bl_err *err);

/* 1 when protocol needs SASL credentials. */
bool bl_webhook_kafka_uses_sasl(const bl_webhook_kafka *k);

/* k as the API shows it (camelCase, the password only as
 * "saslPasswordSet": has_password). New reference, or NULL (out of memory). */
json_t *bl_webhook_kafka_to_json(const bl_webhook_kafka *k, bool has_password);

/* k as the webhook_endpoints.kafka column's text (no password). Caller
 * frees; NULL when out of memory. */
char *bl_webhook_kafka_column_text(const bl_webhook_kafka *k);

/* Reads the column's text back into out (owned). Returns 0, or -1 with err. */
int bl_webhook_kafka_from_column(const char *text, bl_webhook_kafka *out, bl_err *err);

/* "kafka://<brokers>/<topic>" into out (BL_KDEST_URL_MAX bytes): what a
 * Kafka endpoint's url column holds for lists and logs. */
void bl_webhook_kafka_url(const bl_webhook_kafka *k, char *out, size_t out_len);

/* The associated data a destination's sealed password is bound to:
 * "<endpoint id>/kafka" into out. */
void bl_webhook_kafka_password_aad(const char *endpoint_id, char *out, size_t out_len);

#endif
