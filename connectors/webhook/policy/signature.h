/* Webhook signatures: Standard Webhooks v1 (HMAC-SHA256 over
 * "msg_id.timestamp.body", header "webhook-signature: v1,<base64>"), the
 * legacy "X-Signature: sha256=<hex>" header, secrets in the "whsec_<base64>"
 * form, and rotation (old and new secret both sign during an overlap); the
 * header also carries v1a (ed25519, signature_v1a.h) entries by scheme.
 * Nothing here puts key bytes or signatures into an error message. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_POLICY_SIGNATURE_H
#define BUSLINE_CONNECTORS_WEBHOOK_POLICY_SIGNATURE_H

#include "core/crypto.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_SECRET_PREFIX "whsec_"
#define BL_WEBHOOK_SECRET_MIN_BYTES 24 /* the spec's minimum key size */
#define BL_WEBHOOK_SECRET_MAX_BYTES 64
#define BL_WEBHOOK_SECRET_NEW_BYTES 32 /* what bl_webhook_secret_generate draws */
/* "whsec_" + base64 of the largest key + NUL */
#define BL_WEBHOOK_SECRET_TEXT_MAX (6 + 88 + 1)
/* One "v1,<44 base64 chars>" + NUL */
#define BL_WEBHOOK_SIG_MAX 48
/* One "v1a,<88 base64 chars>" (ed25519, signature_v1a.h) + NUL */
#define BL_WEBHOOK_SIG_V1A_MAX 93
/* Up to two v1 and two v1a signatures separated by spaces (rotation) + NUL */
#define BL_WEBHOOK_SIG_HEADER_MAX (2 * BL_WEBHOOK_SIG_MAX + 2 * BL_WEBHOOK_SIG_V1A_MAX)
/* "sha256=" + 64 hex digits + NUL */
#define BL_WEBHOOK_LEGACY_SIG_MAX 72
/* Message ids are header values and part of the signed text: bounded. */
#define BL_WEBHOOK_MSG_ID_MAX 255
/* Default replay window of the verifier, in seconds. */
#define BL_WEBHOOK_TOLERANCE_DEFAULT_S 300

/* The HMAC key: the base64-decoded bytes of a "whsec_" secret, and the
 * secret's text as shown to the user (the key of the per-endpoint HMAC
 * header, which receivers compute with the string they were given). */
typedef struct bl_webhook_secret {
    uint8_t key[BL_WEBHOOK_SECRET_MAX_BYTES];
    size_t len;
    char text[BL_WEBHOOK_SECRET_TEXT_MAX];
} bl_webhook_secret;

/* Parses "whsec_<standard base64 of 24..64 bytes>" into out. Fails with
 * BL_EINVAL and a message saying what is wrong (missing prefix, not base64,
 * key too short / long) without quoting the secret. Returns 0 or -1. */
int bl_webhook_secret_parse(const char *text, bl_webhook_secret *out, bl_err *err);

/* The key of a secret's text as the store keeps it: a "whsec_" secret as
 * bl_webhook_secret_parse reads it; any other text (a secret the caller
 * chose, as the SmartLeakPro surface lets them) is its own bytes as the
 * key: 1..BL_WEBHOOK_SECRET_MAX_BYTES printable ASCII characters. Returns 0,
 * or -1 with BL_EINVAL (never quoting the secret). */
int bl_webhook_secret_from_text(const char *text, bl_webhook_secret *out, bl_err *err);

/* Writes a fresh "whsec_" + base64(32 random bytes) + NUL into out (at least
 * BL_WEBHOOK_SECRET_TEXT_MAX bytes). Returns 0 or -1 with err filled. */
int bl_webhook_secret_generate(char *out, size_t out_len, bl_err *err);

/* Wipes the key bytes (e.g. before the secret goes out of scope). */
void bl_webhook_secret_wipe(bl_webhook_secret *secret);

