/* AES-256-GCM sealing of secrets at rest, with a keyring for key rotation. */
#include "core/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define MAX_KEYS 16
#define SEAL_VERSION "v1"

typedef struct keyring_key {
    char id[BL_KEY_ID_MAX + 1];
    uint8_t key[KEY_LEN];
} keyring_key;

struct bl_keyring {
    keyring_key keys[MAX_KEYS];
    size_t nkeys;
    size_t active;
};

static bool key_id_valid(const char *id, size_t len)
{
    if (len == 0 || len > BL_KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static const keyring_key *keyring_find(const bl_keyring *kr, const char *id, size_t len)
{
    for (size_t i = 0; i < kr->nkeys; i++)
        if (strlen(kr->keys[i].id) == len && memcmp(kr->keys[i].id, id, len) == 0)
            return &kr->keys[i];
    return NULL;
}

/* Adds one "keyid:base64" entry; messages name the entry by position or id,
 * never by its text, since that text holds the key. */
static int keyring_add(bl_keyring *kr, const char *entry, size_t len, size_t pos, bl_err *err)
{
    const char *colon = memchr(entry, ':', len);
    if (!colon)
        return bl_err_set(err, BL_EINVAL, "crypto: key entry %zu: expected keyid:base64key", pos);
    size_t id_len = (size_t)(colon - entry);
    if (!key_id_valid(entry, id_len))
        return bl_err_set(err, BL_EINVAL,
                          "crypto: key entry %zu: key id must be 1..%d of [A-Za-z0-9_-]", pos,
                          BL_KEY_ID_MAX);
    char id[BL_KEY_ID_MAX + 1];
    memcpy(id, entry, id_len);
    id[id_len] = '\0';
    if (keyring_find(kr, id, id_len))
        return bl_err_set(err, BL_EINVAL, "crypto: key id %s appears twice", id);
    if (kr->nkeys == MAX_KEYS)
        return bl_err_set(err, BL_EINVAL, "crypto: more than %d keys", MAX_KEYS);

    keyring_key *k = &kr->keys[kr->nkeys];
    uint8_t raw[KEY_LEN + 3];
    size_t raw_len = 0;
    bl_err inner;
    const char *b64 = colon + 1;
    size_t b64_len = len - id_len - 1;
    int rc = bl_base64_decode(b64, b64_len, raw, sizeof raw, &raw_len, &inner);
    if (rc != 0 || raw_len != KEY_LEN) {
        OPENSSL_cleanse(raw, sizeof raw);
        return bl_err_set(err, BL_EINVAL, "crypto: key %s: must be the base64 of exactly %d bytes",
                          id, KEY_LEN);
    }
    memcpy(k->key, raw, KEY_LEN);
    OPENSSL_cleanse(raw, sizeof raw);
    memcpy(k->id, id, id_len + 1);
    kr->nkeys++;
    return 0;
}

bl_keyring *bl_keyring_parse(const char *spec, const char *active_id, bl_err *err)
{
    if (!spec || !*spec) {
        bl_err_set(err, BL_EINVAL, "crypto: no encryption keys (set %s to keyid:base64key,...)",
                   BL_KEYRING_ENV_KEYS);
        return NULL;
    }
    bl_keyring *kr = calloc(1, sizeof *kr);
    if (!kr) {
        bl_err_set(err, BL_ENOMEM, "crypto: out of memory");
        return NULL;
    }
    const char *p = spec;
    for (size_t pos = 1;; pos++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (keyring_add(kr, p, len, pos, err) != 0)
            goto fail;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (active_id && *active_id) {
        const keyring_key *k = keyring_find(kr, active_id, strlen(active_id));
        if (!k) {
            if (key_id_valid(active_id, strlen(active_id)))
                bl_err_set(err, BL_ENOTFOUND, "crypto: active key id %s is not among the keys",
                           active_id);
            else
                bl_err_set(err, BL_EINVAL, "crypto: active key id is not a valid key id");
            goto fail;
        }
        kr->active = (size_t)(k - kr->keys);
    }
    return kr;
fail:
    bl_keyring_free(kr);
    return NULL;
}

bl_keyring *bl_keyring_from_env(bl_err *err)
{
    return bl_keyring_parse(getenv(BL_KEYRING_ENV_KEYS), getenv(BL_KEYRING_ENV_ACTIVE), err);
}

void bl_keyring_free(bl_keyring *kr)
{
    if (!kr)
        return;
    OPENSSL_cleanse(kr, sizeof *kr);
    free(kr);
}

const char *bl_keyring_active_id(const bl_keyring *kr)
{
    return kr->keys[kr->active].id;
}

/* Runs one AES-256-GCM pass. The header and the caller's aad are both fed as
 * associated data. For decryption, tag is checked; for encryption, written. */
static int gcm_run(bool encrypt, const uint8_t *key, const uint8_t *nonce, const char *header,
                   const void *aad, size_t aad_len, const uint8_t *in, size_t in_len,
                   uint8_t *out, uint8_t *tag, bl_err *err)
{
    const char *what = encrypt ? "seal" : "open";
    int rc = -1, n = 0;
    if (in_len > (size_t)(1 << 30) || aad_len > (size_t)(1 << 30))
        return bl_err_set(err, BL_EINVAL, "crypto: %s: input larger than 1 GiB", what);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        return bl_crypto_openssl_err(err, what);
    if (EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, encrypt ? 1 : 0, NULL) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)header, (int)strlen(header)) != 1 ||
        (aad_len && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) ||
        (in_len && EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1)) {
        bl_crypto_openssl_err(err, what);
        goto done;
    }
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) {
        bl_crypto_openssl_err(err, what);
        goto done;
    }
    if (EVP_CipherFinal_ex(ctx, out + (in_len ? n : 0), &n) != 1) {
        if (encrypt)
            bl_crypto_openssl_err(err, what);
        else
            bl_err_set(err, BL_ECRYPTO,
                       "crypto: open: authentication failed (tampered value, wrong key or wrong "
                       "associated data)");
        goto done;
    }
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) {
        bl_crypto_openssl_err(err, what);
        goto done;
    }
    rc = 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

