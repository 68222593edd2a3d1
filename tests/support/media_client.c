/* The media routes' test client (see media_client.h). */
#include "tests/support/media_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int bl_test_media_seed(const bl_test_api *api)
{
    const char *org[] = {api->org};
    const char *other[] = {api->other_org};
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
    return bl_test_sql(api->pool, client, 1, org) == 0 && bl_test_sql(api->pool, intervention, 1, org) == 0 &&
                   bl_test_sql(api->pool, client, 1, other) == 0 &&
                   bl_test_sql(api->pool, other_intervention, 1, other) == 0
               ? 0
               : -1;
}

/* ---- generated files, never held whole ---- */

const unsigned char bl_test_png_head[BL_TEST_PNG_HEAD_LEN] = {
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
    0, 0, 1, 0, 0, 0, 1, 0, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde};

void bl_test_gen_init(bl_test_gen_file *g, const void *head, size_t head_len, size_t size)
{
    *g = (bl_test_gen_file){.head = head, .head_len = head_len, .size = size, .state = 2463534242u};
    g->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(g->sha, EVP_sha256(), NULL);
}

void bl_test_gen_hex(bl_test_gen_file *g, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(g->sha, d, &n);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    EVP_MD_CTX_free(g->sha);
    g->sha = NULL;
}

size_t bl_test_gen_read(char *buf, size_t size, size_t n, void *arg)
{
    bl_test_gen_file *g = arg;
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

long bl_test_media_upload(unsigned short port, const char *token, const bl_test_upload_spec *spec, bl_test_reply *r)
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
        curl_mime_data_cb(part, spec->chunked ? -1 : (curl_off_t)spec->file->size, bl_test_gen_read, NULL, NULL,
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

static size_t download_body(char *buf, size_t size, size_t n, void *arg)
{
    bl_test_download *d = arg;
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
    bl_test_download *d = arg;
    header_value(buf, size * n, "Content-Type", d->content_type, sizeof d->content_type);
    header_value(buf, size * n, "Content-Disposition", d->disposition, sizeof d->disposition);
    return size * n;
}

long bl_test_media_fetch(unsigned short port, const char *path, const char *token, bl_test_download *d)
{
    memset(d, 0, sizeof *d);
    d->sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL);
    CURL *c = curl_easy_init();
    char url[256], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
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

long bl_test_media_post_trickle(unsigned short port, const char *token, const char *body, size_t len,
                                bl_test_reply *r)
{
    memset(r, 0, sizeof *r);
    trickle t = {.data = body, .len = len};
    CURL *c = curl_easy_init();
    char url[128], auth[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/medias/upload", (unsigned)port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
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

/* ---- answers ---- */

const char *bl_test_reply_field(const bl_test_reply *r, const char *name)
{
    return json_string_value(json_object_get(r->json, name));
}

/* The field-service error shape: {"detail", "error_code", "field_errors"}. */
const char *bl_test_reply_fs_code(const bl_test_reply *r)
{
    return bl_test_reply_field(r, "error_code");
}

/* The field errors of an error answer, borrowed: {field: [messages]}. */
json_t *bl_test_reply_field_errors(const bl_test_reply *r)
{
    return json_object_get(r->json, "field_errors");
}

/* Whether r is an error of the field-service shape with code. */
bool bl_test_reply_is_error(const bl_test_reply *r, const char *code)
{
    const char *c = bl_test_reply_fs_code(r);
    return c && strcmp(c, code) == 0 && bl_test_reply_field(r, "detail") != NULL;
}

long long bl_test_media_count(const bl_test_api *api, const char *sql)
{
    char out[32] = "";
    const char *org[] = {api->org};
    if (bl_test_sql_value(api->pool, sql, strchr(sql, '$') ? 1 : 0, org, out, sizeof out) != 0)
        return -1;
    return atoll(out);
}
