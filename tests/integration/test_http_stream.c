/* Streamed bodies of core/http_server (core/http_stream.h) on loopback: a
 * request body reaches the route whole (sized or chunked), past the cap it
 * stops reaching it (413, declared or mid-stream), a refusal in begin is
 * answered before the body to a client that waits on 100-continue, state is
 * released when the client goes away mid-body, and a streamed response is
 * read piece by piece and released once. */
#include "core/http_form.h"
#include "core/http_server.h"
#include "core/http_stream.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAP (32 * 1024)

static bl_http_server *server;

/* What the route saw, for the test to read. */
static atomic_int begins, ends, releases, last_outcome, response_releases;
static atomic_long chunk_bytes, chunk_calls;

typedef struct sum_state {
    long bytes;
    unsigned long long sum; /* of the bytes, to tell the body arrived intact */
} sum_state;

static int sum_begin(const bl_http_request *req, bl_http_response *resp, void *ctx, void **state)
{
    (void)ctx;
    atomic_fetch_add(&begins, 1);
    if (bl_http_request_header(req, "X-Refuse")) {
        bl_http_response_error(resp, 403, "refused before the body");
        return BL_HTTP_ANSWERED;
    }
    *state = calloc(1, sizeof(sum_state));
    return *state ? 0 : -1;
}

static int sum_chunk(void *state, const char *data, size_t len, bl_http_response *resp)
{
    (void)resp;
    sum_state *s = state;
    for (size_t i = 0; i < len; i++)
        s->sum += (unsigned char)data[i];
    s->bytes += (long)len;
    atomic_fetch_add(&chunk_bytes, (long)len);
    atomic_fetch_add(&chunk_calls, 1);
    return 0;
}

static int sum_end(void *state, bl_http_stream_outcome outcome, bl_http_response *resp)
{
    sum_state *s = state;
    atomic_fetch_add(&ends, 1);
    atomic_store(&last_outcome, (int)outcome);
    if (outcome != BL_HTTP_STREAM_COMPLETE)
        return 0;
    char text[64];
    snprintf(text, sizeof text, "%ld %llu", s->bytes, s->sum);
    return bl_http_response_body_copy(resp, text, strlen(text), "text/plain");
}

static void sum_release(void *state)
{
    atomic_fetch_add(&releases, 1);
    free(state);
}

static const bl_http_stream_fns sum_fns = {sum_begin, sum_chunk, sum_end, sum_release};

/* POST /form: a multipart body fed to core/http_form X-Piece bytes at a
 * time (whatever pieces the network made), answered with each field as
 * "name[filename]=length:sum" lines, or 400 with the parser's error. */
typedef struct form_state {
    bl_http_form *form;
    size_t piece;
    char out[1024];
    size_t used;
    char name[64];
    long len;
    unsigned long long sum;
    bool open;
} form_state;

static void form_flush(form_state *f)
{
    if (!f->open)
        return;
    int n = snprintf(f->out + f->used, sizeof f->out - f->used, "%s=%ld:%llu\n", f->name, f->len, f->sum);
    if (n > 0 && (size_t)n < sizeof f->out - f->used)
        f->used += (size_t)n;
    f->open = false;
}

static int form_piece(void *ctx, const char *name, const char *filename, const char *content_type,
                      uint64_t offset, const char *data, size_t len)
{
    (void)content_type;
    form_state *f = ctx;
    if (offset == 0) {
        form_flush(f);
        snprintf(f->name, sizeof f->name, "%s[%s]", name, filename ? filename : "");
        f->len = 0;
        f->sum = 0;
        f->open = true;
    }
    for (size_t i = 0; i < len; i++)
        f->sum = f->sum * 31 + (unsigned char)data[i];
    f->len += (long)len;
    return 0;
}

static int form_begin(const bl_http_request *req, bl_http_response *resp, void *ctx, void **state)
{
    (void)ctx;
    form_state *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    const char *piece = bl_http_request_header(req, "X-Piece");
    f->piece = piece ? strtoul(piece, NULL, 10) : 1;
    f->piece = f->piece ? f->piece : 1;
    bl_err err = {0};
    if (!(f->form = bl_http_form_new(req, form_piece, f, &err))) {
        bl_http_response_error(resp, 415, err.msg);
        return BL_HTTP_ANSWERED;
    }
    return 0;
}

