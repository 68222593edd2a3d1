/* POST /medias/upload: a multipart/form-data body (file, intervention_id,
 * description, tags) streamed into the media store as it arrives. The
 * upload runs in one PostgreSQL transaction opened when the headers are in:
 * the stored object, the media row and its media.uploaded outbox event
 * commit together at the end, or nothing does (a refused, too large or
 * broken upload rolls back, and the object with it). Only the first
 * BL_MEDIA_SNIFF_BYTES of the file are kept in memory, to judge its type;
 * the SHA-256 is computed on the way through. */
#include "api/fieldservice/media_internal.h"

#include "api/input.h"
#include "core/crypto.h"
#include "core/http_form.h"
#include "core/log.h"
#include "core/uuid.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTERVENTION_ID_MAX 128
#define DESCRIPTION_MAX 4000
#define TAGS_TEXT_MAX 8192
#define TAG_MAX 64
#define TAGS_MAX 32
#define FILENAME_MAX_BYTES 255

/* A text part gathered with a cap: past it only the fact is kept. */
typedef struct text_field {
    char *buf;
    size_t cap, len;
    int parts; /* how many times the field came */
    bool too_long;
} text_field;

typedef struct media_upload {
    bl_media_routes *m;
    const bl_http_request *http;
    char org_id[BL_API_ID_MAX];
    char uploaded_by[BL_API_ID_MAX + 8];
    PGconn *conn;
    bool in_tx;
    bool counted; /* holds one of the upload slots */
    bl_http_form *form;
    bl_media_writer *writer;
    EVP_MD_CTX *sha;
    uint64_t size;
    int file_parts;
    char filename[FILENAME_MAX_BYTES + 1];
    bool filename_too_long;
    bool store_failed;
    bl_err store_err;
    text_field intervention_id, description, tags;
    char intervention_id_buf[INTERVENTION_ID_MAX + 1];
    char description_buf[DESCRIPTION_MAX + 1];
    char tags_buf[TAGS_TEXT_MAX + 1];
    size_t sniff_len;
    unsigned char sniff[BL_MEDIA_SNIFF_BYTES];
} media_upload;

static void text_take(text_field *f, uint64_t offset, const char *data, size_t len)
{
    if (offset == 0)
        f->parts++;
    if (f->parts > 1 || f->too_long)
        return;
    if (len > f->cap - f->len) {
        f->too_long = true;
        return;
    }
    memcpy(f->buf + f->len, data, len);
    f->len += len;
    f->buf[f->len] = '\0';
}

static int file_take(media_upload *u, const char *filename, uint64_t offset, const char *data, size_t len)
{
    if (offset == 0) {
        u->file_parts++;
        if (u->file_parts == 1 && filename) {
            u->filename_too_long = strlen(filename) > FILENAME_MAX_BYTES;
            snprintf(u->filename, sizeof u->filename, "%s", filename);
        }
    }
    if (u->file_parts > 1 || len == 0)
        return 0; /* a second file is refused at the end; its bytes go nowhere */
    if (!u->writer && !(u->writer = u->m->store->writer_open(u->conn, &u->store_err)))
        return -1;
    if (u->m->store->write(u->writer, data, len, &u->store_err) != 0)
        return -1;
    if (EVP_DigestUpdate(u->sha, data, len) != 1) {
        bl_err_set(&u->store_err, BL_ECRYPTO, "media: sha256 update failed");
        return -1;
    }
    if (u->sniff_len < sizeof u->sniff) {
        size_t n = sizeof u->sniff - u->sniff_len;
        n = n < len ? n : len;
        memcpy(u->sniff + u->sniff_len, data, n);
        u->sniff_len += n;
    }
    u->size += len;
    return 0;
}

static int on_piece(void *ctx, const char *name, const char *filename, const char *content_type,
                    uint64_t offset, const char *data, size_t len)
{
    (void)content_type; /* the declared type is not trusted: the bytes are judged */
    media_upload *u = ctx;
    if (strcmp(name, "file") == 0) {
        if (file_take(u, filename, offset, data, len) != 0) {
            u->store_failed = true;
            return -1;
        }
    } else if (strcmp(name, "intervention_id") == 0) {
        text_take(&u->intervention_id, offset, data, len);
    } else if (strcmp(name, "description") == 0) {
        text_take(&u->description, offset, data, len);
    } else if (strcmp(name, "tags") == 0) {
        text_take(&u->tags, offset, data, len);
    }
    return 0; /* other fields are ignored, as a form allows */
}

