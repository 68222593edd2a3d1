/* busline's error value, as the public headers hand it out: a class to
 * decide on (retry, fix the input, give up) and a message for a person.
 * busline's own code uses this same type through core/err.h, which adds the
 * helpers that fill it. */
#ifndef BUSLINE_ERR_H
#define BUSLINE_ERR_H

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

/* Filled by a failing call; the caller owns it (usually on the stack,
 * zero-initialised: `bl_err err = {0};`). code is a bl_err_code, msg a
 * NUL-terminated text such as "outbox: topic is required". */
typedef struct bl_err {
    int code;
    char msg[BL_ERR_MSG_MAX];
} bl_err;

#endif
