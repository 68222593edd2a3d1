/* Field-service media through the real API over loopback, on a real
 * PostgreSQL: a streamed multipart upload and its streamed download (same
 * bytes, same SHA-256, the right headers), the list and its filters, the
 * type judged by content, bad tags and an unknown intervention as field
 * errors, 413 over the limit (declared or found mid-stream) with nothing
 * stored, uploads past the concurrency limit answered 503 until one ends,
 * media.uploaded on the outbox with the row, multipart bodies split
 * in tiny pieces or cut short, the large object store on its own, and a
 * 20 MiB upload and download whose peak RSS growth stays far below the
 * file's size. */
#include "api/fieldservice/media_store.h"
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static bl_test_api api;

/* A second server on the same database with a 64 KiB upload cap, a third
 * with one upload at a time. */
static bl_api_server *small_cap, *one_slot;
#define SMALL_CAP (64 * 1024)

static int seed(void)
{
    const char *org[] = {api.org};
    const char *other[] = {api.other_org};
    static const char client[] =
        "INSERT INTO fieldservice_clients (organization_id, client_id, name, street, postal_code, city, country) "
        "VALUES ($1, 'c-1', 'Client', '1 rue', '75001', 'Paris', 'FR')";
    static const char intervention[] =
        "INSERT INTO fieldservice_interventions (organization_id, intervention_id, client_id, title, street, "
        "postal_code, city, country) VALUES ($1, 'iv-1', 'c-1', 'Fuite', '1 rue', '75001', 'Paris', 'FR'), "
        "($1, 'iv-2', 'c-1', 'Autre', '1 rue', '75001', 'Paris', 'FR')";
    static const char other_intervention[] =
        "INSERT INTO fieldservice_interventions (organization_id, intervention_id, client_id, title, street, "
        "postal_code, city, country) VALUES ($1, 'iv-x', 'c-1', 'Secret', '1 rue', '75001', 'Paris', 'FR')";
    return bl_test_sql(api.pool, client, 1, org) == 0 && bl_test_sql(api.pool, intervention, 1, org) == 0 &&
                   bl_test_sql(api.pool, client, 1, other) == 0 &&
                   bl_test_sql(api.pool, other_intervention, 1, other) == 0
               ? 0
               : -1;
}

/* ---- generated files, never held whole ---- */

/* A file of size bytes: head first (a PNG header, some text...), then
 * bytes of a simple generator, produced piece by piece. */
typedef struct gen_file {
    const unsigned char *head;
    size_t head_len;
    size_t size, pos;
    uint32_t state;
    EVP_MD_CTX *sha; /* hashes what was produced */
} gen_file;

static const unsigned char png_head[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                         0, 0, 1, 0, 0, 0, 1, 0, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde};

static void gen_init(gen_file *g, const void *head, size_t head_len, size_t size)
{
    *g = (gen_file){.head = head, .head_len = head_len, .size = size, .state = 2463534242u};
    g->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(g->sha, EVP_sha256(), NULL);
}

static void gen_hex(gen_file *g, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(g->sha, d, &n);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    EVP_MD_CTX_free(g->sha);
    g->sha = NULL;
}

static size_t gen_read(char *buf, size_t size, size_t n, void *arg)
{
    gen_file *g = arg;
    size_t want = size * n, done = 0;
    while (done < want && g->pos < g->size) {
        if (g->pos < g->head_len) {
            buf[done] = (char)g->head[g->pos];
        } else {
            g->state ^= g->state << 13;
            g->state ^= g->state >> 17;
            g->state ^= g->state << 5;
            buf[done] = (char)(g->state & 0xff);
        }
        done++;
        g->pos++;
    }
    EVP_DigestUpdate(g->sha, buf, done);
    return done;
}

/* ---- calls ---- */

