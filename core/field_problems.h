/* The problems of a refused input, as every 422's field_errors holds them:
 * an object of field -> [message, ...] (api/error_shape.c). */
#ifndef BUSLINE_CORE_FIELD_PROBLEMS_H
#define BUSLINE_CORE_FIELD_PROBLEMS_H

#include <jansson.h>
#include <stdarg.h>

/* Adds one printf-formatted message (cut at 511 bytes) to problems under
 * field, creating its list. problems is borrowed; out of memory drops it. */
void bl_field_problem(json_t *problems, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* bl_field_problem with a va_list. */
void bl_field_problem_v(json_t *problems, const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
