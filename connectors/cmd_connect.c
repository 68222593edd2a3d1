/* busline connect <connector>: integrations from Postgres (the rows of the
 * provider in `integrations`, reloaded on change; tokens from the OAuth
 * store) and/or from a config file, state in Postgres
 * (migrations/061_connectors.sql), events from Kafka. */
#include "connectors/cmd_connect.h"

#include "connectors/connect.h"
#include "connectors/integration_source.h"
#include "connectors/oauth/oauth.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const source_choices[] = {"auto", "db", "file", "both", NULL};
static const char *const http_schemes[] = {"http", "https", NULL};

static const bl_setting connect_settings[] = {
    {.name = "connect_config", .env = "BUSLINE_CONNECT_CONFIG", .flag = "config", .type = BL_SETTING_STRING,
     .help = "JSON file: {\"topics\": [...], \"integrations\": [{id, settings, credentials, rules}]}"},
    {.name = "connect_source", .env = "BUSLINE_CONNECT_SOURCE", .flag = "source", .type = BL_SETTING_ENUM,
     .def = "auto", .choices = source_choices,
     .help = "where integrations come from: db (Postgres rows of the provider), file (--config), both; "
             "auto = file when --config is given, else db"},
    {.name = "connect_topics", .env = "BUSLINE_CONNECT_TOPICS", .flag = "topics", .type = BL_SETTING_STRING,
     .help = "comma-separated topics to consume (added to the config file's)"},
    {.name = "connect_base_url", .env = "BUSLINE_CONNECT_BASE_URL", .flag = "vendor-base-url",
     .type = BL_SETTING_URL, .choices = http_schemes,
     .help = "vendor API base for Postgres integrations (a row's own base_url is ignored); default the vendor's"},
    {.name = "connect_reload_interval", .env = "BUSLINE_CONNECT_RELOAD_INTERVAL", .flag = "reload-interval",
     .type = BL_SETTING_DURATION, .def = "30s", .min = 1000, .max = 3600000,
     .help = "Postgres integrations are reloaded on NOTIFY, and at least this often"},
    {.name = "connector_dir", .env = "BUSLINE_CONNECTOR_DIR", .flag = "connector-dir", .type = BL_SETTING_STRING,
     .help = "folder of external connectors (<name>.so)"},
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url", .type = BL_SETTING_URL,
     .def = "http://127.0.0.1:8081", .help = "schema registry that decodes the events"},
    {.name = "connect_group", .env = "BUSLINE_CONNECT_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .help = "consumer group; default busline-connect-<name>"},
    {.name = "connect_name", .env = "BUSLINE_CONNECT_NAME", .flag = "name", .type = BL_SETTING_STRING,
     .help = "prefix of the retry and dead-letter topics and metrics label; default the connector's name"},
    {.name = "connect_retry_tiers", .env = "BUSLINE_CONNECT_RETRY_TIERS", .flag = "retry-tiers",
     .type = BL_SETTING_STRING, .def = "",
     .help = "retry tier delays (\"5s,1m,10m\"; topics <name>.retry.<tier>); empty retries in place"},
    {.name = "connect_max_attempts", .env = "BUSLINE_CONNECT_MAX_ATTEMPTS", .flag = "max-attempts",
     .type = BL_SETTING_INT, .def = "6", .min = 1, .max = 100,
     .help = "attempts before an event goes to <name>.dlq"},
    {.name = "connect_handlers", .env = "BUSLINE_CONNECT_HANDLERS", .flag = "handlers", .type = BL_SETTING_INT,
     .def = "4", .min = 1, .max = BL_CONNECT_MAX_HANDLERS, .help = "threads calling the vendor's API"},
    {.name = "connect_http_timeout", .env = "BUSLINE_CONNECT_HTTP_TIMEOUT", .flag = "http-timeout",
     .type = BL_SETTING_DURATION, .def = "15s", .min = 100, .max = 600000, .help = "per vendor request"},
    {.name = "connect_session_timeout", .env = "BUSLINE_CONNECT_SESSION_TIMEOUT", .flag = "session-timeout",
     .type = BL_SETTING_DURATION, .def = "45s", .min = 6000, .max = 300000,
     .help = "consumer group session timeout: how soon a killed worker's partitions move"},
    {.name = "connect_check", .env = NULL, .flag = "check", .type = BL_SETTING_BOOL, .def = "false",
     .help = "check every integration's settings and credentials against the vendor, then exit"},
    {0},
};

static void print_health(const char *integration_id, const char *problem, void *ctx)
{
    (void)ctx;
    printf("%s: %s\n", integration_id, problem ? problem : "ok");
}