static int upload_begin(const bl_api_request *req, bl_http_response *resp, void *ctx, void **state)
{
    bl_media_routes *m = ctx;
    media_upload *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    *state = u;
    u->m = m;
    u->http = req->http;
    u->intervention_id = (text_field){.buf = u->intervention_id_buf, .cap = INTERVENTION_ID_MAX};
    u->description = (text_field){.buf = u->description_buf, .cap = DESCRIPTION_MAX};
    u->tags = (text_field){.buf = u->tags_buf, .cap = TAGS_TEXT_MAX};
    snprintf(u->org_id, sizeof u->org_id, "%s", req->auth->org_id);
    snprintf(u->uploaded_by, sizeof u->uploaded_by, "%s:%s", req->auth->key_id[0] ? "key" : "user",
             req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id);
    bl_err err = {0};
    /* An upload keeps its transaction (and a pooled connection) open while
     * the bytes arrive, which on a slow link is minutes: a few at once, so
     * the rest of the API keeps its connections. */
    unsigned slots = bl_api_server_config(m->server)->upload_concurrency;
    if (atomic_fetch_add(&m->uploads, 1) >= slots) {
        atomic_fetch_sub(&m->uploads, 1);
        bl_http_response_header(resp, "Retry-After", "5");
        bl_api_fail(req->http, resp, 503, NULL, "too many uploads in progress, try again shortly", NULL);
        return BL_HTTP_ANSWERED;
    }
    u->counted = true;
    if (!(u->form = bl_http_form_new(req->http, on_piece, u, &err))) {
        if (err.code == BL_ENOMEM)
            return -1;
        bl_api_fail(req->http, resp, 415, NULL, "an upload is a multipart/form-data body with a file part", NULL);
        return BL_HTTP_ANSWERED;
    }
    if (!(u->sha = EVP_MD_CTX_new()) || EVP_DigestInit_ex(u->sha, EVP_sha256(), NULL) != 1)
        return -1;
    if (!(u->conn = bl_api_acquire_pg(m->server, &err)))
        return -1;
    if (bl_pg_begin(u->conn, &err) != 0)
        return -1;
    u->in_tx = true;
    return 0;
}

static int upload_chunk(void *state, const char *data, size_t len, bl_http_response *resp)
{
    media_upload *u = state;
    bl_err err = {0};
    if (bl_http_form_feed(u->form, data, len, &err) == 0)
        return 0;
    if (u->store_failed) {
        bl_log_error("media: the store refused the upload", BL_FS("request_id", bl_http_request_id(u->http)),
                     BL_FS("error", u->store_err.msg));
        return -1;
    }
    bl_api_fail(u->http, resp, 400, "VALIDATION_ERROR", err.msg, NULL);
    return BL_HTTP_ANSWERED;
}

static void field_error(json_t *errors, const char *field, const char *message)
{
    json_t *list = json_object_get(errors, field);
    if (!list) {
        list = json_array();
        json_object_set_new(errors, field, list);
    }
    json_array_append_new(list, json_string(message));
}

/* The tags part as a JSON array of strings (new reference), or NULL after
 * a field error. No part is an empty array. */
static json_t *parse_tags(const media_upload *u, json_t *errors)
{
    if (u->tags.parts == 0)
        return json_array();
    if (u->tags.parts > 1 || u->tags.too_long) {
        field_error(errors, "tags", u->tags.too_long ? "tags are at most 8192 bytes of JSON" : "tags came twice");
        return NULL;
    }
    json_t *tags = bl_api_utf8_valid(u->tags.buf, u->tags.len) ? json_loadb(u->tags.buf, u->tags.len, 0, NULL) : NULL;
    bool ok = json_is_array(tags) && json_array_size(tags) <= TAGS_MAX;
    size_t i;
    json_t *tag;
    json_array_foreach(ok ? tags : NULL, i, tag) {
        if (!json_is_string(tag) || json_string_length(tag) == 0 || json_string_length(tag) > TAG_MAX)
            ok = false;
    }
    if (!ok) {
        field_error(errors, "tags", "tags must be a JSON array of at most 32 non-empty strings of at most 64 bytes, "
                                    "such as [\"fuite\", \"cave\"]");
        json_decref(tags);
        return NULL;
    }
    return tags;
}

