#include "core/config.h"
#include "tests/support/test.h"

static const char *const modes[] = {"fast", "safe", NULL};
static const char *const http_schemes[] = {"http", "https", NULL};

static const bl_setting test_settings[] = {
    {.name = "port", .env = "BLTEST_PORT", .flag = "port", .type = BL_SETTING_INT, .def = "8080",
     .min = 1, .max = 65535, .help = "port to listen on"},
    {.name = "timeout", .env = "BUSLINE_TIMEOUT", .flag = "timeout", .type = BL_SETTING_DURATION,
     .def = "10s", .min = 1, .max = 3600000, .help = "request timeout"},
    {.name = "verbose", .env = "BLTEST_VERBOSE", .flag = "verbose", .type = BL_SETTING_BOOL,
     .def = "no", .help = "log more"},
    {.name = "mode", .env = "BLTEST_MODE", .flag = "mode", .type = BL_SETTING_ENUM, .def = "safe",
     .choices = modes, .help = "delivery mode"},
    {.name = "callback", .env = "BLTEST_CALLBACK", .flag = "callback", .type = BL_SETTING_URL,
     .choices = http_schemes, .help = "where to call back"},
    {.name = "name", .env = "BLTEST_NAME", .flag = "name", .type = BL_SETTING_STRING,
     .def = "relay", .help = "instance name"},
    {0},
};

static const bl_setting required_settings[] = {
    {.name = "tenant", .env = "BUSLINE_TENANT", .flag = "tenant", .type = BL_SETTING_STRING,
     .required = true, .help = "tenant id"},
    {.name = "api_secret", .env = "BLTEST_SECRET", .flag = "api-secret", .type = BL_SETTING_URL,
     .secret = true, .help = "secret URL"},
    {0},
};

static const char *const test_envs[] = {"BLTEST_PORT", "BUSLINE_TIMEOUT", "BLTEST_VERBOSE",
                                        "BLTEST_MODE", "BLTEST_CALLBACK", "BLTEST_NAME",
                                        "BUSLINE_TENANT", "BLTEST_SECRET", NULL};

static void clear_env(void)
{
    for (int i = 0; test_envs[i]; i++)
        unsetenv(test_envs[i]);
}

static bl_config *make(const bl_setting *extra)
{
    bl_err err;
    bl_config *cfg = bl_config_new();
    if (bl_config_add(cfg, test_settings, &err) != 0 ||
        (extra && bl_config_add(cfg, extra, &err) != 0)) {
        fprintf(stderr, "  add: %s\n", err.msg);
        bl_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Loads argv (NULL-terminated) into a fresh config; returns the load result. */
static int load(bl_config *cfg, char **argv, bl_err *err)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return bl_config_load(cfg, argc, argv, err);
}

/* Loads argv with an environment variable set and returns err's message. */
static void expect_error(const char *env, const char *env_value, char **argv, const char *msg)
{
    clear_env();
    if (env)
        setenv(env, env_value, 1);
    bl_config *cfg = make(required_settings);
    REQUIRE(cfg);
    setenv("BUSLINE_TENANT", "acme", 0);
    bl_err err = {0};
    CHECK_EQ_INT(load(cfg, argv, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK_EQ_STR(err.msg, msg);
    bl_config_free(cfg);
    clear_env();
}

static void flag_beats_env_beats_default(void)
{
    clear_env();
    bl_err err;
    bl_config *cfg = make(NULL);
    REQUIRE(cfg);
    char *none[] = {"relay", NULL};
    REQUIRE(load(cfg, none, &err) == 0);
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 8080);
    CHECK_EQ_STR(bl_config_source(cfg, "port"), "default");
    CHECK_EQ_STR(bl_config_source(cfg, "callback"), "unset");
    CHECK(bl_config_str(cfg, "callback") == NULL);

    setenv("BLTEST_PORT", "9000", 1);
    REQUIRE(load(cfg, none, &err) == 0);
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 9000);
    CHECK_EQ_STR(bl_config_source(cfg, "port"), "env");

    char *spaced[] = {"relay", "--port", "9100", NULL};
    REQUIRE(load(cfg, spaced, &err) == 0);
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 9100);
    CHECK_EQ_STR(bl_config_source(cfg, "port"), "flag");

    char *joined[] = {"relay", "--port=9200", "--name=a=b", NULL};
    REQUIRE(load(cfg, joined, &err) == 0);
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 9200);
    CHECK_EQ_STR(bl_config_str(cfg, "name"), "a=b");

    /* An empty variable is treated as unset. */
    setenv("BLTEST_PORT", "", 1);
    REQUIRE(load(cfg, none, &err) == 0);
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 8080);
    bl_config_free(cfg);
    clear_env();
}

