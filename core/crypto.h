/* Hashes, MACs, randomness, text encodings and authenticated encryption at
 * rest, over OpenSSL 3 EVP. Nothing here ever puts key material or secret
 * input into an error message. */
#ifndef BUSLINE_CORE_CRYPTO_H
#define BUSLINE_CORE_CRYPTO_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_SHA256_LEN 32
#define BL_SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

/* Writes SHA-256 of data[0..len) into out. Returns 0, or -1 with err filled. */
int bl_sha256(const void *data, size_t len, uint8_t out[BL_SHA256_LEN], bl_err *err);

/* Writes SHA-256 of data as 64 lowercase hex digits + NUL into out. Returns 0
 * or -1 with err filled. */
int bl_sha256_hex(const void *data, size_t len, char out[BL_SHA256_HEX_SIZE], bl_err *err);

/* One piece of a message that is MACed without being joined first. */
typedef struct bl_bytes {
    const void *data;
    size_t len;
} bl_bytes;

/* HMAC-SHA256 of data under key (any length, also 0). Returns 0 or -1. */
int bl_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   uint8_t out[BL_SHA256_LEN], bl_err *err);

/* HMAC-SHA256 of the concatenation of parts[0..nparts), e.g. the Standard
 * Webhooks "id.timestamp.body" without copying the body. Returns 0 or -1. */
int bl_hmac_sha256_parts(const void *key, size_t key_len, const bl_bytes *parts, size_t nparts,
                         uint8_t out[BL_SHA256_LEN], bl_err *err);

/* True when a[0..len) equals b[0..len); time depends only on len
 * (CRYPTO_memcmp), so it is safe for comparing MACs and token hashes. */
bool bl_crypto_equal(const void *a, const void *b, size_t len);

/* Fills buf with len bytes from the OpenSSL CSPRNG. Returns 0 or -1. */
int bl_random_bytes(void *buf, size_t len, bl_err *err);

/* Number of base62 digits a token of nbytes random bytes takes:
 * ceil(8 * nbytes / log2(62)), i.e. the digits of 256^nbytes - 1 (43 for 32
 * bytes). Tokens are always this long (zero-padded with '0'). */
size_t bl_base62_len(size_t nbytes);

#define BL_TOKEN_MAX_BYTES 64

/* Writes prefix + base62(nbytes random bytes) + NUL into out (caller's buffer
 * of at least strlen(prefix) + bl_base62_len(nbytes) + 1). The random bytes
 * are read as one big-endian number, so every token maps to exactly one byte
 * string and keeps all 8 * nbytes bits of entropy. nbytes is 1..64.
 * Example: bl_random_token("bl_live_", 32, ...) gives "bl_live_" + 43 chars.
 * Returns 0 or -1 with err filled. */
int bl_random_token(const char *prefix, size_t nbytes, char *out, size_t out_len, bl_err *err);

/* Writes 2 * len lowercase hex digits + NUL into out (caller's buffer of at
 * least 2 * len + 1). */
void bl_hex_encode(const void *data, size_t len, char *out);

/* The value 0..15 of one hex digit (either case), or -1 when c is not one. */
int bl_hex_value(char c);

/* Size of the standard, padded base64 text of n bytes, including the NUL. */
size_t bl_base64_encoded_size(size_t n);

/* Writes the standard padded base64 of data + NUL into out (out_len at least
 * bl_base64_encoded_size(len)). Returns 0, or -1 when out is too small. */
int bl_base64_encode(const void *data, size_t len, char *out, size_t out_len, bl_err *err);

/* Decodes standard padded base64 text[0..text_len) into out (capacity
 * out_cap; 3 * text_len / 4 always suffices) and sets *out_len. Rejects with
 * BL_EINVAL: characters outside the alphabet, whitespace, a length not a
 * multiple of 4, misplaced padding, non-zero unused bits. Returns 0 or -1. */
int bl_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap,
                     size_t *out_len, bl_err *err);

/* Fills err with BL_ECRYPTO "crypto: <what>: <OpenSSL's oldest queued
 * error>" and clears OpenSSL's error queue. Returns -1. */
int bl_crypto_openssl_err(bl_err *err, const char *what);

/* ---- AES-256-GCM at rest, with key ids for rotation ----
 *
 * A sealed value is the text "v1.<keyid>.<base64(nonce[12] || ciphertext ||
 * tag[16])>". The nonce is random per seal. The GCM associated data is the
 * header "v1.<keyid>." followed by the caller's aad, so the key id cannot be
 * swapped and a value can be bound to e.g. its endpoint id. */

#define BL_KEY_ID_MAX 32 /* key ids: 1..32 of [A-Za-z0-9_-] */
#define BL_KEYRING_ENV_KEYS "BUSLINE_ENCRYPTION_KEYS"
#define BL_KEYRING_ENV_ACTIVE "BUSLINE_ENCRYPTION_KEY_ID"

typedef struct bl_keyring bl_keyring;

/* Parses "keyid:base64(32 bytes)[,keyid:base64...]". The active key (used
 * by seal) is active_id when non-NULL and non-empty, else the first entry.
 * Every key opens values sealed under its id. Returns a keyring the caller
 * frees with bl_keyring_free, or NULL with err filled (never quoting keys). */
bl_keyring *bl_keyring_parse(const char *spec, const char *active_id, bl_err *err);

/* bl_keyring_parse of $BUSLINE_ENCRYPTION_KEYS with $BUSLINE_ENCRYPTION_KEY_ID. */
bl_keyring *bl_keyring_from_env(bl_err *err);

/* Wipes every key and frees the keyring. Accepts NULL. */
void bl_keyring_free(bl_keyring *kr);

/* The id seal uses; borrowed from kr. */
const char *bl_keyring_active_id(const bl_keyring *kr);

/* Encrypts plain[0..len) under the active key, bound to aad[0..aad_len)
 * (aad may be NULL when aad_len is 0). Returns the sealed NUL-terminated text
 * (caller frees with free), or NULL with err filled. */
char *bl_keyring_seal(const bl_keyring *kr, const void *plain, size_t len, const void *aad,
                      size_t aad_len, bl_err *err);

/* Decrypts a sealed text with the key its id names, checking aad. On success
 * sets *plain to a malloc'd buffer (caller frees; one extra NUL byte follows
 * the *plain_len bytes so text secrets can be used as C strings) and returns
 * 0. Fails with -1 and err: BL_EINVAL for malformed text, BL_ENOTFOUND for an
 * unknown key id, BL_ECRYPTO when authentication fails (tampering, wrong aad). */
int bl_keyring_open(const bl_keyring *kr, const char *sealed, const void *aad, size_t aad_len,
                    uint8_t **plain, size_t *plain_len, bl_err *err);

#endif
