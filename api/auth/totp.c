#include "api/auth/totp.h"

#include "core/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

long bl_base32_decode(const char *text, uint8_t *out, size_t cap)
{
    uint32_t bits = 0;
    int nbits = 0;
    size_t n = 0;
    for (const char *p = text; *p && *p != '='; p++) {
        char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        const char *at = strchr(b32_alphabet, c);
        if (!at || c == '\0')
            return -1;
        bits = (bits << 5) | (uint32_t)(at - b32_alphabet);
        nbits += 5;
        if (nbits >= 8) {
            if (n == cap)
                return -1;
            out[n++] = (uint8_t)(bits >> (nbits - 8));
            nbits -= 8;
            bits &= (1u << nbits) - 1;
        }
    }
    return (long)n;
}

int bl_totp_hotp(const uint8_t *key, size_t key_len, uint64_t counter, char out[7], bl_err *err)
{
    uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (uint8_t)(counter & 0xff);
        counter >>= 8;
    }
    if (!HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof msg, mac, &mac_len) || mac_len < 20)
        return bl_crypto_openssl_err(err, "totp: HMAC-SHA1");
    unsigned offset = mac[mac_len - 1] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[offset] & 0x7f) << 24) | ((uint32_t)mac[offset + 1] << 16) |
                   ((uint32_t)mac[offset + 2] << 8) | mac[offset + 3];
    snprintf(out, 7, "%06u", bin % 1000000u);
    return 0;
}

int bl_totp_code(const char *secret_b32, time_t now, char out[7], bl_err *err)
{
    uint8_t key[64];
    long n = bl_base32_decode(secret_b32, key, sizeof key);
    if (n <= 0)
        return bl_err_set(err, BL_EINVAL, "totp: secret is not base32");
    return bl_totp_hotp(key, (size_t)n, (uint64_t)now / BL_TOTP_STEP_SECONDS, out, err);
}

bool bl_totp_verify(const char *secret_b32, time_t now, const char *code)
{
    if (!secret_b32 || !code || strlen(code) != 6 || now < BL_TOTP_STEP_SECONDS)
        return false;
    uint8_t key[64];
    long n = bl_base32_decode(secret_b32, key, sizeof key);
    if (n <= 0)
        return false;
    uint64_t step = (uint64_t)now / BL_TOTP_STEP_SECONDS;
    bool ok = false;
    for (int d = -1; d <= 1; d++) {
        char want[7];
        bl_err err = {0};
        if (bl_totp_hotp(key, (size_t)n, step + (uint64_t)(int64_t)d, want, &err) == 0)
            ok |= bl_crypto_equal(want, code, 6); /* no early exit */
    }
    return ok;
}

int bl_totp_secret_new(char out[BL_TOTP_SECRET_B32_SIZE], bl_err *err)
{
    uint8_t raw[BL_TOTP_SECRET_BYTES];
    if (bl_random_bytes(raw, sizeof raw, err) != 0)
        return -1;
    /* 20 bytes = 160 bits = exactly 32 base32 characters */
    size_t o = 0;
    for (size_t i = 0; i < sizeof raw; i += 5) {
        uint64_t chunk = 0;
        for (size_t k = 0; k < 5; k++)
            chunk = (chunk << 8) | raw[i + k];
        for (int s = 35; s >= 0; s -= 5)
            out[o++] = b32_alphabet[(chunk >> s) & 31];
    }
    out[o] = '\0';
    return 0;
}
