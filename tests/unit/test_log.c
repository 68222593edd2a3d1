#include "core/log.h"
#include "tests/support/test.h"

typedef struct log_call {
    bl_log_level lvl;
    const char *msg;
    const bl_field *fields;
} log_call;

static void write_log(void *ctx)
{
    const log_call *c = ctx;
    bl_log_write(c->lvl, c->msg, c->fields);
}

/* Captures what bl_log_write prints. */
static void capture(bl_log_level lvl, const char *msg, const bl_field *fields, char *out, size_t len)
{
    log_call c = {lvl, msg, fields};
    bl_test_capture_stdout(write_log, &c, out, len);
}

static void log_line_is_one_json_object_with_fields(void)
{
    bl_log_init("relay", BL_LOG_INFO);
    char out[4096];
    const bl_field f[] = {BL_FS("topic", "events.pmo.risk"), BL_FI("offset", 42), {0}};
    capture(BL_LOG_WARN, "quote \" and\nnewline", f, out, sizeof out);
    CHECK(strncmp(out, "{\"ts\":\"", 7) == 0);
    CHECK(strstr(out, "\"level\":\"warn\",\"role\":\"relay\"") != NULL);
    CHECK(strstr(out, "\"msg\":\"quote \\\" and\\nnewline\"") != NULL);
    CHECK(strstr(out, "\"topic\":\"events.pmo.risk\",\"offset\":42}\n") != NULL);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
}

static void log_below_min_level_prints_nothing(void)
{
    bl_log_init("api", BL_LOG_WARN);
    char out[256];
    capture(BL_LOG_INFO, "hidden", NULL, out, sizeof out);
    CHECK_EQ_STR(out, "");
    bl_log_level lvl;
    CHECK(bl_log_level_parse("debug", &lvl) == 0 && lvl == BL_LOG_DEBUG);
    CHECK(bl_log_level_parse("loud", &lvl) == -1);
}

static void long_values_are_cut_not_overflowed(void)
{
    bl_log_init("api", BL_LOG_DEBUG);
    static char big[10000];
    memset(big, 'x', sizeof big - 1);
    char out[8192];
    capture(BL_LOG_ERROR, big, NULL, out, sizeof out);
    CHECK(strlen(out) <= 4096);
    CHECK(out[strlen(out) - 1] == '\n');
}

int main(void)
{
    BL_RUN(log_line_is_one_json_object_with_fields);
    BL_RUN(log_below_min_level_prints_nothing);
    BL_RUN(long_values_are_cut_not_overflowed);
    return bl_test_summary();
}