/* The file's integrations and the latest Postgres ones, merged on reload. */
typedef struct merge_ctx {
    bl_connect *conn;
    json_t *from_file; /* each with "oauth" set: false unless the file says */
} merge_ctx;

static void on_integrations(const json_t *from_db, void *arg)
{
    merge_ctx *m = arg;
    json_t *all = json_deep_copy(m->from_file);
    bl_err err = {0};
    if (!all || json_array_extend(all, (json_t *)from_db) != 0)
        bl_err_set(&err, BL_ENOMEM, "out of memory");
    else if (bl_connect_reload(m->conn, all, &err) == 0)
        err.msg[0] = '\0';
    if (err.msg[0])
        bl_log_error("connect: reload failed; keeping the running integrations", BL_FS("error", err.msg));
    json_decref(all);
}

/* The file's integrations: those not asking for the OAuth store keep their
 * own credentials. New reference, or NULL. */
static json_t *file_integrations(const json_t *file)
{
    const json_t *list = json_object_get(file, "integrations");
    json_t *out = list ? json_deep_copy(list) : json_array();
    size_t i;
    json_t *spec;
    json_array_foreach (out, i, spec)
        if (json_is_object(spec) && !json_object_get(spec, "oauth"))
            json_object_set_new(spec, "oauth", json_false());
    return out;
}

/* Appends the comma-separated topics of text to list. */
static void add_topics(json_t *list, const char *text)
{
    while (text && *text) {
        size_t n = strcspn(text, ",");
        if (n > 0)
            json_array_append_new(list, json_stringn(text, n));
        text += n + (text[n] == ',');
    }
}

