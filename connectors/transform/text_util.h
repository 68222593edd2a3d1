/* Two text helpers the expression language and the JSON Schema code share
 * (connectors/transform only). */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_TEXT_UTIL_H
#define BUSLINE_CONNECTORS_TRANSFORM_TEXT_UTIL_H

#include <stddef.h>

/* Characters (code points) of UTF-8 text s of n bytes. */
size_t bl_tx_utf8_length(const char *s, size_t n);

/* Appends "/token", escaped as a JSON Pointer (~0, ~1), to the NUL-terminated
 * path of length plen in a buffer of cap bytes, cutting what does not fit.
 * Returns the new length. */
size_t bl_tx_pointer_push(char *path, size_t plen, size_t cap, const char *token);

#endif
