/* The one error value that travels up through every busline call. */
#ifndef BUSLINE_CORE_ERR_H
#define BUSLINE_CORE_ERR_H

#include <stddef.h>

#define BL_ERR_MSG_MAX 256

/* Broad classes, so callers can decide what to do without parsing text. */
enum bl_err_code {
    BL_OK = 0,
    BL_EINVAL = 1,     /* bad input: config, argument, payload */
    BL_EIO = 2,        /* a system call or file failed */
    BL_ENOMEM = 3,     /* allocation failed */
    BL_EKAFKA = 4,     /* librdkafka reported an error */
    BL_EPG = 5,        /* libpq reported an error */
    BL_EHTTP = 6,      /* libcurl / HTTP transport error */
    BL_ECRYPTO = 7,    /* OpenSSL error or failed authentication tag */
    BL_ENOTFOUND = 8,  /* the thing asked for does not exist */
    BL_ETIMEOUT = 9,   /* a deadline passed */
    BL_ECONFLICT = 10, /* the request contradicts existing state */
};

typedef struct bl_err {
    int code;
    char msg[BL_ERR_MSG_MAX];
} bl_err;

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