static void typed_values_are_parsed(void)
{
    clear_env();
    bl_err err;
    bl_config *cfg = make(NULL);
    REQUIRE(cfg);
    setenv("BLTEST_MODE", "fast", 1);
    setenv("BLTEST_VERBOSE", "YES", 1);
    char *argv[] = {"relay", "--timeout", "250ms", "--callback", "HTTPS://hooks.example/x", NULL};
    REQUIRE(load(cfg, argv, &err) == 0);
    CHECK_EQ_INT(bl_config_duration_ms(cfg, "timeout"), 250);
    CHECK_EQ_STR(bl_config_str(cfg, "mode"), "fast");
    CHECK(bl_config_bool(cfg, "verbose"));
    CHECK_EQ_STR(bl_config_str(cfg, "callback"), "HTTPS://hooks.example/x");
    /* Wrong-type and unknown getters return the zero value. */
    CHECK(bl_config_str(cfg, "port") == NULL);
    CHECK_EQ_INT(bl_config_int(cfg, "timeout"), 0);
    CHECK_EQ_INT(bl_config_int(cfg, "nope"), 0);

    char *off[] = {"relay", "--verbose=0", NULL};
    REQUIRE(load(cfg, off, &err) == 0);
    CHECK(!bl_config_bool(cfg, "verbose"));
    bl_config_free(cfg);
    clear_env();
}

static void bool_flag_takes_a_following_true_or_false(void)
{
    clear_env();
    bl_err err;
    bl_config *cfg = make(NULL);
    REQUIRE(cfg);
    char *argv[] = {"relay", "--verbose", "false", "file.txt", NULL};
    REQUIRE(load(cfg, argv, &err) == 0);
    CHECK(!bl_config_bool(cfg, "verbose"));
    int n = 0;
    char *const *args = bl_config_args(cfg, &n);
    REQUIRE(n == 1);
    CHECK_EQ_STR(args[0], "file.txt");
    char *on[] = {"relay", "--verbose", "yes", NULL};
    REQUIRE(load(cfg, on, &err) == 0);
    CHECK(bl_config_bool(cfg, "verbose"));
    bl_config_free(cfg);
}

static void bare_bool_flag_means_true_and_leaves_next_argument(void)
{
    clear_env();
    bl_err err;
    bl_config *cfg = make(NULL);
    REQUIRE(cfg);
    char *argv[] = {"relay", "--verbose", "file.txt", "--", "--port", "-", NULL};
    REQUIRE(load(cfg, argv, &err) == 0);
    CHECK(bl_config_bool(cfg, "verbose"));
    int n = 0;
    char *const *args = bl_config_args(cfg, &n);
    REQUIRE(n == 3);
    CHECK_EQ_STR(args[0], "file.txt");
    CHECK_EQ_STR(args[1], "--port");
    CHECK_EQ_STR(args[2], "-");
    CHECK_EQ_INT(bl_config_int(cfg, "port"), 8080);
    bl_config_free(cfg);
}

static void durations_parse_into_milliseconds(void)
{
    const struct {
        const char *text;
        int64_t ms;
    } good[] = {{"250ms", 250}, {"10s", 10000}, {"5m", 300000}, {"1h", 3600000}, {"0s", 0},
                {"90m", 5400000}, {"30d", 2592000000LL}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = -1;
        CHECK_EQ_INT(bl_config_parse_duration(good[i].text, &ms), 0);
        CHECK_EQ_INT(ms, good[i].ms);
    }
    const char *bad[] = {"", "abc", "10", "10 s", "-5s", "1.5s", "5w", "s", "10sec",
                         "99999999999999999999ms", "9223372036854775807h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        if (bl_config_parse_duration(bad[i], &ms) != -1)
            fprintf(stderr, "  accepted \"%s\"\n", bad[i]);
        CHECK_EQ_INT(bl_config_parse_duration(bad[i], &ms), -1);
    }
}

