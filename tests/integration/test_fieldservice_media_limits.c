/* The limits of the field-service media upload, through the real API over
 * loopback on a real PostgreSQL: 413 over the upload cap (declared, or found
 * mid-stream in a chunked body) with nothing stored, uploads past the
 * concurrency limit answered 503 until one ends, multipart bodies sent 3
 * bytes a write (near-boundaries, bare CR and LF) or cut short, and the large
 * object store on its own. */

#include "api/fieldservice/media_store.h"
#include "tests/support/media_client.h"
#include "tests/support/test.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static bl_test_api api;

/* A second server on the same database with a 64 KiB upload cap, a third
 * with one upload at a time. */
static bl_api_server *small_cap, *one_slot;
#define SMALL_CAP (64 * 1024)

#define MEDIA_ROWS BL_TEST_MEDIA_ROWS
#define LARGE_OBJECTS BL_TEST_LARGE_OBJECTS

static void over_the_limit_is_413_declared_or_mid_stream_and_nothing_is_stored(void)
{
    long long rows = bl_test_media_count(&api, MEDIA_ROWS), objects = bl_test_media_count(&api, LARGE_OBJECTS);
    unsigned short port = bl_api_server_port(small_cap);
    bl_test_reply r;
    for (int chunked = 0; chunked < 2; chunked++) {
        bl_test_gen_file g;
        bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 4 * SMALL_CAP);
        bl_test_upload_spec spec = {.intervention_id = "iv-1", .filename = "big.png", .file = &g, .chunked = chunked};
        CHECK_EQ_INT(bl_test_media_upload(port, api.write_token, &spec, &r), 413);
        CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
        CHECK(bl_test_reply_field(&r, "detail") && strstr(bl_test_reply_field(&r, "detail"), "65536") != NULL);
        bl_test_reply_clear(&r);
        bl_test_gen_hex(&g, (char[65]){0});
    }
    CHECK_EQ_INT(bl_test_media_count(&api, MEDIA_ROWS), rows);
    CHECK_EQ_INT(bl_test_media_count(&api, LARGE_OBJECTS), objects);
    /* under the cap, the same server stores */
    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, SMALL_CAP / 2);
    bl_test_upload_spec spec = {.intervention_id = "iv-1", .filename = "small.png", .file = &g, .chunked = true};
    CHECK_EQ_INT(bl_test_media_upload(port, api.write_token, &spec, &r), 201);
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});
    CHECK_EQ_INT(bl_test_media_count(&api, MEDIA_ROWS), rows + 1);
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
    REQUIRE(bl_test_media_post_trickle(bl_api_server_port(api.server), api.write_token, body, len, &r) == 201);
    CHECK_EQ_STR(bl_test_reply_field(&r, "sha256"), sha);
    CHECK_EQ_INT(json_integer_value(json_object_get(r.json, "taille")), (long long)(sizeof trickle_file - 1));
    CHECK_EQ_STR(bl_test_reply_field(&r, "nom_fichier"), "split.png");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(r.json, "tags"), 0)), "x");
    bl_test_reply_clear(&r);
}

static void a_multipart_body_without_its_closing_boundary_stores_nothing(void)
{
    long long rows = bl_test_media_count(&api, MEDIA_ROWS), objects = bl_test_media_count(&api, LARGE_OBJECTS);
    char body[1024];
    size_t len = multipart_body(body, sizeof body, false);
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_media_post_trickle(bl_api_server_port(api.server), api.write_token, body, len, &r), 400);
    CHECK(bl_test_reply_is_error(&r, "VALIDATION_ERROR"));
    bl_test_reply_clear(&r);
    /* cut in the middle of the file part */
    len = multipart_body(body, sizeof body, true);
    CHECK_EQ_INT(bl_test_media_post_trickle(bl_api_server_port(api.server), api.write_token, body, len / 2, &r), 400);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_media_count(&api, MEDIA_ROWS), rows);
    CHECK_EQ_INT(bl_test_media_count(&api, LARGE_OBJECTS), objects);
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
        if (bl_test_media_count(&api, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
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

    bl_test_gen_file g;
    bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 1000);
    bl_test_upload_spec spec = {.intervention_id = "iv-1", .filename = "second.png", .file = &g};
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_media_upload(port, api.write_token, &spec, &r), 503);
    CHECK(bl_test_reply_is_error(&r, "INTERNAL_ERROR"));
    bl_test_reply_clear(&r);
    bl_test_gen_hex(&g, (char[65]){0});

    /* the first one goes away: its slot (and its transaction) come back */
    close(fd);
    long status = 0;
    struct timespec nap = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000 && status != 201; i++) {
        bl_test_gen_init(&g, bl_test_png_head, sizeof bl_test_png_head, 1000);
        status = bl_test_media_upload(port, api.write_token, &spec, &r);
        bl_test_reply_clear(&r);
        bl_test_gen_hex(&g, (char[65]){0});
        if (status == 503)
            nanosleep(&nap, NULL);
        else
            break;
    }
    CHECK_EQ_INT(status, 201);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    bl_err err = {0};
    bl_api_config cfg = {.jwt_secret = BL_TEST_API_JWT_SECRET, .upload_cap = SMALL_CAP};
    bl_api_config one = {.jwt_secret = BL_TEST_API_JWT_SECRET, .upload_concurrency = 1};
    if (bl_test_api_start(&api, 0) == 0 && bl_test_media_seed(&api) == 0 &&
        (small_cap = bl_api_server_new(&cfg, api.pool, &err)) && bl_api_server_start(small_cap, &err) == 0 &&
        (one_slot = bl_api_server_new(&one, api.pool, &err)) && bl_api_server_start(one_slot, &err) == 0) {
        BL_RUN(over_the_limit_is_413_declared_or_mid_stream_and_nothing_is_stored);
        BL_RUN(a_multipart_body_split_in_tiny_pieces_keeps_every_byte);
        BL_RUN(a_multipart_body_without_its_closing_boundary_stores_nothing);
        BL_RUN(the_large_object_store_round_trips_rolls_back_and_removes);
        BL_RUN(uploads_past_the_concurrency_are_503_until_one_ends);
    } else {
        if (err.msg[0])
            fprintf(stderr, "  servers: %s\n", err.msg);
        bl_test_failures++;
    }
    bl_api_server_free(one_slot);
    bl_api_server_free(small_cap);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