/* Checks a message id before it is signed or sent: 1..255 printable ASCII
 * characters, no '.', space or ',' (they would make the signed text or the
 * header ambiguous). Returns 0, or -1 with BL_EINVAL. */
int bl_webhook_msg_id_check(const char *msg_id, bl_err *err);

/* Signs a webhook body per Standard Webhooks v1.
 * secret: raw key bytes (already base64-decoded); out: caller's buffer of at
 * least BL_WEBHOOK_SIG_MAX bytes, receives "v1,<base64>". timestamp is unix
 * seconds (>= 0). Returns 0, or -1 with err filled. */
int bl_webhook_sign_v1(const uint8_t *secret, size_t secret_len,
                       const char *msg_id, int64_t timestamp,
                       const char *body, size_t body_len,
                       char *out, size_t out_len, bl_err *err);

/* Writes the legacy "sha256=<lowercase hex HMAC-SHA256 of body>" (key: the
 * same raw secret bytes) into out (at least BL_WEBHOOK_LEGACY_SIG_MAX bytes).
 * Returns 0 or -1 with err filled. */
int bl_webhook_sign_legacy(const uint8_t *secret, size_t secret_len,
                           const char *body, size_t body_len,
                           char *out, size_t out_len, bl_err *err);

/* Writes "sha256=<lowercase hex HMAC-SHA256 of body>" keyed with the
 * secret's text ("whsec_..." exactly as shown to the user, not the decoded
 * bytes) into out (at least BL_WEBHOOK_LEGACY_SIG_MAX bytes): the value of
 * an endpoint's hmac_header (X-Powalyze-Signature, X-Webhook-Signature).
 * Returns 0 or -1 with err filled. */
int bl_webhook_sign_text_keyed(const bl_webhook_secret *secret, const char *body, size_t body_len,
                               char *out, size_t out_len, bl_err *err);

/* Which signatures an endpoint's webhook-signature header carries. */
typedef enum bl_webhook_scheme {
    BL_WEBHOOK_SCHEME_V1 = 1,   /* HMAC-SHA256 ("v1,") */
    BL_WEBHOOK_SCHEME_V1A = 2,  /* ed25519 ("v1a,", signature_v1a.h) */
    BL_WEBHOOK_SCHEME_BOTH = 3, /* both, v1 first */
} bl_webhook_scheme;

/* "v1", "v1a" or "both" (static string). */
const char *bl_webhook_scheme_name(bl_webhook_scheme s);

/* The scheme named name ("v1", "v1a", "both"), or 0 when name is none. */
bl_webhook_scheme bl_webhook_scheme_parse(const char *name);

/* An ed25519 key of signature_v1a.h (complete type there). */
typedef struct bl_webhook_ed25519_key bl_webhook_ed25519_key;

/* An endpoint's signing secrets during a rotation. Borrowed pointers. */
typedef struct bl_webhook_rotation {
    const bl_webhook_secret *current;
    const bl_webhook_secret *previous; /* NULL when there is no old secret */
    int64_t previous_until;            /* unix s: previous also signs while now < this */
    bl_webhook_scheme scheme;          /* 0: BL_WEBHOOK_SCHEME_V1 */
    /* The ed25519 signing keys, read when scheme has v1a (NULL otherwise). */
    const bl_webhook_ed25519_key *ed_current;
    const bl_webhook_ed25519_key *ed_previous; /* NULL when there is no old key */
    int64_t ed_previous_until;                 /* unix s, as previous_until */
} bl_webhook_rotation;

/* Writes the whole webhook-signature header value into out (at least
 * BL_WEBHOOK_SIG_HEADER_MAX bytes), space-separated: for v1 "v1,<current>"
 * and, while the previous secret is within its overlap at time now,
 * "v1,<previous>"; for v1a the same with the ed25519 keys ("v1a,<sig>"),
 * after the v1 ones. A v1a scheme without ed_current fails. current is only
 * read when the scheme has v1. Returns 0 or -1 with err filled. */
