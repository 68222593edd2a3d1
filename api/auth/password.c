#include "api/auth/password.h"

#include "core/crypto.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define DERIVED_LEN 32
#define ITERATIONS_MAX 10000000u

static int derive(const char *password, const uint8_t *salt, size_t salt_len, unsigned iterations,
                  uint8_t out[DERIVED_LEN])
{
    return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
                             EVP_sha256(), DERIVED_LEN, out) == 1 ? 0 : -1;
}

int bl_password_hash(const char *password, unsigned iterations, char out[BL_PASSWORD_HASH_SIZE],
                     bl_err *err)
{
    if (!password || strlen(password) > BL_PASSWORD_MAX)
        return bl_err_set(err, BL_EINVAL, "password: missing or longer than %d bytes", BL_PASSWORD_MAX);
    if (iterations == 0)
        iterations = BL_PASSWORD_ITERATIONS;
    uint8_t salt[SALT_LEN], derived[DERIVED_LEN];
    char salt_b64[32], derived_b64[64];
    if (bl_random_bytes(salt, sizeof salt, err) != 0)
        return -1;
    if (derive(password, salt, sizeof salt, iterations, derived) != 0)
        return bl_crypto_openssl_err(err, "password: PBKDF2");
    if (bl_base64_encode(salt, sizeof salt, salt_b64, sizeof salt_b64, err) != 0 ||
        bl_base64_encode(derived, sizeof derived, derived_b64, sizeof derived_b64, err) != 0)
        return -1;
    snprintf(out, BL_PASSWORD_HASH_SIZE, "pbkdf2-sha256$%u$%s$%s", iterations, salt_b64, derived_b64);
    return 0;
}

bool bl_password_verify(const char *password, const char *stored)
{
    if (!password || !stored || strlen(password) > BL_PASSWORD_MAX)
        return false;
    static const char tag[] = "pbkdf2-sha256$";
    if (strncmp(stored, tag, sizeof tag - 1) != 0)
        return false;
    const char *p = stored + sizeof tag - 1;
    char *end = NULL;
    unsigned long iterations = strtoul(p, &end, 10);
    if (end == p || *end != '$' || iterations == 0 || iterations > ITERATIONS_MAX)
        return false;
    const char *salt_b64 = end + 1;
    const char *dollar = strchr(salt_b64, '$');
    if (!dollar)
        return false;
    uint8_t salt[64], want[64], got[DERIVED_LEN];
    size_t salt_len = 0, want_len = 0;
    bl_err err = {0};
    if (bl_base64_decode(salt_b64, (size_t)(dollar - salt_b64), salt, sizeof salt, &salt_len, &err) != 0 ||
        strlen(dollar + 1) > 64 ||
        bl_base64_decode(dollar + 1, strlen(dollar + 1), want, sizeof want, &want_len, &err) != 0 ||
        want_len != DERIVED_LEN)
        return false;
    if (derive(password, salt, salt_len, (unsigned)iterations, got) != 0)
        return false;
    return bl_crypto_equal(got, want, DERIVED_LEN);
}

void bl_password_burn(const char *password)
{
    static const uint8_t salt[SALT_LEN] = {0};
    uint8_t out[DERIVED_LEN];
    if (password && strlen(password) <= BL_PASSWORD_MAX)
        (void)derive(password, salt, sizeof salt, BL_PASSWORD_ITERATIONS, out);
}