typedef struct upload_spec {
    const char *intervention_id; /* NULL: no part */
    const char *description;
    const char *tags;
    const char *filename;
    const char *declared_type; /* the part's Content-Type */
    gen_file *file;            /* NULL: no file part */
    bool chunked;              /* the file's size unknown to curl: a chunked body */
} upload_spec;

static size_t collect(char *buf, size_t size, size_t n, void *arg)
{
    bl_test_reply *r = arg;
    size_t len = size * n, old = r->body ? strlen(r->body) : 0;
    char *grown = realloc(r->body, old + len + 1);
    if (!grown)
        return 0;
    memcpy(grown + old, buf, len);
    grown[old + len] = '\0';
    r->body = grown;
    return len;
}

static long upload(unsigned short port, const char *token, const upload_spec *spec, bl_test_reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    curl_mime *mime = curl_mime_init(c);
    curl_mimepart *part;
    if (spec->file) {
        part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filename(part, spec->filename ? spec->filename : "file.bin");
        curl_mime_type(part, spec->declared_type ? spec->declared_type : "application/octet-stream");
        curl_mime_data_cb(part, spec->chunked ? -1 : (curl_off_t)spec->file->size, gen_read, NULL, NULL,
                          spec->file);
    }
    const char *names[] = {"intervention_id", "description", "tags"};
    const char *values[] = {spec->intervention_id, spec->description, spec->tags};
    for (int i = 0; i < 3; i++) {
        if (!values[i])
            continue;
        part = curl_mime_addpart(mime);
        curl_mime_name(part, names[i]);
        curl_mime_data(part, values[i], CURL_ZERO_TERMINATED);
    }
    char url[128], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/medias/upload", (unsigned)port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf(stderr, "  upload: %s\n", curl_easy_strerror(cc));
    curl_slist_free_all(headers);
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    r->json = r->body ? json_loads(r->body, 0, NULL) : NULL;
    return r->status;
}

typedef struct download {
    long status;
    size_t size;
    EVP_MD_CTX *sha;
    char sha_hex[65];
    char content_type[128], disposition[512];
} download;

static size_t download_body(char *buf, size_t size, size_t n, void *arg)
{
    download *d = arg;
    EVP_DigestUpdate(d->sha, buf, size * n);
    d->size += size * n;
    return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t out_len)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    while (*v == ' ')
        v++;
    size_t vl = (size_t)(line + len - v);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
        vl--;
    snprintf(out, out_len, "%.*s", (int)vl, v);
}

static size_t download_header(char *buf, size_t size, size_t n, void *arg)
{
    download *d = arg;
    header_value(buf, size * n, "Content-Type", d->content_type, sizeof d->content_type);
    header_value(buf, size * n, "Content-Disposition", d->disposition, sizeof d->disposition);
    return size * n;
}

static long fetch(const char *path, const char *token, download *d)
{
    memset(d, 0, sizeof *d);
    d->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL);
    CURL *c = curl_easy_init();
    char url[256], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)bl_api_server_port(api.server), path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, download_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, download_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &d->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(d->sha, digest, &n);
    EVP_MD_CTX_free(d->sha);
    for (int i = 0; i < 32; i++)
        snprintf(d->sha_hex + 2 * i, 3, "%02x", digest[i]);
    return d->status;
}

static const char *field(const bl_test_reply *r, const char *name)
{
    return json_string_value(json_object_get(r->json, name));
}

/* The field-service error shape: {"detail", "error_code", "field_errors"}. */
static const char *error_code(const bl_test_reply *r)
{
    return field(r, "error_code");
}

/* The field errors of an error answer, borrowed: {field: [messages]}. */
static json_t *field_errors(const bl_test_reply *r)
{
    return json_object_get(r->json, "field_errors");
}

/* Whether r is an error of the field-service shape with code. */
static bool is_error(const bl_test_reply *r, const char *code)
{
    const char *c = error_code(r);
    return c && strcmp(c, code) == 0 && field(r, "detail") != NULL;
}