static int form_chunk(void *state, const char *data, size_t len, bl_http_response *resp)
{
    form_state *f = state;
    for (size_t at = 0; at < len; at += f->piece) {
        bl_err err = {0};
        size_t k = len - at < f->piece ? len - at : f->piece;
        if (bl_http_form_feed(f->form, data + at, k, &err) != 0) {
            bl_http_response_error(resp, 400, err.msg);
            return BL_HTTP_ANSWERED;
        }
    }
    return 0;
}

static int form_end(void *state, bl_http_stream_outcome outcome, bl_http_response *resp)
{
    form_state *f = state;
    if (outcome != BL_HTTP_STREAM_COMPLETE)
        return 0;
    bl_err err = {0};
    bl_http_form *form = f->form;
    f->form = NULL;
    if (bl_http_form_finish(form, &err) != 0) {
        bl_http_response_error(resp, 400, err.msg);
        return 0;
    }
    form_flush(f);
    return bl_http_response_body_copy(resp, f->out, f->used, "text/plain");
}

static void form_release(void *state)
{
    form_state *f = state;
    if (f)
        bl_http_form_free(f->form);
    free(f);
}

static const bl_http_stream_fns form_fns = {form_begin, form_chunk, form_end, form_release};

/* GET /counted?n=N: N bytes of 'a'..'z' streamed; ?known=0 for chunked. */
typedef struct counted {
    uint64_t n;
} counted;

static ssize_t counted_read(void *state, uint64_t pos, char *buf, size_t max)
{
    counted *c = state;
    if (pos >= c->n)
        return 0;
    size_t k = c->n - pos < max ? (size_t)(c->n - pos) : max;
    for (size_t i = 0; i < k; i++)
        buf[i] = (char)('a' + (pos + i) % 26);
    return (ssize_t)k;
}

static void counted_release(void *state)
{
    atomic_fetch_add(&response_releases, 1);
    free(state);
}

static int handle_counted(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    counted *c = malloc(sizeof *c);
    if (!c)
        return -1;
    const char *n = bl_http_request_query(req, "n");
    const char *known = bl_http_request_query(req, "known");
    c->n = n ? strtoull(n, NULL, 10) : 0;
    bool sized = !known || strcmp(known, "0") != 0;
    return bl_http_response_body_stream(resp, sized ? c->n : BL_HTTP_SIZE_UNKNOWN, counted_read, counted_release,
                                        c, "text/plain");
}

static void reset_counts(void)
{
    atomic_store(&begins, 0);
    atomic_store(&ends, 0);
    atomic_store(&releases, 0);
    atomic_store(&last_outcome, -1);
    atomic_store(&response_releases, 0);
    atomic_store(&chunk_bytes, 0);
    atomic_store(&chunk_calls, 0);
}

/* Waits (at most 10 s) for *counter to reach want: the server thread
 * finishes a request after the client has its answer. */
static int wait_for(atomic_int *counter, int want)
{
    struct timespec nap = {0, 2 * 1000 * 1000};
    for (int i = 0; i < 5000 && atomic_load(counter) < want; i++)
        nanosleep(&nap, NULL);
    return atomic_load(counter);
}

/* ---- client ---- */

typedef struct gen_body {
    size_t size, pos;
} gen_body;

static size_t gen_read(char *buf, size_t size, size_t n, void *arg)
{
    gen_body *g = arg;
    size_t k = size * n < g->size - g->pos ? size * n : g->size - g->pos;
    for (size_t i = 0; i < k; i++)
        buf[i] = (char)((g->pos + i) * 7 % 251);
    g->pos += k;
    return k;
}

static unsigned long long gen_sum(size_t size)
{
    unsigned long long s = 0;
    for (size_t i = 0; i < size; i++)
        s += (unsigned char)(char)(i * 7 % 251);
    return s;
}

typedef struct reply {
    long status;
    char body[256];
    size_t len;
} reply;

static size_t take(char *buf, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t k = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    size_t c = k < room ? k : room;
    memcpy(r->body + r->len, buf, c);
    r->len += c;
    r->body[r->len] = '\0';
    return k;
}

/* POSTs size generated bytes to /sum (chunked when !sized), with up to two
 * extra header lines (NULL for none). */
