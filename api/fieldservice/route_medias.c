/* The field-service media of the SmartLeakPro API (/api/medias): the list
 * (GET /medias/ with intervention_id, type_media, search, page and size,
 * answered {"medias": [...], "total", "page", "size", "pages"}), the
 * streamed upload (POST /medias/upload, see media_upload.c) and the
 * streamed download (GET /medias/{id}/download, read from the media store
 * in 32 KiB pieces while it is sent, with the stored Content-Type and a
 * Content-Disposition naming the file). Everything is scoped to the
 * caller's organization; paths are relative to the field-service surface's
 * prefix (/api by default), and so are the download URLs it answers. */
#include "api/fieldservice/media_internal.h"

#include "api/routes/routes.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/uuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MAX 100
#define SEARCH_MAX 200

bl_domain_events *bl_media_events(bl_media_routes *m, bl_err *err)
{
    pthread_mutex_lock(&m->events_lock);
    if (!m->events) {
        const bl_api_config *cfg = bl_api_server_config(m->server);
        m->events = bl_domain_events_new_entity(bl_api_server_pool(m->server), cfg->schemas_dir, "fieldservice",
                                                "media", "busline-api", cfg->topic_prefix, err);
    }
    bl_domain_events *ev = m->events;
    pthread_mutex_unlock(&m->events_lock);
    return ev;
}

/* ---- GET /medias/ ---- */

static int parse_count(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int list_medias(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_media_routes *m = ctx;
    const bl_http_request *h = req->http;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    long page = 1, size = PAGE_SIZE_DEFAULT;
    const char *v;
    if ((v = bl_http_request_query(h, "page")) && parse_count(v, 1, 1000000, &page) != 0)
        json_object_set_new(errors, "page", json_string("an integer from 1"));
    if ((v = bl_http_request_query(h, "size")) && parse_count(v, 1, PAGE_SIZE_MAX, &size) != 0)
        json_object_set_new(errors, "size", json_string("an integer from 1 to 100"));
    const char *type = bl_http_request_query(h, "type_media");
    if (type && !(strcmp(type, "image") == 0 || strcmp(type, "video") == 0 || strcmp(type, "audio") == 0 ||
                  strcmp(type, "document") == 0))
        json_object_set_new(errors, "type_media", json_string("one of image, video, audio, document"));
    const char *search = bl_http_request_query(h, "search");
    if (search && strlen(search) > SEARCH_MAX)
        json_object_set_new(errors, "search", json_string("at most 200 bytes"));
    const char *intervention = bl_http_request_query(h, "intervention_id");
    if (json_object_size(errors) > 0)
        return bl_api_fail(h, resp, 422, "VALIDATION_ERROR", "invalid query parameters", errors);
    json_decref(errors);
    char page_text[24], size_text[24];
    snprintf(page_text, sizeof page_text, "%ld", page);
    snprintf(size_text, sizeof size_text, "%ld", size);
    const char *params[] = {m->prefix, req->auth->org_id, intervention && *intervention ? intervention : NULL,
                            type && *type ? type : NULL, search && *search ? search : NULL, page_text, size_text};
    /* search: a case-insensitive substring of the file name or description, or a tag */
    static const char sql[] =
        "WITH f AS (SELECT * FROM fieldservice_media m WHERE m.organization_id = $2 "
        "AND ($3::text IS NULL OR m.intervention_id = $3) AND ($4::text IS NULL OR m.type_media = $4) "
        "AND ($5::text IS NULL OR strpos(lower(m.filename), lower($5)) > 0 "
        "OR strpos(lower(coalesce(m.description, '')), lower($5)) > 0 OR m.tags ? $5)), "
        "p AS (SELECT * FROM f m ORDER BY m.created_at DESC, m.media_id "
        "LIMIT $7::int OFFSET ($6::bigint - 1) * $7::int), "
        "t AS (SELECT count(*) AS total FROM f) "
        "SELECT json_build_object('medias', coalesce((SELECT json_agg(" BL_MEDIA_JSON_SQL
        " ORDER BY m.created_at DESC, m.media_id) FROM p m), '[]'::json), "
        "'total', t.total, 'page', $6::bigint, 'size', $7::int, "
        "'pages', (t.total + $7::int - 1) / $7::int) FROM t";
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(m->server, &err);
    if (!conn)
        return -1;
    PGresult *r = bl_pg_exec(conn, sql, 7, params, &err);
    bl_pg_pool_release(bl_api_server_pool(m->server), conn);
    if (!r || PQntuples(r) != 1) {
        bl_log_error("media: list failed", BL_FS("error", err.msg));
        PQclear(r);
        return -1;
    }
    int rc = bl_http_response_body_copy(resp, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0),
                                        "application/json");
    PQclear(r);
    return rc;
}

/* ---- GET /medias/:id/download ---- */

typedef struct media_download {
    bl_media_routes *m;
    PGconn *conn; /* in the read transaction until release */
    bl_media_reader *reader;
    uint64_t size;
    char media_id[BL_UUID_SIZE + 64];
} media_download;

