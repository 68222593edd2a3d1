/* External connectors: the sample plugin is compiled here against the ABI
 * header alone, loaded with dlopen and run (delivered, a 5xx retried, a 4xx
 * dead-lettered); a build for another ABI version is refused with a clear
 * message. */
#include "connectors/connect.h"
#include "connectors/loader.h"
#include "core/http_server.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <unistd.h>

static char dir_ok[256], dir_old[256];

static int build_plugin(const char *dir, const char *extra)
{
    const char *src = getenv("BUSLINE_SOURCE_DIR") ? getenv("BUSLINE_SOURCE_DIR") : BUSLINE_SOURCE_DIR;
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && cc -std=c11 -Wall -Wextra -Werror -shared -fPIC %s -I %s/include "
             "-o %s/sample.so %s/examples/connector_plugin/sample_connector.c 2>&1",
             dir, extra, src, dir, src);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, p))
        fprintf(stderr, "  cc: %s", line);
    return pclose(p) == 0 ? 0 : -1;
}

typedef struct receiver {
    pthread_mutex_t lock;
    int count;
    int answer; /* status to answer; 0: 204 */
    char last[1024];
} receiver;

static int on_hook(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    receiver *r = ctx;
    size_t len;
    const char *body = bl_http_request_body(req, &len);
    pthread_mutex_lock(&r->lock);
    r->count++;
    snprintf(r->last, sizeof r->last, "%.*s", (int)len, body);
    int answer = r->answer ? r->answer : 204;
    pthread_mutex_unlock(&r->lock);
    bl_http_response_status(resp, answer);
    return 0;
}

static void sample_plugin_loads_and_runs(void)
{
    receiver rec = {.lock = PTHREAD_MUTEX_INITIALIZER};
    bl_err err = {0};
    bl_http_server *srv = bl_http_server_new(NULL, &err);
    REQUIRE(srv && bl_http_server_route(srv, "POST", "/hook", on_hook, &rec, &err) == 0 &&
            bl_http_server_start(srv, &err) == 0);
    char text[1024];
    snprintf(text, sizeof text,
             "[{\"id\":\"s1\",\"settings\":{\"url\":\"http://127.0.0.1:%u/hook\"},\"rules\":[{\"events\":[\"risk.*\"],"
             "\"action\":\"notify\",\"template\":{\"text\":\"{data.title}\"}}]}]",
             bl_http_server_port(srv));
    json_t *ints = json_loads(text, 0, NULL);
    bl_state_store *st = bl_state_store_new(NULL);
    bl_connect_config cfg = {.connector = "sample", .connector_dir = dir_ok, .integrations = ints, .state = st};
    bl_connect *c = bl_connect_new(&cfg, &err);
    if (!c)
        fprintf(stderr, "  %s\n", err.msg);
    REQUIRE(c);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", "ev-1", "type", "risk.escalated", "subject", "r-1",
                           "data", "title", "Say \"hi\"");
    char msg[600];
    bl_outcome o = bl_connect_process(c, ev, 1, msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT(rec.count, 1);
    CHECK_EQ_STR(rec.last, "{\"event\":\"ev-1\",\"type\":\"risk.escalated\",\"text\":\"Say \\\"hi\\\"\"}");
    char last[64];
    CHECK_EQ_INT(bl_state_store_get(st, "s1", "last_event", last, sizeof last, NULL), 1);
    CHECK_EQ_STR(last, "ev-1");
    /* the plugin's answers to failures reach the runtime as outcomes */
    json_object_set_new(ev, "id", json_string("ev-2")); /* ev-1 is done: a repeat is skipped */
    rec.answer = 503;
    o = bl_connect_process(c, ev, 1, msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_RETRY);
    json_object_set_new(ev, "id", json_string("ev-3"));
    rec.answer = 400;
    o = bl_connect_process(c, ev, 1, msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "HTTP 400") != NULL);
    CHECK_EQ_INT(rec.count, 3);
    json_decref(ev);
    bl_connect_free(c);
    bl_state_store_free(st);
    json_decref(ints);
    bl_http_server_free(srv);
}

static void plugin_built_for_another_abi_is_refused_with_a_clear_message(void)
{
    bl_err err = {0};
    bl_connector_lib *lib = bl_connector_open("sample", dir_old, &err);
    CHECK(lib == NULL);
    CHECK(strstr(err.msg, "connector sample") != NULL);
    CHECK(strstr(err.msg, "ABI version mismatch: expected 1, found 99") != NULL);
    bl_connector_lib_close(lib);
    lib = bl_connector_open("missing", dir_ok, &err);
    CHECK(lib == NULL);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK(bl_connector_open("../etc", dir_ok, &err) == NULL);
    CHECK(strstr(err.msg, "[a-z0-9_-]") != NULL);
}

int main(void)
{
    char base[128];
    bl_test_unique_name(base, sizeof base, "/tmp/busline-plugins");
    snprintf(dir_ok, sizeof dir_ok, "%s/ok", base);
    snprintf(dir_old, sizeof dir_old, "%s/old", base);
    if (build_plugin(dir_ok, "") != 0 || build_plugin(dir_old, "-DSAMPLE_ABI_VERSION=99") != 0) {
        fprintf(stderr, "cannot build the sample plugin\n");
        return 1;
    }
    BL_RUN(sample_plugin_loads_and_runs);
    BL_RUN(plugin_built_for_another_abi_is_refused_with_a_clear_message);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return bl_test_summary();
}