static long long count_of(const char *sql)
{
    char out[32] = "";
    const char *org[] = {api.org};
    if (bl_test_sql_value(api.pool, sql, strchr(sql, '$') ? 1 : 0, org, out, sizeof out) != 0)
        return -1;
    return atoll(out);
}

#define MEDIA_ROWS "SELECT count(*) FROM fieldservice_media WHERE organization_id = $1"
#define LARGE_OBJECTS "SELECT count(*) FROM pg_largeobject_metadata"

/* ---- tests ---- */

static void upload_then_download_gives_the_same_bytes_and_headers(void)
{
    gen_file g;
    gen_init(&g, png_head, sizeof png_head, 300 * 1024 + 7);
    upload_spec spec = {.intervention_id = "iv-1", .description = "Tache au plafond de la cave",
                        .tags = "[\"fuite\", \"cave\"]", .filename = "fuite cave \xc3\xa9t\xc3\xa9.png",
                        .declared_type = "image/png", .file = &g};
    bl_test_reply r;
    REQUIRE(upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char sha[65];
    gen_hex(&g, sha);
    CHECK_EQ_STR(field(&r, "sha256"), sha);
    CHECK_EQ_STR(field(&r, "content_type"), "image/png");
    CHECK_EQ_STR(field(&r, "type_media"), "image");
    CHECK_EQ_STR(field(&r, "intervention_id"), "iv-1");
    CHECK_EQ_STR(field(&r, "nom_fichier"), "fuite cave \xc3\xa9t\xc3\xa9.png");
    CHECK_EQ_STR(field(&r, "description"), "Tache au plafond de la cave");
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), 300 * 1024 + 7);
    CHECK_EQ_INT(json_array_size(json_object_get(r.json, "tags")), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r.json, "tags"), 1)), "cave");
    CHECK(field(&r, "date_creation") != NULL);
    char id[64], url[160];
    snprintf(id, sizeof id, "%s", field(&r, "id") ? field(&r, "id") : "");
    snprintf(url, sizeof url, "/api/medias/%s/download", id);
    CHECK_EQ_STR(field(&r, "url"), url);
    bl_test_reply_clear(&r);

    download d;
    REQUIRE(fetch(url, api.write_token, &d) == 200);
    CHECK_EQ_INT(d.size, 300 * 1024 + 7);
    CHECK_EQ_STR(d.sha_hex, sha);
    CHECK_EQ_STR(d.content_type, "image/png");
    CHECK(strstr(d.disposition, "attachment; filename=\"fuite cave __t__.png\"") != NULL);
    CHECK(strstr(d.disposition, "filename*=UTF-8''fuite%20cave%20%C3%A9t%C3%A9.png") != NULL);

    /* the list finds it by intervention, type and search, and not otherwise */
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/?intervention_id=iv-1&type_media=image&search=CAVE",
                             api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "page")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "size")), 10);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "pages")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "medias"), 0), "id")), id);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/?search=fuite", api.write_token, NULL, NULL, &r) == 200);
    CHECK(json_integer_value(json_object_get(r.json, "total")) >= 1); /* a tag */
    bl_test_reply_clear(&r);
    const char *misses[] = {"/api/medias/?intervention_id=iv-2", "/api/medias/?type_media=video",
                            "/api/medias/?search=grenier"};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(bl_test_api_call(&api, "GET", misses[i], api.write_token, NULL, NULL, &r) == 200);
        CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
        CHECK_EQ_INT(json_array_size(json_object_get(r.json, "medias")), 0);
        bl_test_reply_clear(&r);
    }
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/api/medias/?type_media=text&size=500", api.write_token, NULL,
                                  NULL, &r),
                 422);
    CHECK(is_error(&r, "VALIDATION_ERROR"));
    CHECK(json_is_array(json_object_get(field_errors(&r), "type_media")));
    CHECK(json_is_array(json_object_get(field_errors(&r), "size")));
    bl_test_reply_clear(&r);

    /* another organization neither lists nor downloads it */
    REQUIRE(bl_test_api_call(&api, "GET", "/api/medias/", api.other_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "total")), 0);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(fetch(url, api.other_token, &d), 404);
    CHECK_EQ_STR(d.content_type, "application/json");
    CHECK_EQ_INT(fetch("/api/medias/no-such-media/download", api.write_token, &d), 404);
}