int bl_cmd_connect(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("connect", connect_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    json_t *file = NULL, *topic_list = NULL;
    merge_ctx merge = {0};
    bl_keyring *keyring = NULL;
    bl_oauth_store *tokens = NULL;
    bl_integration_source *source = NULL;
    bl_pg_pool *pool = NULL;
    bl_state_store *state = NULL;
    bl_registry_client *registry = NULL;
    bl_schema_cache *schemas = NULL;
    bl_catalog *catalog = NULL;
    bl_connect *conn = NULL;
    bl_metrics *metrics = NULL;
    bl_ops_server *ops = NULL;
    bl_runtime *rt = NULL;
    const char **topics = NULL;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    if (nargs != 1) {
        fprintf(stderr, "usage: busline connect <connector> [--config FILE] [--source db|file|both] [--topics T,...]\n");
        code = 2;
        goto done;
    }
    const char *name = args[0];
    const char *config_path = bl_config_str(cfg, "connect_config");
    const char *src = bl_config_str(cfg, "connect_source");
    int use_file = strcmp(src, "file") == 0 || strcmp(src, "both") == 0 ||
                   (strcmp(src, "auto") == 0 && config_path && *config_path);
    int use_db = strcmp(src, "db") == 0 || strcmp(src, "both") == 0 || (strcmp(src, "auto") == 0 && !use_file);
    if (use_file && !(config_path && *config_path)) {
        fprintf(stderr, "busline connect: --source %s needs --config FILE\n", src);
        code = 2;
        goto done;
    }
    json_error_t jerr;
    file = use_file ? json_load_file(config_path, 0, &jerr) : json_object();
    if (!file) {
        fprintf(stderr, "busline connect: %s: %s\n", config_path, jerr.text);
        code = 2;
        goto done;
    }
    const json_t *file_topics = json_object_get(file, "topics");
    topic_list = json_is_array(file_topics) ? json_deep_copy(file_topics) : json_array();
    add_topics(topic_list, bl_config_str(cfg, "connect_topics"));
    if (!topic_list || json_array_size(topic_list) == 0) {
        fprintf(stderr, "busline connect: no topics: give --topics or \"topics\" in the config file\n");
        code = 2;
        goto done;
    }
    topics = calloc(json_array_size(topic_list), sizeof *topics);
    for (size_t i = 0; topics && i < json_array_size(topic_list); i++)
        topics[i] = json_string_value(json_array_get(topic_list, i));
    int handlers = (int)bl_config_int(cfg, "connect_handlers");
    pool = bl_pg_pool_new(bl_config_str(cfg, BL_CFG_PG_URL), handlers + 2, &err);
    if (!pool || !(state = bl_state_store_new(pool)) ||
        !(registry = bl_registry_client_new(bl_config_str(cfg, "registry_url"), 0, &err)) ||
        !(schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, registry, &err)) ||
        !(catalog = bl_catalog_load(bl_catalog_default_dir(), &err))) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        code = 1;
        goto done;
    }
    if (use_db) {
        bl_oauth_config oc = {0};
        bl_oauth_config_from_env(&oc);
        if (!(keyring = bl_keyring_from_env(&err)) || !(tokens = bl_oauth_store_new(pool, keyring, &oc, &err))) {
            fprintf(stderr, "busline connect: OAuth token store: %s\n", err.msg);
            code = 2;
            goto done;
        }
    }
    merge.from_file = file_integrations(file);
    bl_connect_config cc = {
        .connector = name,
        .connector_dir = bl_config_str(cfg, "connector_dir"),
        .integrations = merge.from_file,
        .state = state,
        .schemas = schemas,
        .catalog = catalog,
        .handlers = handlers,
        .http_timeout_ms = (long)bl_config_duration_ms(cfg, "connect_http_timeout"),
        .token = tokens ? bl_oauth_connector_token : NULL,
        .token_ctx = tokens,
    };
    conn = bl_connect_new(&cc, &err);
    if (!conn) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        code = 2;
        goto done;
    }
    merge.conn = conn;
    if (use_db) {
        bl_integration_source_config sc = {
            .pg_url = bl_config_str(cfg, BL_CFG_PG_URL),
            .provider = name,
            .base_url = bl_config_str(cfg, "connect_base_url"),
            .poll_interval_ms = (int)bl_config_duration_ms(cfg, "connect_reload_interval"),
            .on_change = on_integrations,
            .ctx = &merge,
        };
        if (!(source = bl_integration_source_start(&sc, &err))) {
            fprintf(stderr, "busline connect: %s\n", err.msg);
            code = 1;
            goto done;
        }
    }
    if (bl_config_bool(cfg, "connect_check")) {
        code = bl_connect_health(conn, print_health, NULL) == 0 ? 0 : 1;
        goto done;
    }
    char group[256], runtime_name[128];
    const char *g = bl_config_str(cfg, "connect_group"), *n = bl_config_str(cfg, "connect_name");
    snprintf(runtime_name, sizeof runtime_name, "%s", n && *n ? n : name);
    if (g && *g)
        snprintf(group, sizeof group, "%s", g);
    else
        snprintf(group, sizeof group, "busline-connect-%s", runtime_name);
    metrics = bl_metrics_new();
    bl_runtime_metrics rm;
    if (!metrics || bl_runtime_metrics_register(metrics, &rm, &err) != 0) {
        fprintf(stderr, "busline connect: metrics: %s\n", err.msg);
        code = 1;
        goto done;
    }
    const char *tiers = bl_config_str(cfg, "connect_retry_tiers");
    char session_ms[24];
    snprintf(session_ms, sizeof session_ms, "%lld", (long long)bl_config_duration_ms(cfg, "connect_session_timeout"));
    const char *consumer_extra[] = {"session.timeout.ms", session_ms, NULL};
    bl_runtime_opts ro = {
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .group_id = group,
        .connector_name = runtime_name,
        .topics = topics,
        .n_topics = json_array_size(topic_list),
        .retry_tiers = tiers && *tiers ? tiers : NULL,
        .max_attempts = (int)bl_config_int(cfg, "connect_max_attempts"),
        .consumer_extra = consumer_extra,
        .metrics = &rm,
        .connector = bl_connect_hooks(conn),
    };
    rt = bl_runtime_new(&ro, &err);
    if (!rt) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        code = 2;
        goto done;
    }
    ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT), metrics,
                              bl_runtime_ready, rt, &err);
    if (!ops)
        bl_log_warn("connect: no ops server", BL_FS("error", err.msg));
    bl_log_info("connect: starting", BL_FS("connector", name), BL_FS("group", group));
    if (bl_runtime_run(rt, &err) != 0) {
        bl_log_error("connect: stopped on an error", BL_FS("error", err.msg));
        code = 1;
    }
done:
    bl_integration_source_free(source);
    bl_ops_server_free(ops);
    bl_runtime_free(rt);
    bl_connect_free(conn);
    bl_oauth_store_free(tokens);
    bl_keyring_free(keyring);
    json_decref(merge.from_file);
    json_decref(topic_list);
    bl_metrics_free(metrics);
    bl_catalog_free(catalog);
    bl_schema_cache_free(schemas);
    bl_registry_client_free(registry);
    bl_state_store_free(state);
    bl_pg_pool_free(pool);
    free(topics);
    json_decref(file);
    bl_config_free(cfg);
    return code;
}