/* Whether intervention_id names a live intervention of the organization.
 * Returns 1, 0, or -1 with err. */
static int intervention_exists(media_upload *u, bl_err *err)
{
    const char *params[] = {u->org_id, u->intervention_id.buf};
    PGresult *r = bl_pg_exec(u->conn,
                             "SELECT 1 FROM fieldservice_interventions WHERE organization_id = $1 "
                             "AND intervention_id = $2 AND deleted_at IS NULL",
                             2, params, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    PQclear(r);
    return found;
}

/* Checks every field, naming each problem in errors; *mime and *kind get
 * the file's type. Returns 0, or -1 with err when the check itself failed. */
static int check_fields(media_upload *u, json_t *errors, char mime[BL_MEDIA_MIME_MAX], const char **kind,
                        bl_err *err)
{
    *kind = NULL;
    if (u->file_parts == 0)
        field_error(errors, "file", "a file part is required");
    else if (u->file_parts > 1)
        field_error(errors, "file", "one file per upload");
    else if (u->size == 0)
        field_error(errors, "file", "the file is empty");
    else if (u->filename_too_long || !bl_api_utf8_valid(u->filename, strlen(u->filename)))
        field_error(errors, "file", "the file name must be UTF-8 of at most 255 bytes");
    if (u->file_parts == 1 && u->size > 0) {
        if (bl_media_sniff(u->m->sniffer, u->sniff, u->sniff_len, mime, err) != 0)
            return -1;
        if (!(*kind = bl_media_kind(mime))) {
            char msg[BL_MEDIA_MIME_MAX + 160];
            snprintf(msg, sizeof msg, "the file's content is %s, which is not accepted; accepted: %s", mime,
                     BL_MEDIA_ACCEPTED);
            field_error(errors, "file", msg);
        }
    }
    const text_field *iv = &u->intervention_id;
    if (iv->parts == 0 || (iv->len == 0 && !iv->too_long))
        field_error(errors, "intervention_id", "intervention_id is required");
    else if (iv->parts > 1)
        field_error(errors, "intervention_id", "intervention_id came twice");
    else if (iv->too_long || !bl_api_utf8_valid(iv->buf, iv->len) || strlen(iv->buf) != iv->len)
        field_error(errors, "intervention_id", "intervention_id is at most 128 bytes of UTF-8");
    else {
        int found = intervention_exists(u, err);
        if (found < 0)
            return -1;
        if (!found)
            field_error(errors, "intervention_id", "no such intervention in this organization");
    }
    const text_field *d = &u->description;
    if (d->parts > 1)
        field_error(errors, "description", "description came twice");
    else if (d->too_long || !bl_api_utf8_valid(d->buf, d->len) || strlen(d->buf) != d->len)
        field_error(errors, "description", "description is at most 4000 bytes of UTF-8");
    return 0;
}

static int append_event(media_upload *u, const char *media_id, const char *mime, const char *kind,
                        const char *filename, const char *sha_hex, const char *url, bl_err *err)
{
    bl_domain_events *ev = bl_media_events(u->m, err);
    if (!ev)
        return -1;
    json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "media_id", media_id,
                             "intervention_id", u->intervention_id.buf, "content_type", mime, "size_bytes",
                             (json_int_t)u->size, "url", url, "uploaded_by", u->uploaded_by, "sha256", sha_hex,
                             "filename", filename, "type_media", kind);
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "media: out of memory");
    int rc = bl_domain_events_append(ev, u->conn, "media.uploaded", u->org_id, "media", media_id, data, err);
    json_decref(data);
    return rc;
}

/* Stores the checked upload: the object, the row and the event, then the
 * commit. Returns the row as JSON text (malloc'd) or NULL with err. */