static void media_uploaded_is_on_the_outbox_with_the_row(void)
{
    gen_file g;
    gen_init(&g, png_head, sizeof png_head, 4096);
    upload_spec spec = {.intervention_id = "iv-2", .filename = "media-event.png", .file = &g};
    bl_test_reply r;
    REQUIRE(upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char sha[65];
    gen_hex(&g, sha);
    const char *params[] = {field(&r, "id")};
    char out[256] = "";
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT count(*) || ' ' || min(topic) FROM busline_outbox WHERE event_type = "
                              "'media.uploaded' AND aggregate_type = 'media' AND aggregate_id = $1",
                              1, params, out, sizeof out) == 0);
    char want[256];
    snprintf(want, sizeof want, "1 %sevents.fieldservice.media", api.prefix);
    CHECK_EQ_STR(out, want);
    /* the event's payload carries the digest, the name and the kind (Avro strings are stored as they are) */
    REQUIRE(bl_test_sql_value(api.pool,
                              "SELECT position(convert_to(m.sha256, 'UTF8') IN o.payload) > 0 "
                              "AND position(convert_to('media-event.png', 'UTF8') IN o.payload) > 0 "
                              "AND position(convert_to('image', 'UTF8') IN o.payload) > 0 FROM busline_outbox o "
                              "JOIN fieldservice_media m ON m.media_id = o.aggregate_id WHERE o.aggregate_id = $1",
                              1, params, out, sizeof out) == 0);
    CHECK_EQ_STR(out, "t");
    bl_test_reply_clear(&r);
}

