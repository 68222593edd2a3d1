/* Streamed form bodies (see core/http_form.h) over MHD's post processor. */
#include "core/http_form.h"

#include "core/http_server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The parser's own buffer, for part headers and boundaries: 16 KiB covers
 * any sane part header; the file bytes pass through it, not into it. */
#define FORM_BUFFER (16 * 1024)

#define NAME_MAX_BYTES 256

/* A field whose first piece was empty: MHD often starts a value with an
 * empty piece at offset 0 and then gives its first bytes at offset 0 again,
 * so an empty start is held until the next piece tells whether the field
 * is empty (then it is passed on) or just starting. */
typedef struct empty_start {
    bool held;
    bool has_filename, has_type;
    char name[NAME_MAX_BYTES], filename[NAME_MAX_BYTES], content_type[NAME_MAX_BYTES];
} empty_start;

struct bl_http_form {
    struct MHD_PostProcessor *pp;
    bl_http_form_piece_fn piece;
    void *ctx;
    bool stopped; /* piece asked to stop */
    empty_start empty;
};

static void copy_text(char *out, const char *in)
{
    snprintf(out, NAME_MAX_BYTES, "%s", in ? in : "");
}

static int pass_held_empty(bl_http_form *f)
{
    empty_start *e = &f->empty;
    if (!e->held)
        return 0;
    e->held = false;
    return f->piece(f->ctx, e->name, e->has_filename ? e->filename : NULL, e->has_type ? e->content_type : NULL,
                    0, "", 0);
}

static enum MHD_Result on_piece(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size)
{
    (void)kind;
    (void)transfer_encoding;
    bl_http_form *f = cls;
    key = key ? key : "";
    if (!data || size == 0) {
        if (off == 0 && !f->empty.held) {
            empty_start *e = &f->empty;
            e->held = true;
            e->has_filename = filename != NULL;
            e->has_type = content_type != NULL;
            copy_text(e->name, key);
            copy_text(e->filename, filename);
            copy_text(e->content_type, content_type);
        }
        return MHD_YES; /* an empty piece carries nothing else */
    }
    int rc = 0;
    if (f->empty.held) {
        if (off == 0 && strncmp(f->empty.name, key, NAME_MAX_BYTES - 1) == 0)
            f->empty.held = false; /* the same field's first bytes */
        else
            rc = pass_held_empty(f);
    }
    if (rc == 0)
        rc = f->piece(f->ctx, key, filename, content_type, off, data, size);
    if (rc != 0) {
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
    bool stopped = f->stopped || pass_held_empty(f) != 0;
    free(f);
    if (stopped)
        return bl_err_set(err, BL_EINVAL, "form: parsing stopped");
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
