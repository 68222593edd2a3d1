/* The console's static-file route in-process, over a folder the test makes
 * (BUSLINE_CONSOLE_DIR) beside a secret file it must never serve: content
 * types, the security headers, revalidation with the ETag, the /console
 * redirect, and traversal refused whether plain, percent-encoded, double
 * encoded or through a dot file or a symbolic link. */
#include "api/server.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bl_pg_pool *pool;
static bl_api_server *srv;
static char root[256], console[300];

typedef struct reply {
    long status;
    char type[128], csp[512], cache[64], etag[64], location[64], nosniff[32];
    char body[4096];
    size_t len;
} reply;

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    size_t len = size * n;
    if (r->len + len < sizeof r->body) {
        memcpy(r->body + r->len, buf, len);
        r->len += len;
        r->body[r->len] = '\0';
    }
    return len;
}

static void keep(char *out, size_t cap, const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    line += n + 1;
    while (*line == ' ')
        line++;
    snprintf(out, cap, "%.*s", (int)strcspn(line, "\r\n"), line);
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    char line[1024];
    size_t len = size * n < sizeof line - 1 ? size * n : sizeof line - 1;
    memcpy(line, buf, len);
    line[len] = '\0';
    keep(r->type, sizeof r->type, line, "Content-Type");
    keep(r->csp, sizeof r->csp, line, "Content-Security-Policy");
    keep(r->cache, sizeof r->cache, line, "Cache-Control");
    keep(r->etag, sizeof r->etag, line, "ETag");
    keep(r->location, sizeof r->location, line, "Location");
    keep(r->nosniff, sizeof r->nosniff, line, "X-Content-Type-Options");
    return size * n;
}

