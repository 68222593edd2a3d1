#include "core/uuid.h"

#include "core/crypto.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Sets version and RFC 9562 variant bits and formats 16 bytes as text. */
static void format_uuid(uint8_t b[16], int version, char out[BL_UUID_SIZE])
{
    b[6] = (uint8_t)((b[6] & 0x0f) | (version << 4));
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    bl_hex_encode(b, 16, hex);
    snprintf(out, BL_UUID_SIZE, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
}

int bl_uuid_random(char out[BL_UUID_SIZE], bl_err *err)
{
    uint8_t b[16];
    if (bl_random_bytes(b, sizeof b, err) != 0)
        return -1;
    format_uuid(b, 4, out);
    return 0;
}

int bl_uuid_derived(const char *seed, char out[BL_UUID_SIZE], bl_err *err)
{
    uint8_t digest[BL_SHA256_LEN];
    if (bl_sha256(seed, strlen(seed), digest, err) != 0)
        return -1;
    format_uuid(digest, 8, out);
    return 0;
}