static void type_is_judged_by_content_not_by_name(void)
{
    long long rows = count_of(MEDIA_ROWS), objects = count_of(LARGE_OBJECTS);
    static const char text[] = "Ceci n'est pas une photo, juste du texte.\n";
    gen_file g;
    gen_init(&g, (const unsigned char *)text, sizeof text - 1, sizeof text - 1);
    upload_spec spec = {.intervention_id = "iv-1", .filename = "photo.jpg", .declared_type = "image/jpeg",
                        .file = &g};
    bl_test_reply r;
    CHECK_EQ_INT(upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(is_error(&r, "VALIDATION_ERROR"));
    const char *why = json_string_value(json_array_get(json_object_get(field_errors(&r), "file"), 0));
    CHECK(why && strstr(why, "text/plain") != NULL);
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(count_of(MEDIA_ROWS), rows);
    CHECK_EQ_INT(count_of(LARGE_OBJECTS), objects);

    /* and a real PDF named .txt is a document */
    static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
    gen_init(&g, (const unsigned char *)pdf, sizeof pdf - 1, 2048);
    spec = (upload_spec){.intervention_id = "iv-1", .filename = "notes.txt", .declared_type = "text/plain",
                         .file = &g};
    CHECK_EQ_INT(upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 201);
    CHECK_EQ_STR(field(&r, "content_type"), "application/pdf");
    CHECK_EQ_STR(field(&r, "type_media"), "document");
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
}

static void bad_fields_are_each_listed_and_nothing_is_stored(void)
{
    long long rows = count_of(MEDIA_ROWS), objects = count_of(LARGE_OBJECTS);
    const char *bad_tags[] = {"pas du json", "{\"a\": 1}", "[1, 2]", "[\"\"]", "\"fuite\""};
    bl_test_reply r;
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++) {
        gen_file g;
        gen_init(&g, png_head, sizeof png_head, 1000);
        upload_spec spec = {.intervention_id = "iv-1", .tags = bad_tags[i], .filename = "a.png", .file = &g};
        CHECK_EQ_INT(upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
        CHECK(json_object_get(field_errors(&r), "tags") != NULL);
        CHECK_EQ_INT(json_object_size(field_errors(&r)), 1);
        bl_test_reply_clear(&r);
        gen_hex(&g, (char[65]){0});
    }
    /* an intervention of another organization is unknown here, and every bad field is named at once */
    gen_file g;
    gen_init(&g, png_head, sizeof png_head, 1000);
    upload_spec spec = {.intervention_id = "iv-x", .tags = "nope", .filename = "a.png", .file = &g};
    CHECK_EQ_INT(upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(is_error(&r, "VALIDATION_ERROR"));
    CHECK(json_object_get(field_errors(&r), "intervention_id") != NULL);
    CHECK(json_object_get(field_errors(&r), "tags") != NULL);
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
    /* no file and no intervention */
    spec = (upload_spec){.description = "rien"};
    CHECK_EQ_INT(upload(bl_api_server_port(api.server), api.write_token, &spec, &r), 422);
    CHECK(json_object_get(field_errors(&r), "file") != NULL);
    CHECK(json_object_get(field_errors(&r), "intervention_id") != NULL);
    bl_test_reply_clear(&r);
    /* not a form at all */
    CHECK_EQ_INT(bl_test_api_call(&api, "POST", "/api/medias/upload", api.write_token, NULL, "{\"file\": 1}", &r),
                 415);
    CHECK(is_error(&r, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* no credentials */
    gen_init(&g, png_head, sizeof png_head, 1000);
    spec = (upload_spec){.intervention_id = "iv-1", .filename = "a.png", .file = &g};
    CHECK_EQ_INT(upload(bl_api_server_port(api.server), "not-a-key", &spec, &r), 401);
    CHECK(is_error(&r, "AUTHENTICATION_ERROR"));
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(count_of(MEDIA_ROWS), rows);
    CHECK_EQ_INT(count_of(LARGE_OBJECTS), objects);
}

static void over_the_limit_is_413_declared_or_mid_stream_and_nothing_is_stored(void)
{
    long long rows = count_of(MEDIA_ROWS), objects = count_of(LARGE_OBJECTS);
    unsigned short port = bl_api_server_port(small_cap);
    bl_test_reply r;
    for (int chunked = 0; chunked < 2; chunked++) {
        gen_file g;
        gen_init(&g, png_head, sizeof png_head, 4 * SMALL_CAP);
        upload_spec spec = {.intervention_id = "iv-1", .filename = "big.png", .file = &g, .chunked = chunked};
        CHECK_EQ_INT(upload(port, api.write_token, &spec, &r), 413);
        CHECK(is_error(&r, "VALIDATION_ERROR"));
        CHECK(field(&r, "detail") && strstr(field(&r, "detail"), "65536") != NULL);
        bl_test_reply_clear(&r);
        gen_hex(&g, (char[65]){0});
    }
    CHECK_EQ_INT(count_of(MEDIA_ROWS), rows);
    CHECK_EQ_INT(count_of(LARGE_OBJECTS), objects);
    /* under the cap, the same server stores */
    gen_file g;
    gen_init(&g, png_head, sizeof png_head, SMALL_CAP / 2);
    upload_spec spec = {.intervention_id = "iv-1", .filename = "small.png", .file = &g, .chunked = true};
    CHECK_EQ_INT(upload(port, api.write_token, &spec, &r), 201);
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(count_of(MEDIA_ROWS), rows + 1);
}

/* A hand-written multipart body sent a few bytes per write, so part
 * headers and boundaries arrive split across pieces. */
typedef struct trickle {
    const char *data;
    size_t len, pos;
} trickle;

static size_t trickle_read(char *buf, size_t size, size_t n, void *arg)
{
    trickle *t = arg;
    size_t want = size * n < 3 ? size * n : 3;
    size_t left = t->len - t->pos;
    size_t k = want < left ? want : left;
    memcpy(buf, t->data + t->pos, k);
    t->pos += k;
    return k;
}

static long post_raw(const char *body, size_t len, bl_test_reply *r)
{
    memset(r, 0, sizeof *r);
    trickle t = {.data = body, .len = len};
    CURL *c = curl_easy_init();
    char url[128], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/medias/upload", (unsigned)bl_api_server_port(api.server));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", api.write_token);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Content-Type: multipart/form-data; boundary=----b");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, trickle_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    r->json = r->body ? json_loads(r->body, 0, NULL) : NULL;
    return r->status;
}

/* The file: a PNG header, then lines that look like the delimiter without
 * being one (another boundary, the boundary not after a CRLF, a bare
 * "--"), CR and LF alone, and a trailing CRLF that belongs to the file. */
static const char trickle_file[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"
                                   "\r\n------c\r\nxx------b yy\r\n--\r\n\n\r lone\r\n";

static size_t multipart_body(char *out, size_t cap, bool closed)
{
    static const char head[] = "------b\r\nContent-Disposition: form-data; name=\"intervention_id\"\r\n\r\niv-1\r\n"
                               "------b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"split.png\"\r\n"
                               "Content-Type: image/png\r\n\r\n";
    static const char tail[] = "\r\n------b\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\n[\"x\"]\r\n";
    static const char close[] = "------b--\r\n";
    size_t n = 0;
    memcpy(out + n, head, sizeof head - 1);
    n += sizeof head - 1;
    memcpy(out + n, trickle_file, sizeof trickle_file - 1);
    n += sizeof trickle_file - 1;
    memcpy(out + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    if (closed) {
        memcpy(out + n, close, sizeof close - 1);
        n += sizeof close - 1;
    }
    (void)cap;
    return n;
}

static void a_multipart_body_split_in_tiny_pieces_keeps_every_byte(void)
{
    char body[1024];
    size_t len = multipart_body(body, sizeof body, true);
    char sha[65];
    {
        EVP_MD_CTX *x = EVP_MD_CTX_new();
        unsigned char d[32];
        unsigned int n = 0;
        EVP_DigestInit_ex(x, EVP_sha256(), NULL);
        EVP_DigestUpdate(x, trickle_file, sizeof trickle_file - 1);
        EVP_DigestFinal_ex(x, d, &n);
        EVP_MD_CTX_free(x);
        for (int i = 0; i < 32; i++)
            snprintf(sha + 2 * i, 3, "%02x", d[i]);
    }
    bl_test_reply r;
    REQUIRE(post_raw(body, len, &r) == 201);
    CHECK_EQ_STR(field(&r, "sha256"), sha);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), (long long)(sizeof trickle_file - 1));
    CHECK_EQ_STR(field(&r, "nom_fichier"), "split.png");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r.json, "tags"), 0)), "x");
    bl_test_reply_clear(&r);
}