int bl_webhook_sign_header(const bl_webhook_rotation *keys, int64_t now,
                           const char *msg_id, int64_t timestamp,
                           const char *body, size_t body_len,
                           char *out, size_t out_len, bl_err *err);

/* What a verification found; BL_WEBHOOK_VERIFY_OK is 0. */
typedef enum bl_webhook_verdict {
    BL_WEBHOOK_VERIFY_OK = 0,
    BL_WEBHOOK_VERIFY_MISSING_HEADER, /* webhook-id, -timestamp or -signature absent */
    BL_WEBHOOK_VERIFY_BAD_ID,         /* webhook-id fails bl_webhook_msg_id_check */
    BL_WEBHOOK_VERIFY_BAD_TIMESTAMP,  /* not a decimal unix time */
    BL_WEBHOOK_VERIFY_TOO_OLD,        /* older than now - tolerance */
    BL_WEBHOOK_VERIFY_TOO_NEW,        /* newer than now + tolerance */
    BL_WEBHOOK_VERIFY_NO_MATCH,       /* no v1 signature (or legacy one) matches */
} bl_webhook_verdict;

/* A short name for a verdict ("ok", "timestamp too old", ...); static string. */
const char *bl_webhook_verdict_name(bl_webhook_verdict v);

/* The checks a verifier makes before any signature: the three header values
 * present, the id well formed, the timestamp a unix time within now +-
 * tolerance_s (a negative tolerance_s skips that). *ts gets the timestamp.
 * Returns BL_WEBHOOK_VERIFY_OK or the first failed check, with err filled. */
bl_webhook_verdict bl_webhook_verify_envelope(const char *msg_id, const char *timestamp,
                                              const char *signature_header, int64_t now,
                                              int64_t tolerance_s, int64_t *ts, bl_err *err);

/* The signed content "msg_id.timestamp.body" as five parts (no copy of the
 * body) after checking the id and timestamp; ts_buf (at least 21 bytes)
 * holds the timestamp's text the parts point at. Returns 0 or -1 (BL_EINVAL). */
int bl_webhook_signed_parts(const char *msg_id, int64_t timestamp, const char *body, size_t body_len,
                            char ts_buf[21], bl_bytes parts[5], bl_err *err);

/* Verifies a received webhook: the three header values (any may be NULL =
 * absent), the raw body, the secret, the clock (now, unix s) and the replay
 * window: the timestamp must lie within now +- tolerance_s (a negative
 * tolerance_s skips that check, e.g. to check an archived delivery).
 * The signature header is a space-separated list; entries of other versions
 * (v1a, v2) are skipped, and any v1 entry matching in constant time is enough.
 * Returns the verdict; on anything but OK, err says which check failed. */
bl_webhook_verdict bl_webhook_verify_v1(const bl_webhook_secret *secret,
                                        const char *msg_id, const char *timestamp,
                                        const char *signature_header,
                                        const char *body, size_t body_len,
                                        int64_t now, int64_t tolerance_s, bl_err *err);

/* Verifies a legacy "sha256=<hex>" header value (hex in either case) against
 * the body, in constant time. Returns BL_WEBHOOK_VERIFY_OK, _MISSING_HEADER
 * or _NO_MATCH, with err filled on failure. */
bl_webhook_verdict bl_webhook_verify_legacy(const bl_webhook_secret *secret, const char *header,
                                            const char *body, size_t body_len, bl_err *err);

/* Verifies an endpoint's HMAC header value (X-Webhook-Signature,
 * X-Powalyze-Signature: "sha256=<hex>", either case) keyed with the secret's
 * text as bl_webhook_sign_text_keyed signs it, in constant time. name: the
 * header's name, for err. Returns BL_WEBHOOK_VERIFY_OK, _MISSING_HEADER or
 * _NO_MATCH, with err filled on failure. */
bl_webhook_verdict bl_webhook_verify_text_keyed(const bl_webhook_secret *secret, const char *name,
                                                const char *header, const char *body, size_t body_len,
                                                bl_err *err);

#endif
