/* UUIDs (command, event, endpoint and request ids) as 36-character text. */
#ifndef BUSLINE_CORE_UUID_H
#define BUSLINE_CORE_UUID_H

#include "core/err.h"

#define BL_UUID_SIZE 37 /* 36 characters and the NUL */

/* A random (version 4) UUID into out. Returns 0, or -1 with err. */
int bl_uuid_random(char out[BL_UUID_SIZE], bl_err *err);

/* A UUID derived from the SHA-256 of seed (version 8, RFC 9562): the same
 * seed always gives the same id, so an event re-derived from the same command
 * keeps its id. Returns 0, or -1 with err. */
int bl_uuid_derived(const char *seed, char out[BL_UUID_SIZE], bl_err *err);

#endif