static long post_sum(size_t size, bool sized, const char *extra, const char *extra2, reply *r)
{
    memset(r, 0, sizeof *r);
    gen_body g = {.size = size};
    CURL *c = curl_easy_init();
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/sum", (unsigned)bl_http_server_port(server));
    struct curl_slist *h = NULL;
    if (!sized)
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    if (extra)
        h = curl_slist_append(h, extra);
    if (extra2)
        h = curl_slist_append(h, extra2);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, gen_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &g);
    if (sized)
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

/* ---- tests ---- */

static void a_streamed_body_reaches_the_route_whole(void)
{
    for (int sized = 0; sized < 2; sized++) {
        reset_counts();
        reply r;
        size_t size = CAP - 100;
        REQUIRE(post_sum(size, sized, NULL, NULL, &r) == 200);
        char want[64];
        snprintf(want, sizeof want, "%zu %llu", size, gen_sum(size));
        CHECK_EQ_STR(r.body, want);
        CHECK_EQ_INT(wait_for(&releases, 1), 1);
        CHECK_EQ_INT(atomic_load(&begins), 1);
        CHECK_EQ_INT(atomic_load(&ends), 1);
        CHECK_EQ_INT(atomic_load(&last_outcome), BL_HTTP_STREAM_COMPLETE);
    }
}

static void past_the_cap_the_route_hears_too_large_and_the_client_413(void)
{
    for (int sized = 0; sized < 2; sized++) {
        reset_counts();
        reply r;
        CHECK_EQ_INT(post_sum(3 * CAP, sized, NULL, NULL, &r), 413);
        CHECK(strstr(r.body, "32768") != NULL);
        CHECK_EQ_INT(wait_for(&releases, 1), 1);
        CHECK_EQ_INT(atomic_load(&ends), 1);
        CHECK_EQ_INT(atomic_load(&last_outcome), BL_HTTP_STREAM_TOO_LARGE);
        CHECK(atomic_load(&chunk_bytes) <= CAP); /* nothing past the cap reached the route */
        if (sized)
            CHECK_EQ_INT(atomic_load(&chunk_bytes), 0); /* declared: refused before any byte */
    }
}

static void a_refusal_in_begin_is_answered_and_the_body_never_reaches_the_route(void)
{
    /* with 100-continue the body is never sent; without, it is read and dropped */
    const char *expect[] = {"Expect: 100-continue", "Expect:"};
    for (int i = 0; i < 2; i++) {
        reset_counts();
        reply r;
        CHECK_EQ_INT(post_sum(CAP / 2, true, "X-Refuse: 1", expect[i], &r), 403);
        CHECK_EQ_INT(wait_for(&releases, 1), 1);
        CHECK_EQ_INT(atomic_load(&chunk_calls), 0);
        CHECK_EQ_INT(atomic_load(&ends), 0);
    }
}

static void a_client_gone_mid_body_releases_the_state_without_an_end(void)
{
    reset_counts();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(bl_http_server_port(server))};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    static const char head[] = "POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n0123456789";
    CHECK(write(fd, head, sizeof head - 1) == (ssize_t)(sizeof head - 1));
    CHECK_EQ_INT(wait_for(&begins, 1), 1);
    close(fd);
    CHECK_EQ_INT(wait_for(&releases, 1), 1);
    CHECK_EQ_INT(atomic_load(&ends), 0);
}