static void out_of_range_flag_names_flag_and_bounds(void)
{
    char *joined[] = {"relay", "--port=70000", NULL};
    expect_error(NULL, NULL, joined, "config: --port=70000: must be between 1 and 65535");
    char *spaced[] = {"relay", "--port", "0", NULL};
    expect_error(NULL, NULL, spaced, "config: --port=0: must be between 1 and 65535");
    char *slow[] = {"relay", "--timeout=2h", NULL};
    expect_error(NULL, NULL, slow, "config: --timeout=2h: must be between 1ms and 1h");
}

static void bad_env_values_name_the_variable(void)
{
    char *none[] = {"relay", NULL};
    expect_error("BUSLINE_TIMEOUT", "abc", none,
                 "config: BUSLINE_TIMEOUT=abc: not a duration (e.g. 250ms, 10s, 5m, 1h, 30d)");
    expect_error("BLTEST_PORT", "80x", none, "config: BLTEST_PORT=80x: not an integer");
    expect_error("BLTEST_PORT", "99999999999999999999", none,
                 "config: BLTEST_PORT=99999999999999999999: not an integer");
    expect_error("BLTEST_VERBOSE", "maybe", none,
                 "config: BLTEST_VERBOSE=maybe: not a boolean (true/false/1/0/yes/no)");
    expect_error("BLTEST_MODE", "slow", none,
                 "config: BLTEST_MODE=slow: must be one of fast, safe");
    expect_error("BLTEST_CALLBACK", "ftp://x", none,
                 "config: BLTEST_CALLBACK=ftp://x: URL scheme must be one of http, https");
    expect_error("BLTEST_CALLBACK", "hooks.example", none,
                 "config: BLTEST_CALLBACK=hooks.example: not a URL (expected scheme://...)");
    expect_error("BLTEST_CALLBACK", "http://a b", none,
                 "config: BLTEST_CALLBACK=http://a b: not a URL (expected scheme://...)");
}

static void secret_values_are_redacted_in_errors(void)
{
    char *none[] = {"relay", NULL};
    expect_error("BLTEST_SECRET", "hunter2", none,
                 "config: BLTEST_SECRET=<redacted>: not a URL (expected scheme://...)");
}

static void unknown_flag_missing_value_and_missing_required_are_errors(void)
{
    char *unknown[] = {"relay", "--bogus=1", NULL};
    expect_error(NULL, NULL, unknown, "config: --bogus: unknown flag (see --help)");
    char *single[] = {"relay", "-x", NULL};
    expect_error(NULL, NULL, single, "config: -x: unknown flag (see --help)");
    char *at_end[] = {"relay", "--port", NULL};
    expect_error(NULL, NULL, at_end, "config: --port: missing value");
    char *before_flag[] = {"relay", "--port", "--verbose", NULL};
    expect_error(NULL, NULL, before_flag, "config: --port: missing value");

    clear_env();
    bl_config *cfg = make(required_settings);
    REQUIRE(cfg);
    bl_err err;
    char *none[] = {"relay", NULL};
    CHECK_EQ_INT(load(cfg, none, &err), -1);
    CHECK_EQ_STR(err.msg, "config: missing required setting tenant (set --tenant or BUSLINE_TENANT)");
    char *given[] = {"relay", "--tenant", "acme", NULL};
    CHECK_EQ_INT(load(cfg, given, &err), 0);
    CHECK_EQ_STR(bl_config_str(cfg, "tenant"), "acme");
    bl_config_free(cfg);
}

static void bad_tables_are_rejected_when_added(void)
{
    static const bl_setting bad_default[] = {
        {.name = "n", .flag = "n", .type = BL_SETTING_INT, .def = "ten", .help = "x"}, {0}};
    static const bl_setting clash[] = {
        {.name = "other", .flag = "port", .type = BL_SETTING_INT, .help = "x"}, {0}};
    static const bl_setting no_choices[] = {
        {.name = "e", .flag = "e", .type = BL_SETTING_ENUM, .help = "x"}, {0}};
    bl_err err;
    bl_config *cfg = make(NULL);
    REQUIRE(cfg);
    CHECK_EQ_INT(bl_config_add(cfg, bad_default, &err), -1);
    CHECK_EQ_STR(err.msg, "config: default of n=ten: not an integer");
    CHECK_EQ_INT(bl_config_add(cfg, clash, &err), -1);
    CHECK_EQ_STR(err.msg, "config: setting other clashes with port (same name, flag or env)");
    CHECK_EQ_INT(bl_config_add(cfg, no_choices, &err), -1);
    CHECK_EQ_STR(err.msg, "config: e: enum without choices");
    bl_config_free(cfg);
}

