/* TOTP second factor (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps,
 * 6 digits, one step of clock drift accepted either way. Secrets travel as
 * base32 (RFC 4648, no padding), as authenticator apps expect. */
#ifndef BL_API_TOTP_H
#define BL_API_TOTP_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BL_TOTP_SECRET_BYTES 20
#define BL_TOTP_SECRET_B32_SIZE 33 /* 32 base32 characters + NUL */
#define BL_TOTP_STEP_SECONDS 30

/* The 6-digit HOTP code of key at counter, as text + NUL in out. Returns 0
 * or -1 with err. */
int bl_totp_hotp(const uint8_t *key, size_t key_len, uint64_t counter, char out[7], bl_err *err);

/* The code of base32 secret for the step holding now. Returns 0 or -1. */
int bl_totp_code(const char *secret_b32, time_t now, char out[7], bl_err *err);

/* Whether code is the secret's code for now's step or one step either side. */
bool bl_totp_verify(const char *secret_b32, time_t now, const char *code);

/* A new random secret as base32 text. Returns 0 or -1 with err. */
int bl_totp_secret_new(char out[BL_TOTP_SECRET_B32_SIZE], bl_err *err);

/* Decodes base32 (A-Z2-7, case-insensitive, '=' padding ignored) into out
 * (capacity cap). Returns the byte count, or -1 on a bad character or no room. */
long bl_base32_decode(const char *text, uint8_t *out, size_t cap);

#endif
