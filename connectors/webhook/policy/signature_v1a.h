/* Webhook signatures: Standard Webhooks v1a (ed25519 over
 * "msg_id.timestamp.body", header entry "v1a,<base64 of the 64-byte
 * signature>"), keys in the spec's text forms: the signing key
 * "whsk_<base64>" (the 32-byte RFC 8032 private key; the 64-byte
 * private||public form of libsodium is read too) and the public key
 * "whpk_<base64 of 32 bytes>" that receivers verify with. Nothing here puts
 * key bytes or signatures into an error message. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_POLICY_SIGNATURE_V1A_H
#define BUSLINE_CONNECTORS_WEBHOOK_POLICY_SIGNATURE_V1A_H

#include "connectors/webhook/policy/signature.h"
#include "core/ed25519.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_SIGNING_KEY_PREFIX "whsk_"
#define BL_WEBHOOK_PUBLIC_KEY_PREFIX "whpk_"
/* "whsk_" + base64 of 64 bytes + NUL (the longest key text read) */
#define BL_WEBHOOK_ED_KEY_TEXT_MAX (5 + 88 + 1)
/* "whpk_" + base64 of 32 bytes + NUL */
#define BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX (5 + 44 + 1)

/* An ed25519 key: a signing key (has_private: the private key and its
 * public key) or a public key only (verification). */
struct bl_webhook_ed25519_key {
    uint8_t private_key[BL_ED25519_SEED_LEN];
    uint8_t public_key[BL_ED25519_PUBLIC_LEN];
    bool has_private;
    bool set; /* false: no key (e.g. an endpoint without one) */
};

/* Draws a new key pair into out. Returns 0 or -1 with err. */
int bl_webhook_ed25519_generate(bl_webhook_ed25519_key *out, bl_err *err);

/* Parses "whsk_<base64 of 32 or 64 bytes>" (a 64-byte key's second half
 * must be the public key of its first) or "whpk_<base64 of 32 bytes>" into
 * out. Fails with BL_EINVAL saying what is wrong, never quoting the key.
 * Returns 0 or -1. */
int bl_webhook_ed25519_parse(const char *text, bl_webhook_ed25519_key *out, bl_err *err);

/* Writes "whsk_<base64 of the 32-byte private key>" + NUL into out (at least
 * BL_WEBHOOK_ED_KEY_TEXT_MAX bytes). Returns 0, or -1 (no private key,
 * buffer too small). */
int bl_webhook_ed25519_signing_text(const bl_webhook_ed25519_key *key, char *out, size_t out_len, bl_err *err);

/* Writes "whpk_<base64 of the public key>" + NUL into out (at least
 * BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX bytes). Returns 0 or -1. */
int bl_webhook_ed25519_public_text(const bl_webhook_ed25519_key *key, char *out, size_t out_len, bl_err *err);

/* Wipes the key bytes. Accepts NULL. */
void bl_webhook_ed25519_wipe(bl_webhook_ed25519_key *key);

/* Signs a webhook body per Standard Webhooks v1a with key (which must hold
 * a private key); out (at least BL_WEBHOOK_SIG_V1A_MAX bytes) receives
 * "v1a,<base64>". timestamp is unix seconds (>= 0). Returns 0 or -1. */
int bl_webhook_sign_v1a(const bl_webhook_ed25519_key *key, const char *msg_id, int64_t timestamp,
                        const char *body, size_t body_len, char *out, size_t out_len, bl_err *err);

/* Verifies a received webhook against public key key (a signing key's
 * public half is used when given one), with the header, id and timestamp
 * checks of bl_webhook_verify_v1. Entries of other versions (v1, v2) are
 * skipped; any v1a entry valid for the body is enough. Returns the verdict;
 * on anything but OK, err says which check failed. */
bl_webhook_verdict bl_webhook_verify_v1a(const bl_webhook_ed25519_key *key, const char *msg_id,
                                         const char *timestamp, const char *signature_header,
                                         const char *body, size_t body_len, int64_t now,
                                         int64_t tolerance_s, bl_err *err);

#endif