char *bl_keyring_seal(const bl_keyring *kr, const void *plain, size_t len, const void *aad,
                      size_t aad_len, bl_err *err)
{
    const keyring_key *k = &kr->keys[kr->active];
    char header[sizeof SEAL_VERSION + BL_KEY_ID_MAX + 2];
    snprintf(header, sizeof header, SEAL_VERSION ".%s.", k->id);

    size_t blob_len = NONCE_LEN + len + TAG_LEN;
    uint8_t *blob = malloc(blob_len);
    char *text = NULL;
    if (!blob) {
        bl_err_set(err, BL_ENOMEM, "crypto: seal: out of memory");
        goto done;
    }
    uint8_t *nonce = blob, *ct = blob + NONCE_LEN, *tag = blob + NONCE_LEN + len;
    if (bl_random_bytes(nonce, NONCE_LEN, err) != 0 ||
        gcm_run(true, k->key, nonce, header, aad, aad_len, plain, len, ct, tag, err) != 0)
        goto done;

    size_t header_len = strlen(header);
    size_t text_size = header_len + bl_base64_encoded_size(blob_len);
    text = malloc(text_size);
    if (!text) {
        bl_err_set(err, BL_ENOMEM, "crypto: seal: out of memory");
        goto done;
    }
    memcpy(text, header, header_len);
    bl_base64_encode(blob, blob_len, text + header_len, text_size - header_len, err);
done:
    if (blob) {
        OPENSSL_cleanse(blob, blob_len);
        free(blob);
    }
    return text;
}

int bl_keyring_open(const bl_keyring *kr, const char *sealed, const void *aad, size_t aad_len,
                    uint8_t **plain, size_t *plain_len, bl_err *err)
{
    *plain = NULL;
    *plain_len = 0;
    const char *prefix = SEAL_VERSION ".";
    if (!sealed || strncmp(sealed, prefix, strlen(prefix)) != 0)
        return bl_err_set(err, BL_EINVAL, "crypto: open: not a sealed value (expected %s<keyid>.<data>)",
                          prefix);
    const char *id = sealed + strlen(prefix);
    const char *dot = strchr(id, '.');
    size_t id_len = dot ? (size_t)(dot - id) : 0;
    if (!dot || !key_id_valid(id, id_len))
        return bl_err_set(err, BL_EINVAL, "crypto: open: sealed value has no valid key id");
    const keyring_key *k = keyring_find(kr, id, id_len);
    if (!k)
        return bl_err_set(err, BL_ENOTFOUND, "crypto: open: unknown key id %.*s", (int)id_len, id);

    const char *b64 = dot + 1;
    size_t b64_len = strlen(b64);
    size_t cap = b64_len / 4 * 3;
    if (cap < NONCE_LEN + TAG_LEN)
        return bl_err_set(err, BL_EINVAL, "crypto: open: sealed value too short");
    int rc = -1;
    uint8_t *blob = malloc(cap);
    uint8_t *out = NULL;
    size_t blob_len = 0, ct_len = 0;
    if (!blob) {
        bl_err_set(err, BL_ENOMEM, "crypto: open: out of memory");
        goto done;
    }
    if (bl_base64_decode(b64, b64_len, blob, cap, &blob_len, err) != 0) {
        bl_err_wrap(err, "crypto: open: sealed value");
        goto done;
    }
    if (blob_len < NONCE_LEN + TAG_LEN) {
        bl_err_set(err, BL_EINVAL, "crypto: open: sealed value too short");
        goto done;
    }
    ct_len = blob_len - NONCE_LEN - TAG_LEN;
    out = malloc(ct_len + 1);
    if (!out) {
        bl_err_set(err, BL_ENOMEM, "crypto: open: out of memory");
        goto done;
    }
    char header[sizeof SEAL_VERSION + BL_KEY_ID_MAX + 2];
    snprintf(header, sizeof header, SEAL_VERSION ".%s.", k->id);
    if (gcm_run(false, k->key, blob, header, aad, aad_len, blob + NONCE_LEN, ct_len, out,
                blob + NONCE_LEN + ct_len, err) != 0)
        goto done;
    out[ct_len] = '\0';
    *plain = out;
    *plain_len = ct_len;
    out = NULL;
    rc = 0;
done:
    if (out) {
        OPENSSL_cleanse(out, ct_len + 1);
        free(out);
    }
    if (blob) {
        OPENSSL_cleanse(blob, cap);
        free(blob);
    }
    return rc;
}