/* GETs path exactly as written (no "/../" folding by curl). */
static long get(const char *path, const char *if_none_match, reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[512], cond[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", bl_api_server_port(srv), path);
    struct curl_slist *h = NULL;
    if (if_none_match) {
        snprintf(cond, sizeof cond, "If-None-Match: %s", if_none_match);
        h = curl_slist_append(h, cond);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void index_is_served_as_html_with_a_strict_policy(void)
{
    reply r;
    CHECK_EQ_INT(get("/console/", NULL, &r), 200);
    CHECK_EQ_STR(r.body, "<!doctype html><p>console</p>\n");
    CHECK_EQ_STR(r.type, "text/html; charset=utf-8");
    CHECK(strstr(r.csp, "default-src 'none'") != NULL);
    CHECK(strstr(r.csp, "script-src 'self'") != NULL);
    CHECK(strstr(r.csp, "frame-ancestors 'none'") != NULL);
    CHECK(strstr(r.csp, "unsafe-inline") == NULL);
    CHECK_EQ_STR(r.cache, "no-cache");
    CHECK_EQ_STR(r.nosniff, "nosniff");
    CHECK_EQ_INT(get("/console/index.html", NULL, &r), 200);
    CHECK_EQ_STR(r.body, "<!doctype html><p>console</p>\n");
}

static void files_get_the_content_type_of_their_kind(void)
{
    reply r;
    CHECK_EQ_INT(get("/console/app.js", NULL, &r), 200);
    CHECK_EQ_STR(r.type, "text/javascript; charset=utf-8");
    CHECK_EQ_STR(r.body, "export const x = 1;\n");
    CHECK_EQ_INT(get("/console/pages/keys.js", NULL, &r), 200);
    CHECK_EQ_STR(r.type, "text/javascript; charset=utf-8");
    CHECK_EQ_INT(get("/console/style.css", NULL, &r), 200);
    CHECK_EQ_STR(r.type, "text/css; charset=utf-8");
    /* a kind the console does not use is not served at all */
    CHECK_EQ_INT(get("/console/notes.sh", NULL, &r), 404);
    CHECK_EQ_INT(get("/console/missing.js", NULL, &r), 404);
    CHECK(strstr(r.body, "\"code\":\"not_found\"") != NULL);
    CHECK(strstr(r.csp, "default-src 'none'") != NULL);
}

static void unchanged_file_revalidates_with_304(void)
{
    reply r, again;
    REQUIRE(get("/console/app.js", NULL, &r) == 200);
    REQUIRE(r.etag[0] == '"');
    CHECK_EQ_INT(get("/console/app.js", r.etag, &again), 304);
    CHECK_EQ_INT(again.len, 0);
    CHECK_EQ_INT(get("/console/app.js", "\"other\"", &again), 200);
}

static void bare_console_redirects_to_the_folder(void)
{
    reply r;
    CHECK_EQ_INT(get("/console", NULL, &r), 308);
    CHECK_EQ_STR(r.location, "/console/");
}

static void traversal_is_refused_in_every_spelling(void)
{
    static const char *const paths[] = {
        "/console/../secret.txt",         "/console/pages/../../secret.txt",
        "/console/%2e%2e/secret.txt",     "/console/%2E%2E/secret.txt",
        "/console/..%2fsecret.txt",       "/console/..%2Fsecret.txt",
        "/console/%252e%252e/secret.txt", "/console/pages%2f..%2f..%2fsecret.txt",
        "/console/..\\secret.txt",        "/console/.hidden.txt",
        "/console/pages/",                "/console//secret.txt",
        "/console/%00app.js",             "/console/app.js%00.txt",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        reply r;
        long status = get(paths[i], NULL, &r);
        if (status != 400 && status != 404) {
            fprintf(stderr, "  %s answered %ld\n", paths[i], status);
            CHECK(status == 400 || status == 404);
        }
        CHECK(strstr(r.body, "top secret") == NULL);
    }
    reply r;
    CHECK_EQ_INT(get("/console/../secret.txt", NULL, &r), 400);
    CHECK(strstr(r.body, "\"code\":\"bad_path\"") != NULL);
    CHECK_EQ_INT(get("/console/%2e%2e/secret.txt", NULL, &r), 400);
}

static void symbolic_link_out_of_the_folder_is_not_followed(void)
{
    char link_path[512], target[512];
    snprintf(link_path, sizeof link_path, "%s/leak.txt", console);
    snprintf(target, sizeof target, "%s/secret.txt", root);
    REQUIRE(symlink(target, link_path) == 0);
    reply r;
    CHECK_EQ_INT(get("/console/leak.txt", NULL, &r), 404);
    CHECK(strstr(r.body, "top secret") == NULL);
    unlink(link_path);
}

static char db_url[512];

static int setup(void)
{
    snprintf(root, sizeof root, "/tmp/busline_console_%d", (int)getpid());
    snprintf(console, sizeof console, "%s/console", root);
    char pages[400];
    snprintf(pages, sizeof pages, "%s/pages", console);
    if (mkdir(root, 0700) != 0 || mkdir(console, 0700) != 0 || mkdir(pages, 0700) != 0 ||
        write_file(root, "secret.txt", "top secret\n") != 0 ||
        write_file(console, "index.html", "<!doctype html><p>console</p>\n") != 0 ||
        write_file(console, "app.js", "export const x = 1;\n") != 0 ||
        write_file(pages, "keys.js", "export {};\n") != 0 ||
        write_file(console, "style.css", "body{}\n") != 0 ||
        write_file(console, "notes.sh", "echo\n") != 0 ||
        write_file(console, ".hidden.txt", "top secret\n") != 0)
        return -1;
    setenv("BUSLINE_CONSOLE_DIR", console, 1);
    bl_err err = {0};
    bl_api_config cfg = {.port = 0};
    /* a database of its own with every migration: the shared one may not
     * have the newest tables yet when this test runs first */
    if (bl_test_pg_migrated_db(db_url, sizeof db_url, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    if (!(pool = bl_pg_pool_new(db_url, 1, &err)) || !(srv = bl_api_server_new(&cfg, pool, &err)) ||
        bl_api_server_start(srv, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (root[0] && system(cmd) != 0)
        fprintf(stderr, "teardown: %s failed\n", cmd);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(index_is_served_as_html_with_a_strict_policy);
        BL_RUN(files_get_the_content_type_of_their_kind);
        BL_RUN(unchanged_file_revalidates_with_304);
        BL_RUN(bare_console_redirects_to_the_folder);
        BL_RUN(traversal_is_refused_in_every_spelling);
        BL_RUN(symbolic_link_out_of_the_folder_is_not_followed);
    } else {
        bl_test_failures++;
    }
    bl_api_server_free(srv);
    bl_pg_pool_free(pool);
    if (db_url[0])
        bl_test_pg_drop_db(db_url);
    teardown();
    curl_global_cleanup();
    return bl_test_summary();
}
