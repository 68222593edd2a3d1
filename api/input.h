/* Checks on raw request input made before any parser sees it. Pure
 * functions over bytes, so they are fuzzable and unit-testable. */
#ifndef BUSLINE_API_INPUT_H
#define BUSLINE_API_INPUT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether buf[0..len) is well-formed UTF-8 (RFC 3629): no overlong forms,
 * no surrogates, nothing above U+10FFFF, no truncated sequence. */
bool bl_api_utf8_valid(const char *buf, size_t len);

/* The deepest nesting of JSON arrays/objects in buf[0..len), ignoring
 * brackets inside strings; stops counting once past max (returns max + 1).
 * The text need not be valid JSON. */
unsigned bl_api_json_depth(const char *buf, size_t len, unsigned max);

/* Whether a Content-Type header names JSON: "application/json" with any
 * case and optional parameters ("; charset=utf-8"). NULL is not JSON. */
bool bl_api_content_type_is_json(const char *content_type);

#endif
