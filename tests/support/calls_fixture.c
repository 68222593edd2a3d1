#include "tests/support/calls_fixture.h"

#include <jansson.h>

bl_ssrf_allowlist bl_calls_allow;
bl_call_runner *bl_calls_runner;

int bl_calls_fixture_open(void)
{
    bl_err err = {0};
    if (bl_ssrf_allowlist_parse("127.0.0.0/8", &bl_calls_allow, &err) != 0) {
        fprintf(stderr, "allow-list: %s\n", err.msg);
        return -1;
    }
    bl_call_runner_opts o = {.allow = &bl_calls_allow};
    bl_calls_runner = bl_call_runner_new(&o, &err);
    if (!bl_calls_runner) {
        fprintf(stderr, "runner: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void bl_calls_fixture_close(void)
{
    bl_call_runner_free(bl_calls_runner);
    bl_calls_runner = NULL;
}

bl_call *bl_calls_compile_text(const char *text, bl_err *err)
{
    json_t *cfg = json_loads(text, 0, NULL);
    if (!cfg) {
        fprintf(stderr, "  bad test JSON: %s\n", text);
        return NULL;
    }
    bl_call_compile_opts o = {.allow = &bl_calls_allow, .organization_id = "org-1"};
    bl_call *c = bl_call_compile(cfg, &o, err);
    json_decref(cfg);
    return c;
}

bl_call *bl_calls_on_fake(fake_service *f, const char *body, const char *path, const char *cfg_fmt, bl_err *err)
{
    char url[256], text[4096];
    if (fake_service_start(f, body) != 0)
        return NULL;
    fake_service_url(f, path, url, sizeof url);
    snprintf(text, sizeof text, cfg_fmt, url);
    return bl_calls_compile_text(text, err);
}