static void a_multipart_body_without_its_closing_boundary_stores_nothing(void)
{
    long long rows = count_of(MEDIA_ROWS), objects = count_of(LARGE_OBJECTS);
    char body[1024];
    size_t len = multipart_body(body, sizeof body, false);
    bl_test_reply r;
    CHECK_EQ_INT(post_raw(body, len, &r), 400);
    CHECK(is_error(&r, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* cut in the middle of the file part */
    len = multipart_body(body, sizeof body, true);
    CHECK_EQ_INT(post_raw(body, len / 2, &r), 400);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(count_of(MEDIA_ROWS), rows);
    CHECK_EQ_INT(count_of(LARGE_OBJECTS), objects);
}

/* The store on its own: an object written in uneven pieces (across its
 * write batches) reads back the same, is gone with a rollback, and once
 * removed cannot be opened. */
static void the_large_object_store_round_trips_rolls_back_and_removes(void)
{
    const bl_media_store *st = bl_media_store_pg();
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    REQUIRE(conn);
    enum { SIZE = 700 * 1024 + 13 };
    char *data = malloc(SIZE), *back = malloc(SIZE + 1);
    REQUIRE(data && back);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (char)(i * 31 % 253);
    uint64_t object = 0, rolled_back = 0;
    /* written, then rolled back: no object */
    REQUIRE(bl_pg_begin(conn, &err) == 0);
    bl_media_writer *w = st->writer_open(conn, &err);
    REQUIRE(w);
    CHECK(st->write(w, data, 1000, &err) == 0);
    CHECK(st->writer_close(w, &rolled_back, &err) == 0);
    CHECK(bl_pg_rollback(conn, &err) == 0);
    /* written in pieces of 1, 4095, 300 KiB and the rest, committed */
    REQUIRE(bl_pg_begin(conn, &err) == 0);
    REQUIRE((w = st->writer_open(conn, &err)) != NULL);
    size_t pieces[] = {1, 4095, 300 * 1024, SIZE - 1 - 4095 - 300 * 1024}, at = 0;
    for (size_t i = 0; i < 4; i++) {
        CHECK(st->write(w, data + at, pieces[i], &err) == 0);
        at += pieces[i];
    }
    CHECK(st->writer_close(w, &object, &err) == 0);
    CHECK(bl_pg_commit(conn, &err) == 0);
    /* read back in reads of at most 32 KiB */
    REQUIRE(bl_pg_begin(conn, &err) == 0);
    bl_media_reader *r = st->reader_open(conn, object, &err);
    REQUIRE(r);
    size_t got = 0;
    ssize_t n;
    while ((n = st->read(r, back + got, SIZE + 1 - got < 32768 ? SIZE + 1 - got : 32768, &err)) > 0)
        got += (size_t)n;
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(got, SIZE);
    CHECK(memcmp(back, data, SIZE) == 0);
    st->reader_close(r);
    CHECK(st->reader_open(conn, rolled_back, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(bl_pg_rollback(conn, &err) == 0);
    /* removed */
    REQUIRE(bl_pg_begin(conn, &err) == 0);
    CHECK(st->remove(conn, object, &err) == 0);
    CHECK(bl_pg_commit(conn, &err) == 0);
    REQUIRE(bl_pg_begin(conn, &err) == 0);
    CHECK(st->reader_open(conn, object, &err) == NULL);
    CHECK(bl_pg_rollback(conn, &err) == 0);
    bl_pg_pool_release(api.pool, conn);
    free(data);
    free(back);
}

/* Waits (at most 10 s) until n transactions of the test database are open
 * and idle: an upload's, between two pieces of its body. */
static bool open_transactions_reach(long long n)
{
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000; i++) {
        if (count_of("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND state = 'idle in transaction'") >= n)
            return true;
        nanosleep(&nap, NULL);
    }
    return false;
}

static void uploads_past_the_concurrency_are_503_until_one_ends(void)
{
    unsigned short port = bl_api_server_port(one_slot);
    /* an upload that sends its headers and a first piece, then waits */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /api/medias/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: multipart/form-data; boundary=zz\r\nContent-Length: 100000\r\n\r\n--zz\r\n",
                     api.write_token);
    CHECK(write(fd, head, (size_t)n) == n);
    REQUIRE(open_transactions_reach(1));

    gen_file g;
    gen_init(&g, png_head, sizeof png_head, 1000);
    upload_spec spec = {.intervention_id = "iv-1", .filename = "second.png", .file = &g};
    bl_test_reply r;
    CHECK_EQ_INT(upload(port, api.write_token, &spec, &r), 503);
    CHECK(is_error(&r, "INTERNAL_ERROR"));
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});

    /* the first one goes away: its slot (and its transaction) come back */
    close(fd);
    long status = 0;
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000 && status != 201; i++) {
        gen_init(&g, png_head, sizeof png_head, 1000);
        status = upload(port, api.write_token, &spec, &r);
        bl_test_reply_clear(&r);
        gen_hex(&g, (char[65]){0});
        if (status == 503)
            nanosleep(&nap, NULL);
        else
            break;
    }
    CHECK_EQ_INT(status, 201);
}

