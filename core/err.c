#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bl_err_set(bl_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int bl_err_wrap(bl_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[BL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[2 * BL_ERR_MSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    size_t n = strnlen(joined, sizeof err->msg - 1);
    memcpy(err->msg, joined, n);
    err->msg[n] = '\0';
    return -1;
}

void bl_err_clear(bl_err *err)
{
    if (!err)
        return;
    err->code = BL_OK;
    err->msg[0] = '\0';
}
