/* FNV-1a, the one string hash of the in-memory tables (not for anything an
 * outsider chooses the keys of at scale, nor for security). */
#ifndef BUSLINE_CORE_HASH_H
#define BUSLINE_CORE_HASH_H

#include <stdint.h>

#define BL_FNV1A_INIT 1469598103934665603ULL
#define BL_FNV1A_PRIME 1099511628211ULL

/* Continues hash h (start with BL_FNV1A_INIT) over the bytes of s up to its
 * NUL; returns the new hash. */
static inline uint64_t bl_fnv1a_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * BL_FNV1A_PRIME;
    return h;
}

#endif
