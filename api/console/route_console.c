/* GET /console/ and /console/<file>: the web console's static files (HTML, CSS,
 * JavaScript modules) from one folder, public since the files carry no data
 * (every call the page makes goes through the authenticated API).
 *
 * The folder is $BUSLINE_CONSOLE_DIR, else the source tree's api/console/web.
 * Only plain names are served: the raw path may hold letters, digits, '-',
 * '_', '.' and '/' between segments, no segment may start with '.', and no
 * percent-encoding is accepted at all, so "..", "%2e%2e", "%2f" and their
 * double-encoded variants are refused before the file system is asked.
 * Every answer carries a strict Content-Security-Policy (scripts, styles
 * and calls only from this origin) and asks browsers to revalidate, with an
 * ETag so revalidation is cheap. */
#include "api/routes/routes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_DIR_ENV "BUSLINE_CONSOLE_DIR"
#define CONSOLE_PREFIX "/console/"
#define CONSOLE_FILE_MAX (2 * 1024 * 1024)
#define CONSOLE_PATH_MAX 1024

static const char console_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
};

/* The content type for name's extension, or NULL: unknown kinds are not served. */
static const char *content_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof content_types / sizeof content_types[0]; i++)
        if (strcmp(dot, content_types[i].ext) == 0)
            return content_types[i].type;
    return NULL;
}

/* Whether rel (the raw path after "/console/") names a file inside the
 * folder: plain characters only, no empty, dot-led or over-long segment. */
static bool console_name_safe(const char *rel)
{
    size_t len = strlen(rel);
    if (len == 0 || len > 255)
        return false;
    bool segment_start = true;
    for (const char *p = rel; *p; p++) {
        char c = *p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '/';
        if (!plain || (segment_start && (c == '.' || c == '/')))
            return false;
        segment_start = c == '/';
    }
    return !segment_start; /* a trailing '/' names a folder */
}

/* Read per request, like the webhook routes' settings, so a test or an
 * operator can point a running process elsewhere without a restart. */
static const char *console_dir(void)
{
    const char *dir = getenv(CONSOLE_DIR_ENV);
    return dir && *dir ? dir : BUSLINE_SOURCE_DIR "/api/console/web";
}

static void security_headers(bl_http_response *resp)
{
    bl_http_response_header(resp, "Content-Security-Policy", console_csp);
    bl_http_response_header(resp, "X-Content-Type-Options", "nosniff");
    bl_http_response_header(resp, "Referrer-Policy", "no-referrer");
    bl_http_response_header(resp, "X-Frame-Options", "DENY");
    bl_http_response_header(resp, "Cache-Control", "no-cache");
}

/* Reads path (a regular file, not a link, at most CONSOLE_FILE_MAX bytes)
 * into *out (malloc'd) with its stat. Returns 0, 1 when it is not there, -1
 * on a read failure. */
static int read_console_file(const char *path, char **out, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 1 : -1;
    int rc = -1;
    char *buf = NULL;
    if (fstat(fd, st) != 0)
        goto done;
    if (!S_ISREG(st->st_mode) || st->st_size > CONSOLE_FILE_MAX) {
        rc = 1;
        goto done;
    }
    size_t size = (size_t)st->st_size, got = 0;
    if (!(buf = malloc(size + 1)))
        goto done;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto done;
        got += (size_t)n;
    }
    *out = buf;
    *len = size;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    close(fd);
    return rc;
}

static int serve_console_file(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *raw = bl_http_request_path(req->http);
    security_headers(resp);
    if (strcmp(raw, "/console") == 0) { /* relative links need the slash */
        bl_http_response_status(resp, 308);
        bl_http_response_header(resp, "Location", CONSOLE_PREFIX);
        return 0;
    }
    if (strncmp(raw, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) != 0)
        return bl_api_fail(req->http, resp, 404, NULL, "no such console file", NULL);
    const char *rel = raw + strlen(CONSOLE_PREFIX);
    if (!*rel)
        rel = "index.html";
    if (!console_name_safe(rel))
        return bl_api_fail(req->http, resp, 400, "bad_path",
                           "console paths are plain file names: no '..', dot files or encoded characters",
                           NULL);
    const char *type = content_type_of(rel);
    char path[CONSOLE_PATH_MAX];
    if (!type || (size_t)snprintf(path, sizeof path, "%s/%s", console_dir(), rel) >= sizeof path)
        return bl_api_fail(req->http, resp, 404, NULL, "no such console file", NULL);
    char *body = NULL;
    size_t len = 0;
    struct stat st;
    int got = read_console_file(path, &body, &len, &st);
    if (got < 0)
        return -1;
    if (got > 0)
        return bl_api_fail(req->http, resp, 404, NULL, "no such console file", NULL);
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
    bl_http_response_header(resp, "ETag", etag);
    const char *match = bl_http_request_header(req->http, "If-None-Match");
    if (match && strcmp(match, etag) == 0) {
        free(body);
        bl_http_response_status(resp, 304);
        return 0;
    }
    return bl_http_response_body_owned(resp, body, len, type);
}

/* Deep enough for the console's own folders ("pages/keys.js"). */
static const bl_api_route routes[] = {
    {"GET", "/console", BL_API_PUBLIC, serve_console_file},
    {"GET", "/console/", BL_API_PUBLIC, serve_console_file},
    {"GET", "/console/:a", BL_API_PUBLIC, serve_console_file},
    {"GET", "/console/:a/:b", BL_API_PUBLIC, serve_console_file},
    {"GET", "/console/:a/:b/:c", BL_API_PUBLIC, serve_console_file},
};

int bl_api_routes_console(bl_api_server *s, bl_err *err)
{
    return bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err);
}
