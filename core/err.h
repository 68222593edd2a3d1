/* The one error value that travels up through every busline call. */
#ifndef BUSLINE_CORE_ERR_H
#define BUSLINE_CORE_ERR_H

#include "busline/err.h" /* the type and its codes, public so the SDK headers share it */

#include <stddef.h>

/* Fills err (may be NULL) with code and a printf-style message; returns -1 so
 * callers can write `return bl_err_set(err, BL_EINVAL, "...")`. */
int bl_err_set(bl_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to err's message, keeping its code; returns -1. */
int bl_err_wrap(bl_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to BL_OK with an empty message. err may be NULL. */
void bl_err_clear(bl_err *err);

#endif
