/* Hashes, HMAC, randomness and text encodings. AES-GCM lives in crypto_seal.c. */
#include "core/crypto.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

int bl_crypto_openssl_err(bl_err *err, const char *what)
{
    unsigned long code = ERR_get_error();
    char detail[160] = "unknown OpenSSL error";
    if (code)
        ERR_error_string_n(code, detail, sizeof detail);
    ERR_clear_error();
    return bl_err_set(err, BL_ECRYPTO, "crypto: %s: %s", what, detail);
}

int bl_sha256(const void *data, size_t len, uint8_t out[BL_SHA256_LEN], bl_err *err)
{
    unsigned int out_len = 0;
    if (EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) != 1 || out_len != BL_SHA256_LEN)
        return bl_crypto_openssl_err(err, "sha256");
    return 0;
}

int bl_sha256_hex(const void *data, size_t len, char out[BL_SHA256_HEX_SIZE], bl_err *err)
{
    uint8_t raw[BL_SHA256_LEN];
    if (bl_sha256(data, len, raw, err) != 0)
        return -1;
    bl_hex_encode(raw, sizeof raw, out);
    return 0;
}

static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_impl;

/* EVP_MAC_fetch looks the algorithm up in the provider store under a lock
 * each time (3 % of a delivery worker's CPU, one per signature): the
 * implementation is fetched once and shared, a context is made per call. */
static void hmac_fetch_once(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

int bl_hmac_sha256_parts(const void *key, size_t key_len, const bl_bytes *parts, size_t nparts,
                         uint8_t out[BL_SHA256_LEN], bl_err *err)
{
    /* EVP_MAC_init treats a NULL key as "keep the previous key"; an empty
     * HMAC key is legal, so pass a real pointer with length 0. */
    static const uint8_t empty_key[1];
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *ctx = NULL;
    int rc = -1;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest, 0),
        OSSL_PARAM_construct_end(),
    };

    pthread_once(&hmac_once, hmac_fetch_once);
    mac = hmac_impl;
    if (!mac) {
        bl_crypto_openssl_err(err, "hmac-sha256: fetch HMAC");
        goto done;
    }
    ctx = EVP_MAC_CTX_new(mac);
    if (!ctx || EVP_MAC_init(ctx, key_len ? key : empty_key, key_len, params) != 1) {
        bl_crypto_openssl_err(err, "hmac-sha256: init");
        goto done;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].len && EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) {
            bl_crypto_openssl_err(err, "hmac-sha256: update");
            goto done;
        }
    }
    size_t out_len = 0;
    if (EVP_MAC_final(ctx, out, &out_len, BL_SHA256_LEN) != 1 || out_len != BL_SHA256_LEN) {
        bl_crypto_openssl_err(err, "hmac-sha256: final");
        goto done;
    }
    rc = 0;
done:
    EVP_MAC_CTX_free(ctx);
    return rc;
}

int bl_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                   uint8_t out[BL_SHA256_LEN], bl_err *err)
{
    bl_bytes part = {data, len};
    return bl_hmac_sha256_parts(key, key_len, &part, 1, out, err);
}

bool bl_crypto_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

int bl_random_bytes(void *buf, size_t len, bl_err *err)
{
    /* RAND_bytes takes an int length; fill large requests in slices. */
    uint8_t *p = buf;
    while (len > 0) {
        int n = len > (1u << 20) ? (1 << 20) : (int)len;
        if (RAND_bytes(p, n) != 1)
            return bl_crypto_openssl_err(err, "random bytes");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

size_t bl_base62_len(size_t nbytes)
{
    /* log2(62) is irrational, so 8n / log2(62) is never an integer and the
     * ceiling is exact in double for any token size we allow. */
    return (size_t)ceil((double)nbytes * 8.0 / log2(62.0));
}

static const char base62_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int bl_random_token(const char *prefix, size_t nbytes, char *out, size_t out_len, bl_err *err)
{
    if (nbytes == 0 || nbytes > BL_TOKEN_MAX_BYTES)
        return bl_err_set(err, BL_EINVAL, "crypto: token of %zu bytes: must be 1..%d", nbytes,
                          BL_TOKEN_MAX_BYTES);
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    size_t digits = bl_base62_len(nbytes);
    if (out_len < prefix_len + digits + 1)
        return bl_err_set(err, BL_EINVAL, "crypto: token buffer of %zu bytes too small (need %zu)",
                          out_len, prefix_len + digits + 1);

    uint8_t num[BL_TOKEN_MAX_BYTES];
    if (bl_random_bytes(num, nbytes, err) != 0)
        return -1;
    if (prefix_len)
        memcpy(out, prefix, prefix_len);
    /* Long division of the big-endian number by 62, least significant digit
     * written last; the fixed width zero-pads. */
    char *digit = out + prefix_len + digits;
    *digit = '\0';
    for (size_t d = 0; d < digits; d++) {
        unsigned rem = 0;
        for (size_t i = 0; i < nbytes; i++) {
            unsigned cur = (rem << 8) | num[i];
            num[i] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        *--digit = base62_digits[rem];
    }
    OPENSSL_cleanse(num, sizeof num);
    return 0;
}

void bl_hex_encode(const void *data, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int bl_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t bl_base64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

int bl_base64_encode(const void *data, size_t len, char *out, size_t out_len, bl_err *err)
{
    size_t need = bl_base64_encoded_size(len);
    if (out_len < need)
        return bl_err_set(err, BL_EINVAL, "base64: output buffer of %zu bytes too small (need %zu)",
                          out_len, need);
    const uint8_t *p = data;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = base64_alphabet[v >> 18];
        *o++ = base64_alphabet[(v >> 12) & 63];
        *o++ = base64_alphabet[(v >> 6) & 63];
        *o++ = base64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = base64_alphabet[v >> 18];
        *o++ = base64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return 0;
}

static int base64_value(char c)
{
    const char *hit = c ? strchr(base64_alphabet, c) : NULL;
    return hit ? (int)(hit - base64_alphabet) : -1;
}

int bl_base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap,
                     size_t *out_len, bl_err *err)
{
    if (text_len % 4 != 0)
        return bl_err_set(err, BL_EINVAL, "base64: length %zu is not a multiple of 4", text_len);
    size_t pad = 0;
    if (text_len >= 4 && text[text_len - 1] == '=')
        pad = text[text_len - 2] == '=' ? 2 : 1;
    size_t n = text_len / 4 * 3 - pad;
    if (n > out_cap)
        return bl_err_set(err, BL_EINVAL, "base64: decoded %zu bytes exceed buffer of %zu", n,
                          out_cap);

    size_t o = 0;
    for (size_t i = 0; i < text_len; i += 4) {
        bool last = i + 4 == text_len;
        size_t real = last ? 4 - pad : 4; /* alphabet characters in this quad */
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            int d = j < real ? base64_value(text[i + j]) : 0;
            if (d < 0)
                return bl_err_set(err, BL_EINVAL, "base64: invalid character at offset %zu",
                                  i + j);
            v = v << 6 | (uint32_t)d;
        }
        /* Unused low bits of a padded quad must be zero, so each byte
         * string has exactly one accepted encoding. */
        if ((pad == 1 && last && (v & 0xff)) || (pad == 2 && last && (v & 0xffff)))
            return bl_err_set(err, BL_EINVAL, "base64: non-zero bits before padding");
        out[o++] = (uint8_t)(v >> 16);
        if (real > 2)
            out[o++] = (uint8_t)(v >> 8);
        if (real > 3)
            out[o++] = (uint8_t)v;
    }
    *out_len = o;
    return 0;
}
