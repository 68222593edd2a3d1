/* Ed25519 over OpenSSL 3 EVP (see ed25519.h). */
#include "core/ed25519.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int bl_ed25519_generate(uint8_t seed[BL_ED25519_SEED_LEN], uint8_t pub[BL_ED25519_PUBLIC_LEN], bl_err *err)
{
    if (bl_random_bytes(seed, BL_ED25519_SEED_LEN, err) != 0)
        return -1;
    if (bl_ed25519_public_of(seed, pub, err) != 0) {
        OPENSSL_cleanse(seed, BL_ED25519_SEED_LEN);
        return -1;
    }
    return 0;
}

int bl_ed25519_public_of(const uint8_t seed[BL_ED25519_SEED_LEN], uint8_t pub[BL_ED25519_PUBLIC_LEN],
                         bl_err *err)
{
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, BL_ED25519_SEED_LEN);
    if (!key)
        return bl_crypto_openssl_err(err, "ed25519 private key");
    size_t len = BL_ED25519_PUBLIC_LEN;
    int rc = EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == BL_ED25519_PUBLIC_LEN
                 ? 0
                 : bl_crypto_openssl_err(err, "ed25519 public key");
    EVP_PKEY_free(key);
    return rc;
}

/* The parts joined into one new buffer (at least 1 byte), length in *len. */
static uint8_t *join(const bl_bytes *parts, size_t nparts, size_t *len, bl_err *err)
{
    size_t n = 0;
    for (size_t i = 0; i < nparts; i++)
        n += parts[i].len;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        bl_err_set(err, BL_ENOMEM, "crypto: ed25519: out of memory");
        return NULL;
    }
    size_t at = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].len)
            memcpy(buf + at, parts[i].data, parts[i].len);
        at += parts[i].len;
    }
    *len = n;
    return buf;
}

int bl_ed25519_sign(const uint8_t seed[BL_ED25519_SEED_LEN], const bl_bytes *parts, size_t nparts,
                    uint8_t sig[BL_ED25519_SIG_LEN], bl_err *err)
{
    size_t len = 0;
    uint8_t *msg = join(parts, nparts, &len, err);
    if (!msg)
        return -1;
    int rc = -1;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, BL_ED25519_SEED_LEN);
    if (!key) {
        bl_crypto_openssl_err(err, "ed25519 private key");
        goto done;
    }
    ctx = EVP_MD_CTX_new();
    size_t sig_len = BL_ED25519_SIG_LEN;
    /* Ed25519 hashes internally: no digest, one-shot only. */
    if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, msg, len) != 1 || sig_len != BL_ED25519_SIG_LEN) {
        bl_crypto_openssl_err(err, "ed25519 sign");
        goto done;
    }
    rc = 0;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(msg);
    return rc;
}

int bl_ed25519_verify(const uint8_t pub[BL_ED25519_PUBLIC_LEN], const bl_bytes *parts, size_t nparts,
                      const uint8_t sig[BL_ED25519_SIG_LEN], bl_err *err)
{
    size_t len = 0;
    uint8_t *msg = join(parts, nparts, &len, err);
    if (!msg)
        return -1;
    int rc = -1;
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, BL_ED25519_PUBLIC_LEN);
    if (!key) {
        bl_crypto_openssl_err(err, "ed25519 public key");
        goto done;
    }
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
        bl_crypto_openssl_err(err, "ed25519 verify");
        goto done;
    }
    int ok = EVP_DigestVerify(ctx, sig, BL_ED25519_SIG_LEN, msg, len);
    ERR_clear_error(); /* a bad signature queues an error; it is an answer, not a failure */
    rc = ok == 1 ? 1 : 0;
done:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    free(msg);
    return rc;
}