static void download_release(void *state)
{
    media_download *d = state;
    if (!d)
        return;
    d->m->store->reader_close(d->reader);
    if (d->conn) {
        bl_err err = {0};
        bl_pg_rollback(d->conn, &err); /* nothing was written: ending the read is all */
        bl_pg_pool_release(bl_api_server_pool(d->m->server), d->conn);
    }
    free(d);
}

static ssize_t download_read(void *state, uint64_t pos, char *buf, size_t max)
{
    media_download *d = state;
    (void)pos; /* MHD reads in order, once */
    if (pos >= d->size)
        return 0;
    bl_err err = {0};
    ssize_t n = d->m->store->read(d->reader, buf, max, &err);
    if (n <= 0) /* the row promised more bytes than the store has */
        bl_log_error("media: download cut short", BL_FS("media_id", d->media_id),
                     BL_FS("error", n < 0 ? err.msg : "the object ended early"));
    return n > 0 ? n : -1;
}

/* Content-Disposition for name: an ASCII fallback and the UTF-8 name
 * percent-encoded (RFC 6266, RFC 5987) into out (at least 4 * 255 + 96). */
static void content_disposition(const char *name, char *out, size_t out_len)
{
    char ascii[256], encoded[3 * 255 + 1];
    size_t a = 0, e = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && a < sizeof ascii - 1; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~", c);
        ascii[a++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '_';
        if (e + 4 > sizeof encoded)
            continue;
        if (plain) {
            encoded[e++] = (char)c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            encoded[e++] = '%';
            encoded[e++] = hex[c >> 4];
            encoded[e++] = hex[c & 15];
        }
    }
    ascii[a] = '\0';
    encoded[e] = '\0';
    snprintf(out, out_len, "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, encoded);
}

static int download_media(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    bl_media_routes *m = ctx;
    const char *id = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    media_download *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    d->m = m;
    snprintf(d->media_id, sizeof d->media_id, "%s", id);
    if (!(d->conn = bl_api_acquire_pg(m->server, &err)) || bl_pg_begin(d->conn, &err) != 0) {
        download_release(d);
        return -1;
    }
    const char *params[] = {req->auth->org_id, id, m->store->name};
    PGresult *r = bl_pg_exec(d->conn,
                             "SELECT filename, content_type, size_bytes, large_object, sha256 FROM fieldservice_media "
                             "WHERE organization_id = $1 AND media_id = $2 AND storage = $3",
                             3, params, &err);
    if (!r) {
        download_release(d);
        return -1;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        download_release(d);
        return bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such media", NULL);
    }
    char disposition[4 * 255 + 96], content_type[BL_MEDIA_MIME_MAX], etag[BL_SHA256_HEX_SIZE + 2];
    content_disposition(PQgetvalue(r, 0, 0), disposition, sizeof disposition);
    snprintf(content_type, sizeof content_type, "%s", PQgetvalue(r, 0, 1));
    d->size = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
    uint64_t object = strtoull(PQgetvalue(r, 0, 3), NULL, 10);
    snprintf(etag, sizeof etag, "\"%.64s\"", PQgetvalue(r, 0, 4));
    PQclear(r);
    if (!(d->reader = m->store->reader_open(d->conn, object, &err))) {
        bl_log_error("media: stored object unreadable", BL_FS("media_id", d->media_id), BL_FS("error", err.msg));
        download_release(d);
        return -1;
    }
    if (bl_http_response_header(resp, "Content-Disposition", disposition) != 0 ||
        bl_http_response_header(resp, "ETag", etag) != 0 ||
        bl_http_response_header(resp, "X-Content-Type-Options", "nosniff") != 0) {
        download_release(d);
        return -1;
    }
    return bl_http_response_body_stream(resp, d->size, download_read, download_release, d, content_type);
}

/* ---- install ---- */

static void media_routes_free(void *ctx)
{
    bl_media_routes *m = ctx;
    bl_domain_events_free(m->events);
    bl_media_sniffer_free(m->sniffer);
    pthread_mutex_destroy(&m->events_lock);
    free(m);
}

int bl_api_routes_medias(bl_api_server *s, bl_err *err)
{
    bl_media_routes *m = calloc(1, sizeof *m);
    if (!m)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    *m = (bl_media_routes){.server = s, .store = bl_media_store_pg(),
                           .prefix = bl_api_server_surface_prefix(s, BL_API_SURFACE_FIELD_SERVICE)};
    pthread_mutex_init(&m->events_lock, NULL);
    if (!(m->sniffer = bl_media_sniffer_new(err))) {
        media_routes_free(m);
        return -1;
    }
    if (bl_api_server_on_free(s, media_routes_free, m, err) != 0)
        return -1;
    static const bl_api_route routes[] = {
        {"GET", "/medias/", BL_API_BY_METHOD, list_medias},
        {"GET", "/medias/:id/download", BL_API_BY_METHOD, download_media},
    };
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0], m,
                                     err) != 0)
        return -1;
    if (bl_api_server_surface_stream_route(s, BL_API_SURFACE_FIELD_SERVICE, "POST", "/medias/upload",
                                           BL_API_BY_METHOD, &bl_media_upload_steps, m, err) != 0)
        return -1;
    return bl_media_document(s, err);
}