typedef struct load_call {
    bl_config *cfg;
    char **argv;
    bl_err *err;
    int rc;
} load_call;

static void run_load(void *ctx)
{
    load_call *c = ctx;
    c->rc = load(c->cfg, c->argv, c->err);
}

/* Runs load capturing what it prints to stdout; returns the load result. */
static int load_capturing(bl_config *cfg, char **argv, bl_err *err, char *out, size_t len)
{
    load_call c = {cfg, argv, err, -2};
    bl_test_capture_stdout(run_load, &c, out, len);
    return c.rc;
}

static void help_prints_usage_and_is_reported_distinctly(void)
{
    clear_env();
    bl_err err;
    bl_config *cfg = make(required_settings);
    REQUIRE(cfg);
    static char out[8192];
    char *argv[] = {"relay", "--port=1", "--help", "--port=70000", NULL};
    CHECK_EQ_INT(load_capturing(cfg, argv, &err, out, sizeof out), BL_CONFIG_HELP);
    CHECK(strncmp(out, "usage: relay [flags] [args]\n", 28) == 0);
    CHECK(strstr(out, "  --port <int 1..65535>\n        port to listen on\n"
                      "        env BLTEST_PORT; default 8080\n") != NULL);
    CHECK(strstr(out, "  --timeout <duration 1ms..1h>\n") != NULL);
    CHECK(strstr(out, "  --mode <fast|safe>\n") != NULL);
    CHECK(strstr(out, "  --callback <url (http|https)>\n        where to call back\n"
                      "        env BLTEST_CALLBACK; no default\n") != NULL);
    CHECK(strstr(out, "env BUSLINE_TENANT; required\n") != NULL);

    char *short_help[] = {"relay", "-h", NULL};
    CHECK_EQ_INT(load_capturing(cfg, short_help, &err, out, sizeof out), BL_CONFIG_HELP);
    CHECK(strncmp(out, "usage: relay", 12) == 0);
    bl_config_free(cfg);
}

static void common_settings_have_local_defaults(void)
{
    const char *envs[] = {"BUSLINE_KAFKA_BROKERS", "BUSLINE_PG_URL", "BUSLINE_LOG_LEVEL",
                          "BUSLINE_METRICS_PORT"};
    for (int i = 0; i < 4; i++)
        unsetenv(envs[i]);
    bl_err err;
    bl_config *cfg = bl_config_new();
    REQUIRE(cfg);
    REQUIRE(bl_config_add(cfg, bl_config_common, &err) == 0);
    CHECK_EQ_INT(bl_config_add(cfg, bl_config_common, &err), -1); /* added twice */
    char *argv[] = {"api", "--log-level", "debug", NULL};
    REQUIRE(load(cfg, argv, &err) == 0);
    CHECK_EQ_STR(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), "127.0.0.1:9092");
    CHECK_EQ_STR(bl_config_str(cfg, BL_CFG_PG_URL),
                 "postgresql://busline:busline@127.0.0.1:5433/busline");
    CHECK_EQ_STR(bl_config_str(cfg, BL_CFG_LOG_LEVEL), "debug");
    CHECK_EQ_INT(bl_config_int(cfg, BL_CFG_METRICS_PORT), 9464);
    char *bad[] = {"api", "--pg-url", "mysql://root:pw@db/x", NULL};
    CHECK_EQ_INT(load(cfg, bad, &err), -1);
    CHECK_EQ_STR(err.msg, "config: --pg-url=<redacted>: URL scheme must be one of postgresql, postgres");
    bl_config_free(cfg);
}

int main(void)
{
    BL_RUN(flag_beats_env_beats_default);
    BL_RUN(typed_values_are_parsed);
    BL_RUN(bare_bool_flag_means_true_and_leaves_next_argument);
    BL_RUN(bool_flag_takes_a_following_true_or_false);
    BL_RUN(durations_parse_into_milliseconds);
    BL_RUN(out_of_range_flag_names_flag_and_bounds);
    BL_RUN(bad_env_values_name_the_variable);
    BL_RUN(secret_values_are_redacted_in_errors);
    BL_RUN(unknown_flag_missing_value_and_missing_required_are_errors);
    BL_RUN(bad_tables_are_rejected_when_added);
    BL_RUN(help_prints_usage_and_is_reported_distinctly);
    BL_RUN(common_settings_have_local_defaults);
    return bl_test_summary();
}
