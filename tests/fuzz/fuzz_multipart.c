/* libFuzzer target for request bodies of uploads: multipart/form-data and
 * urlencoded forms parsed as they stream in (core/http_form.h, over
 * libmicrohttpd's post processor, which needs a real connection: the target
 * runs one HTTP server on loopback in its own process and sends each input
 * to it).
 *   up to a NUL   the Content-Type header value (with its boundary)
 *   the rest      the body
 * Besides sanitizer reports, it aborts when the pieces of a field do not
 * follow each other (offsets with gaps or overlaps) or add up to more bytes
 * than the body held, or when the server does not answer. Built and run by
 * tests/fuzz/run.sh. */
#include "core/http_form.h"
#include "core/http_server.h"
#include "core/http_stream.h"
#include "support/fuzz_input.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct upload {
    bl_http_form *form;
    char field[256];
    uint64_t next_offset; /* where the current field's next piece must start */
    uint64_t bytes;       /* value bytes handed over so far */
    uint64_t body_len;
    int refusal;          /* the status the body earned (0 = none yet) */
    char why[256];
} upload;

static bl_http_server *server;

static int on_piece(void *ctx, const char *name, const char *filename, const char *content_type, uint64_t offset,
                    const char *data, size_t len)
{
    (void)filename;
    (void)content_type;
    upload *u = ctx;
    if (offset == 0)
        snprintf(u->field, sizeof u->field, "%s", name ? name : "");
    else if (offset != u->next_offset)
        fuzz_finding("a field's pieces do not follow each other", u->field);
    if (len && !data)
        fuzz_finding("a piece without its bytes", u->field);
    u->next_offset = offset + len;
    u->bytes += len;
    if (u->bytes > u->body_len)
        fuzz_finding("the fields hold more bytes than the body", u->field);
    return 0;
}

static int begin(const bl_http_request *req, bl_http_response *resp, void *ctx, void **state)
{
    (void)ctx;
    bl_err err = {0};
    upload *u = calloc(1, sizeof *u);
    const char *cl = bl_http_request_header(req, "Content-Length");
    if (!u)
        return -1;
    u->body_len = cl ? strtoull(cl, NULL, 10) : 0;
    *state = u;
    /* a refusal is answered once the body is in: answering early would
     * close the connection under the unread body (a reset, not an answer) */
    (void)resp;
    if (!(u->form = bl_http_form_new(req, on_piece, u, &err))) {
        u->refusal = 415;
        snprintf(u->why, sizeof u->why, "%s", err.msg);
    }
    return 0;
}

static int chunk(void *state, const char *data, size_t len, bl_http_response *resp)
{
    upload *u = state;
    bl_err err = {0};
    (void)resp;
    if (!u->refusal && bl_http_form_feed(u->form, data, len, &err) != 0) {
        u->refusal = 400;
        snprintf(u->why, sizeof u->why, "%s", err.msg);
    }
    return 0;
}

static int end(void *state, bl_http_stream_outcome outcome, bl_http_response *resp)
{
    upload *u = state;
    bl_err err = {0};
    if (outcome != BL_HTTP_STREAM_COMPLETE)
        return 0;
    if (u->refusal)
        return bl_http_response_error(resp, u->refusal, u->why);
    int rc = bl_http_form_finish(u->form, &err);
    u->form = NULL;
    if (rc != 0)
        return bl_http_response_error(resp, 400, err.msg);
    bl_http_response_status(resp, 200);
    return 0;
}

static void release(void *state)
{
    upload *u = state;
    if (u)
        bl_http_form_free(u->form);
    free(u);
}

static const bl_http_stream_fns upload_fns = {begin, chunk, end, release};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bl_err err = {0};
    bl_http_server_config cfg = {.thread_pool_size = 1, .body_cap = 1 << 20};
    if (!(server = bl_http_server_new(&cfg, &err)) ||
        bl_http_server_stream_route(server, "POST", "/upload", &upload_fns, 0, NULL, &err) != 0 ||
        bl_http_server_start(server, &err) != 0)
        fuzz_finding("setup: the upload server does not start", err.msg);
    return 0;
}

/* Sends the whole buffer. Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) /* libFuzzer's timers */
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parts p;
    if (fuzz_parts_split(data, size, 2, &p) != 0)
        return 0;
    /* the header must stay one header: the target is the body's parser */
    for (char *c = p.part[0]; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    char head[1024];
    int head_len = snprintf(head, sizeof head,
                            "POST /upload HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
                            "Content-Type: %.900s\r\nContent-Length: %zu\r\n\r\n",
                            p.part[0], p.len[1]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(bl_http_server_port(server))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    /* closed with a reset once the answer is read: a run opens more
     * connections than there are ephemeral ports, and TIME_WAIT held them
     * all (connect then failed with EADDRNOTAVAIL) */
    struct linger reset = {.l_onoff = 1, .l_linger = 0};
    int rc = -1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) == 0)
        for (int tries = 0; tries < 50 && (rc = connect(fd, (struct sockaddr *)&addr, sizeof addr)) != 0 &&
                            (errno == EINTR || errno == EADDRNOTAVAIL || errno == EAGAIN);
             tries++)
            usleep(10 * 1000);
    if (rc != 0)
        fuzz_finding("setup: cannot reach the upload server", strerror(errno));
    char reply[512];
    ssize_t got = -1;
    if (send_all(fd, head, (size_t)head_len) == 0 && send_all(fd, p.part[1], p.len[1]) == 0)
        do
            got = recv(fd, reply, sizeof reply - 1, 0);
        while (got < 0 && errno == EINTR);
    close(fd);
    /* the server may close early after answering (a refused body); what it
     * must not do is leave the request without an answer */
    if (got <= 0 || strncmp(reply, "HTTP/1.1 ", 9) != 0) {
        char why[64];
        snprintf(why, sizeof why, "recv %zd, errno %d", got, errno);
        fuzz_finding("the upload server did not answer", why);
    }
    fuzz_parts_free(&p);
    return 0;
}
