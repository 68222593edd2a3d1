/* An endpoint's TLS settings (migrations/196_webhook_endpoint_tls.sql): a
 * client certificate and its private key for mutual TLS, and a CA bundle
 * that replaces the system's trust store for that endpoint, all PEM text.
 * Checked here with OpenSSL before they are saved; what people and the API
 * see of them is a certificate's fingerprint, subject and expiry, never the
 * key (sealed in the store, opened only by the delivery workers' cache). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_POLICY_ENDPOINT_TLS_H
#define BUSLINE_CONNECTORS_WEBHOOK_POLICY_ENDPOINT_TLS_H

#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_TLS_PEM_MAX (64 * 1024) /* each PEM text */
#define BL_WEBHOOK_TLS_CA_MAX 16            /* certificates in a CA bundle */

/* What is shown of a certificate. */
typedef struct bl_webhook_cert_info {
    char fingerprint_sha256[96]; /* "AB:CD:..." of the DER, as openssl x509 -fingerprint prints it */
    char subject[256];           /* RFC 2253 one-line form */
    char issuer[256];
    int64_t not_after_ms;        /* expiry, unix ms */
    int count;                   /* certificates in the PEM (the first one described) */
} bl_webhook_cert_info;

/* Describes the first certificate of pem (borrowed) in out, counting all of
 * them. Returns 0, or -1 with BL_EINVAL (no certificate, not PEM, more than
 * BL_WEBHOOK_TLS_CA_MAX) naming field ("tls: <field> ..."). */
int bl_webhook_cert_info_of(const char *pem, const char *field, bl_webhook_cert_info *out, bl_err *err);

/* Checks an endpoint's TLS settings (any may be NULL): cert and key come
 * together, each is at most BL_WEBHOOK_TLS_PEM_MAX bytes and parses, the key
 * is the certificate's, and ca holds 1..BL_WEBHOOK_TLS_CA_MAX certificates.
 * Returns 0, or -1 with BL_EINVAL "tls: ..." naming the setting (the key's
 * bytes never appear in a message). */
int bl_webhook_tls_check(const char *cert, const char *key, const char *ca, bl_err *err);

/* The API's view of the settings: {"clientCertificate": {fingerprint_sha256,
 * subject, issuer, expires_at} or null, "caCertificate": {...} or null} for
 * the PEMs given (borrowed; NULL: not set); NULL when neither is set or a
 * PEM no longer parses. Returns a new reference or NULL. */
json_t *bl_webhook_tls_json(const char *cert, const char *ca);

#endif
