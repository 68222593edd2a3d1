/* Streamed form bodies (see core/http_form.h) over MHD's post processor. */
#include "core/http_form.h"

#include "core/http_server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The parser's own buffer, for part headers and boundaries: 16 KiB covers
 * any sane part header; the file bytes pass through it, not into it. */
#define FORM_BUFFER (16 * 1024)

struct bl_http_form {
    struct MHD_PostProcessor *pp;
    bl_http_form_piece_fn piece;
    void *ctx;
    bool stopped; /* piece asked to stop */
};

static enum MHD_Result on_piece(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    bl_http_form *f = cls;
    if (f->piece(f->ctx, key ? key : "", filename, content_type, off, data ? data : "", data ? size : 0) != 0) {
        f->stopped = true;
        return MHD_NO;
    }
    return MHD_YES;
}

static bool is_form_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA,
                       strlen(MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA)) == 0 ||
           strncasecmp(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
                       strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0;
}

bl_http_form *bl_http_form_new(const bl_http_request *req, bl_http_form_piece_fn piece, void *ctx,
                               bl_err *err)
{
    if (!is_form_type(bl_http_request_header(req, "Content-Type"))) {
        bl_err_set(err, BL_EINVAL, "the body must be multipart/form-data");
        return NULL;
    }
    bl_http_form *f = calloc(1, sizeof *f);
    if (!f) {
        bl_err_set(err, BL_ENOMEM, "form: out of memory");
        return NULL;
    }
    f->piece = piece;
    f->ctx = ctx;
    f->pp = MHD_create_post_processor(req->conn, FORM_BUFFER, on_piece, f);
    if (!f->pp) {
        free(f);
        /* MHD refuses a multipart type without a usable boundary too */
        bl_err_set(err, BL_EINVAL, "the body must be multipart/form-data with a boundary");
        return NULL;
    }
    return f;
}

int bl_http_form_feed(bl_http_form *f, const char *data, size_t len, bl_err *err)
{
    if (MHD_post_process(f->pp, data, len) == MHD_YES)
        return 0;
    return bl_err_set(err, BL_EINVAL,
                      f->stopped ? "form: parsing stopped" : "the body is not valid multipart/form-data");
}

int bl_http_form_finish(bl_http_form *f, bl_err *err)
{
    enum MHD_Result complete = MHD_destroy_post_processor(f->pp);
    free(f);
    if (complete == MHD_YES)
        return 0;
    return bl_err_set(err, BL_EINVAL, "the multipart body ended before its closing boundary");
}

void bl_http_form_free(bl_http_form *f)
{
    if (!f)
        return;
    MHD_destroy_post_processor(f->pp);
    free(f);
}