/* The process's peak resident set (VmHWM), in KiB. */
static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static void a_20_mib_upload_and_download_keep_peak_rss_far_below_the_file_size(void)
{
    const size_t size = 20u * 1024 * 1024;
    bl_test_reply r;
    /* a first upload and download warm every lazy thing up (magic database, pool connections) */
    gen_file g;
    gen_init(&g, png_head, sizeof png_head, 512 * 1024);
    upload_spec spec = {.intervention_id = "iv-2", .filename = "warm.png", .file = &g};
    REQUIRE(upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    char url[160];
    snprintf(url, sizeof url, "%s", field(&r, "url") ? field(&r, "url") : "");
    bl_test_reply_clear(&r);
    gen_hex(&g, (char[65]){0});
    download d;
    REQUIRE(fetch(url, api.write_token, &d) == 200);

    long before = peak_rss_kib();
    REQUIRE(before > 0);
    gen_init(&g, png_head, sizeof png_head, size);
    spec = (upload_spec){.intervention_id = "iv-2", .filename = "video-longue.png", .file = &g};
    REQUIRE(upload(bl_api_server_port(api.server), api.write_token, &spec, &r) == 201);
    long after_upload = peak_rss_kib();
    char sha[65];
    gen_hex(&g, sha);
    CHECK_EQ_STR(field(&r, "sha256"), sha);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), (long long)size);
    snprintf(url, sizeof url, "%s", field(&r, "url") ? field(&r, "url") : "");
    bl_test_reply_clear(&r);
    REQUIRE(fetch(url, api.write_token, &d) == 200);
    long after_download = peak_rss_kib();
    CHECK_EQ_INT(d.size, (long long)size);
    CHECK_EQ_STR(d.sha_hex, sha);
    fprintf(stderr, "  peak RSS: %ld KiB before, %ld after the upload, %ld after the download (file: %zu KiB)\n",
            before, after_upload, after_download, size / 1024);
    /* a memory bound: held whole, the file alone would add 20480 KiB */
    CHECK(after_upload - before < (long)(size / 1024 / 4));
    CHECK(after_download - before < (long)(size / 1024 / 4));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    bl_err err = {0};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .upload_cap = SMALL_CAP};
    bl_api_config one = {.jwt_secret = BL_TEST_API_JWT_SECRET, .upload_concurrency = 1};
    if (bl_test_api_start(&api, 0) == 0 && seed() == 0 &&
        (small_cap = bl_api_server_new(&cfg, api.pool, &err)) && bl_api_server_start(small_cap, &err) == 0 &&
        (one_slot = bl_api_server_new(&one, api.pool, &err)) && bl_api_server_start(one_slot, &err) == 0) {
        BL_RUN(upload_then_download_gives_the_same_bytes_and_headers);
        BL_RUN(media_uploaded_is_on_the_outbox_with_the_row);
        BL_RUN(type_is_judged_by_content_not_by_name);
        BL_RUN(bad_fields_are_each_listed_and_nothing_is_stored);
        BL_RUN(over_the_limit_is_413_declared_or_mid_stream_and_nothing_is_stored);
        BL_RUN(a_multipart_body_split_in_tiny_pieces_keeps_every_byte);
        BL_RUN(a_multipart_body_without_its_closing_boundary_stores_nothing);
        BL_RUN(the_large_object_store_round_trips_rolls_back_and_removes);
        BL_RUN(uploads_past_the_concurrency_are_503_until_one_ends);
        BL_RUN(a_20_mib_upload_and_download_keep_peak_rss_far_below_the_file_size);
    } else {
        if (err.msg[0])
            fprintf(stderr, "  small-cap server: %s\n", err.msg);
        bl_test_failures++;
    }
    bl_api_server_free(one_slot);
    bl_api_server_free(small_cap);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
