/* Password hashing for API users: PBKDF2-HMAC-SHA256 with a random 16-byte
 * salt, stored as "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>". */
#ifndef BUSLINE_API_PASSWORD_H
#define BUSLINE_API_PASSWORD_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

#define BL_PASSWORD_ITERATIONS 600000 /* OWASP 2023 for PBKDF2-HMAC-SHA256 */
#define BL_PASSWORD_HASH_SIZE 128
#define BL_PASSWORD_MAX 1024 /* longer passwords are refused before hashing */

/* Hashes password into out (BL_PASSWORD_HASH_SIZE bytes) with iterations
 * (0 = BL_PASSWORD_ITERATIONS). Returns 0 or -1 with err. */
int bl_password_hash(const char *password, unsigned iterations, char out[BL_PASSWORD_HASH_SIZE],
                     bl_err *err);

/* Whether password matches stored (compared in constant time). A malformed
 * stored value never matches. */
bool bl_password_verify(const char *password, const char *stored);

/* Spends the time a verification takes, for unknown users, so a login does
 * not tell by its speed whether an email exists. */
void bl_password_burn(const char *password);

#endif