static char *store_upload(media_upload *u, const char *mime, const char *kind, json_t *tags, bl_err *err)
{
    uint64_t object = 0;
    bl_media_writer *w = u->writer;
    u->writer = NULL;
    if (u->m->store->writer_close(w, &object, err) != 0)
        return NULL;
    unsigned char digest[BL_SHA256_LEN];
    unsigned int digest_len = 0;
    char sha_hex[BL_SHA256_HEX_SIZE];
    if (EVP_DigestFinal_ex(u->sha, digest, &digest_len) != 1 || digest_len != BL_SHA256_LEN) {
        bl_err_set(err, BL_ECRYPTO, "media: sha256 final failed");
        return NULL;
    }
    bl_hex_encode(digest, sizeof digest, sha_hex);
    char media_id[BL_UUID_SIZE], size_text[24], object_text[24], url[BL_UUID_SIZE + 320];
    if (bl_uuid_random(media_id, err) != 0)
        return NULL;
    snprintf(size_text, sizeof size_text, "%llu", (unsigned long long)u->size);
    snprintf(object_text, sizeof object_text, "%llu", (unsigned long long)object);
    snprintf(url, sizeof url, "%s/medias/%s/download", u->m->prefix, media_id);
    char *tags_text = json_dumps(tags, JSON_COMPACT);
    if (!tags_text) {
        bl_err_set(err, BL_ENOMEM, "media: out of memory");
        return NULL;
    }
    const char *filename = u->filename[0] ? u->filename : "upload";
    const char *params[] = {u->m->prefix, u->org_id, media_id, u->intervention_id.buf, filename,
                            u->description.parts ? u->description.buf : NULL, tags_text, mime, kind,
                            size_text, sha_hex, u->m->store->name, object_text, u->uploaded_by};
    PGresult *r = bl_pg_exec(u->conn,
                             "INSERT INTO fieldservice_media AS m (organization_id, media_id, intervention_id, "
                             "filename, description, tags, content_type, type_media, size_bytes, sha256, storage, "
                             "large_object, uploaded_by) VALUES ($2, $3, $4, $5, $6, $7::jsonb, $8, $9, "
                             "$10::bigint, $11, $12, $13::oid, $14) RETURNING " BL_MEDIA_JSON_SQL,
                             14, params, err);
    free(tags_text);
    char *row = NULL;
    if (r && PQntuples(r) == 1 && !(row = strdup(PQgetvalue(r, 0, 0))))
        bl_err_set(err, BL_ENOMEM, "media: out of memory");
    PQclear(r);
    if (!row)
        return NULL;
    if (append_event(u, media_id, mime, kind, filename, sha_hex, url, err) != 0 ||
        bl_pg_commit(u->conn, err) != 0) {
        free(row);
        return NULL;
    }
    u->in_tx = false;
    return row;
}

static int upload_end(void *state, bl_http_response *resp)
{
    media_upload *u = state;
    bl_err err = {0};
    bl_http_form *form = u->form;
    u->form = NULL;
    if (bl_http_form_finish(form, &err) != 0) {
        bl_api_fail(u->http, resp, 400, "VALIDATION_ERROR", err.msg, NULL);
        return 0;
    }
    json_t *errors = json_object();
    char mime[BL_MEDIA_MIME_MAX] = "";
    const char *kind = NULL;
    json_t *tags = NULL;
    char *row = NULL;
    int rc = -1;
    if (!errors || check_fields(u, errors, mime, &kind, &err) != 0)
        goto done;
    tags = parse_tags(u, errors);
    if (json_object_size(errors) > 0) {
        rc = bl_api_fail(u->http, resp, 422, "VALIDATION_ERROR", "the upload is not valid", errors);
        errors = NULL; /* stolen */
        goto done;
    }
    if (!(row = store_upload(u, mime, kind, tags, &err)))
        goto done;
    rc = bl_http_response_body_owned(resp, row, strlen(row), "application/json");
    bl_http_response_status(resp, 201);
done:
    if (rc != 0 && err.msg[0])
        bl_log_error("media: upload failed", BL_FS("request_id", bl_http_request_id(u->http)),
                     BL_FS("error", err.msg));
    json_decref(errors);
    json_decref(tags);
    return rc;
}

static void upload_release(void *state)
{
    media_upload *u = state;
    if (!u)
        return;
    bl_http_form_free(u->form);
    if (u->writer)
        u->m->store->writer_abort(u->writer);
    if (u->conn) {
        bl_err err = {0};
        if (u->in_tx && bl_pg_rollback(u->conn, &err) != 0)
            bl_log_warn("media: rollback of a refused upload failed", BL_FS("error", err.msg));
        bl_pg_pool_release(bl_api_server_pool(u->m->server), u->conn);
    }
    EVP_MD_CTX_free(u->sha);
    if (u->counted)
        atomic_fetch_sub(&u->m->uploads, 1);
    free(u);
}

const bl_api_stream_fns bl_media_upload_steps = {
    .begin = upload_begin,
    .chunk = upload_chunk,
    .end = upload_end,
    .release = upload_release,
};
