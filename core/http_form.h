/* multipart/form-data (and application/x-www-form-urlencoded) request bodies
 * parsed as they arrive, over libmicrohttpd's post processor: a field's
 * value reaches the caller piece by piece, so a file part is never held
 * whole. For a streamed route (core/http_stream.h): make the form in begin,
 * feed it from chunk, finish it in end. */
#ifndef BUSLINE_CORE_HTTP_FORM_H
#define BUSLINE_CORE_HTTP_FORM_H

#include "core/err.h"
#include "core/http_server.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bl_http_form bl_http_form;

/* One piece of field name's value: len bytes (borrowed for the call) at
 * offset in the value; offset 0 starts a new field (a field may come more
 * than once), and only an empty field comes as one piece of length 0.
 * filename and content_type are the part's (NULL when it has none; names
 * past 255 bytes of an empty field are cut). Returns 0 to go on, or -1 to
 * stop parsing (feed then fails). */
typedef int (*bl_http_form_piece_fn)(void *ctx, const char *name, const char *filename,
                                     const char *content_type, uint64_t offset, const char *data,
                                     size_t len);

/* A parser for req's body (its Content-Type header names the encoding and
 * boundary); req and ctx are borrowed and must outlive it. Returns NULL
 * with err BL_EINVAL when the body is neither form encoding, BL_ENOMEM when
 * out of memory. */
bl_http_form *bl_http_form_new(const bl_http_request *req, bl_http_form_piece_fn piece, void *ctx,
                               bl_err *err);

/* Parses the next len bytes of the body. Returns 0, or -1 with err when the
 * body is malformed or piece asked to stop (the form is then of no more use
 * but for bl_http_form_free). */
int bl_http_form_feed(bl_http_form *f, const char *data, size_t len, bl_err *err);

/* Frees f after the last byte: returns 0 when the body ended where a form
 * may end (the closing boundary), -1 with err when it stopped mid-part. */
int bl_http_form_finish(bl_http_form *f, bl_err *err);

/* Frees f without judging the end. Accepts NULL. */
void bl_http_form_free(bl_http_form *f);

#endif