static const char form_file[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
                                "\r\n------c\r\nxx------b yy\r\n--\r\n\n\r lone\r\n\r\n";

static size_t form_body(char *out, bool closed)
{
    static const char head[] = "------b\r\nContent-Disposition: form-data; name=\"intervention_id\"\r\n\r\niv-1\r\n"
                               "------b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n\r\n"
                               "------b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"split.png\"\r\n"
                               "Content-Type: image/png\r\n\r\n";
    static const char tail[] = "\r\n------b\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\n[\"x\"]\r\n";
    static const char close[] = "------b--\r\n";
    size_t n = 0;
    memcpy(out + n, head, sizeof head - 1);
    n += sizeof head - 1;
    memcpy(out + n, form_file, sizeof form_file - 1);
    n += sizeof form_file - 1;
    memcpy(out + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    if (closed) {
        memcpy(out + n, close, sizeof close - 1);
        n += sizeof close - 1;
    }
    return n;
}

static void field_line(char *out, size_t cap, const char *name, const char *data, size_t len)
{
    unsigned long long sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = sum * 31 + (unsigned char)data[i];
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%s=%zu:%llu\n", name, len, sum);
}

static long post_form(const char *body, size_t len, const char *content_type, unsigned piece, reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[96], ct[128], ph[32];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/form", (unsigned)bl_http_server_port(server));
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    snprintf(ph, sizeof ph, "X-Piece: %u", piece);
    struct curl_slist *h = curl_slist_append(NULL, ct);
    h = curl_slist_append(h, ph);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

static void a_form_split_anywhere_yields_the_same_fields(void)
{
    char body[1024], want[256] = "";
    size_t len = form_body(body, true);
    field_line(want, sizeof want, "intervention_id[]", "iv-1", 4);
    field_line(want, sizeof want, "description[]", "", 0); /* an empty field comes once, empty */
    field_line(want, sizeof want, "file[split.png]", form_file, sizeof form_file - 1);
    field_line(want, sizeof want, "tags[]", "[\"x\"]", 5);
    static const char ct[] = "multipart/form-data; boundary=----b";
    for (unsigned piece = 1; piece <= len; piece = piece < 16 ? piece + 1 : piece * 2) {
        reply r;
        CHECK_EQ_INT(post_form(body, len, ct, piece, &r), 200);
        if (strcmp(r.body, want) != 0)
            fprintf(stderr, "  pieces of %u bytes gave:\n%s", piece, r.body);
        CHECK_EQ_STR(r.body, want);
    }
}

static void a_form_cut_short_or_without_a_boundary_is_refused(void)
{
    char body[1024];
    size_t len = form_body(body, false);
    static const char ct[] = "multipart/form-data; boundary=----b";
    for (unsigned piece = 1; piece <= 7; piece += 3) {
        reply r;
        CHECK_EQ_INT(post_form(body, len, ct, piece, &r), 400);
        CHECK_EQ_INT(post_form(body, len / 2, ct, piece, &r), 400);
    }
    reply r;
    CHECK_EQ_INT(post_form(body, len, "multipart/form-data", 1, &r), 415);
    CHECK_EQ_INT(post_form(body, len, "application/json", 1, &r), 415);
}

static long get_counted(const char *query, size_t *len, char *first, char *last)
{
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/counted?%s", (unsigned)bl_http_server_port(server), query);
    reply r = {0};
    size_t total = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t got = 0;
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &got);
    total = (size_t)got;
    curl_easy_cleanup(c);
    *len = total;
    *first = r.len ? r.body[0] : 0;
    *last = r.len ? r.body[r.len - 1] : 0;
    return status;
}

static void a_streamed_response_is_read_in_pieces_and_released_once(void)
{
    const char *queries[] = {"n=200000", "n=200000&known=0", "n=0"};
    size_t sizes[] = {200000, 200000, 0};
    for (int i = 0; i < 3; i++) {
        reset_counts();
        size_t len = 0;
        char first = 0, last = 0;
        CHECK_EQ_INT(get_counted(queries[i], &len, &first, &last), 200);
        CHECK_EQ_INT(len, sizes[i]);
        if (sizes[i])
            CHECK_EQ_INT(first, 'a');
        CHECK_EQ_INT(wait_for(&response_releases, 1), 1);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    bl_err err = {0};
    bl_http_server_config cfg = {.body_cap = 1024};
    server = bl_http_server_new(&cfg, &err);
    if (!server || bl_http_server_stream_route(server, "POST", "/sum", &sum_fns, CAP, NULL, &err) != 0 ||
        bl_http_server_route(server, "GET", "/counted", handle_counted, NULL, &err) != 0 ||
        bl_http_server_stream_route(server, "POST", "/form", &form_fns, CAP, NULL, &err) != 0 ||
        bl_http_server_start(server, &err) != 0) {
        fprintf(stderr, "  server: %s\n", err.msg);
        bl_test_failures++;
    } else {
        BL_RUN(a_streamed_body_reaches_the_route_whole);
        BL_RUN(past_the_cap_the_route_hears_too_large_and_the_client_413);
        BL_RUN(a_refusal_in_begin_is_answered_and_the_body_never_reaches_the_route);
        BL_RUN(a_client_gone_mid_body_releases_the_state_without_an_end);
        BL_RUN(a_streamed_response_is_read_in_pieces_and_released_once);
        BL_RUN(a_form_split_anywhere_yields_the_same_fields);
        BL_RUN(a_form_cut_short_or_without_a_boundary_is_refused);
    }
    bl_http_server_free(server);
    curl_global_cleanup();
    return bl_test_summary();
}
