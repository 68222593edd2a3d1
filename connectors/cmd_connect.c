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

/* Everything the connect role holds while it runs, freed once by role_free. */
typedef struct connect_role {
    bl_config *cfg;
    const char *name;        /* the connector, argv's one argument */
    const char *config_path; /* --config, or NULL */
    int use_file, use_db;    /* where integrations come from */
    int handlers;
    json_t *file, *topic_list;
    const char **topics;
    merge_ctx merge;
    bl_keyring *keyring;
    bl_oauth_store *tokens;
    bl_integration_source *source;
    bl_pg_pool *pool;
    bl_state_store *state;
    bl_registry_client *registry;
    bl_schema_cache *schemas;
    bl_catalog *catalog;
    bl_connect *conn;
    bl_metrics *metrics;
    bl_runtime_metrics rm;
    bl_ops_server *ops;
    bl_runtime *rt;
    char group[256], runtime_name[128], session_ms[24];
    const char *consumer_extra[3];
} connect_role;

/* The connector name and where integrations come from (and the config
 * file when one is used). Returns 0, or the exit code (2: usage). */
static int read_arguments(connect_role *r)
{
    int nargs = 0;
    char *const *args = bl_config_args(r->cfg, &nargs);
    if (nargs != 1) {
        fprintf(stderr, "usage: busline connect <connector> [--config FILE] [--source db|file|both] [--topics T,...]\n");
        return 2;
    }
    r->name = args[0];
    r->config_path = bl_config_str(r->cfg, "connect_config");
    const char *src = bl_config_str(r->cfg, "connect_source");
    r->use_file = strcmp(src, "file") == 0 || strcmp(src, "both") == 0 ||
                  (strcmp(src, "auto") == 0 && r->config_path && *r->config_path);
    r->use_db = strcmp(src, "db") == 0 || strcmp(src, "both") == 0 || (strcmp(src, "auto") == 0 && !r->use_file);
    if (r->use_file && !(r->config_path && *r->config_path)) {
        fprintf(stderr, "busline connect: --source %s needs --config FILE\n", src);
        return 2;
    }
    json_error_t jerr;
    r->file = r->use_file ? json_load_file(r->config_path, 0, &jerr) : json_object();
    if (!r->file) {
        fprintf(stderr, "busline connect: %s: %s\n", r->config_path, jerr.text);
        return 2;
    }
    return 0;
}

/* The config file's topics plus --topics. Returns 0, or 2 when none. */
static int collect_topics(connect_role *r)
{
    const json_t *file_topics = json_object_get(r->file, "topics");
    r->topic_list = json_is_array(file_topics) ? json_deep_copy(file_topics) : json_array();
    add_topics(r->topic_list, bl_config_str(r->cfg, "connect_topics"));
    if (!r->topic_list || json_array_size(r->topic_list) == 0) {
        fprintf(stderr, "busline connect: no topics: give --topics or \"topics\" in the config file\n");
        return 2;
    }
    r->topics = calloc(json_array_size(r->topic_list), sizeof *r->topics);
    for (size_t i = 0; r->topics && i < json_array_size(r->topic_list); i++)
        r->topics[i] = json_string_value(json_array_get(r->topic_list, i));
    return 0;
}

/* Postgres, the state store, the schema registry and catalog, and the OAuth
 * token store when integrations come from Postgres. Returns 0 or the exit
 * code (1: unreachable, 2: OAuth misconfigured). */
static int open_stores(connect_role *r)
{
    bl_err err = {0};
    r->handlers = (int)bl_config_int(r->cfg, "connect_handlers");
    r->pool = bl_pg_pool_new(bl_config_str(r->cfg, BL_CFG_PG_URL), r->handlers + 2, &err);
    if (!r->pool || !(r->state = bl_state_store_new(r->pool)) ||
        !(r->registry = bl_registry_client_new(bl_config_str(r->cfg, "registry_url"), 0, &err)) ||
        !(r->schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, r->registry, &err)) ||
        !(r->catalog = bl_catalog_load(bl_catalog_default_dir(), &err))) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        return 1;
    }
    if (r->use_db) {
        bl_oauth_config oc = {0};
        bl_oauth_config_from_env(&oc);
        if (!(r->keyring = bl_keyring_from_env(&err)) ||
            !(r->tokens = bl_oauth_store_new(r->pool, r->keyring, &oc, &err))) {
            fprintf(stderr, "busline connect: OAuth token store: %s\n", err.msg);
            return 2;
        }
    }
    return 0;
}

/* The connector with the file's integrations, then the Postgres source that
 * merges in (and reloads) the provider's rows. Returns 0 or the exit code. */
static int start_connector(connect_role *r)
{
    bl_err err = {0};
    r->merge.from_file = file_integrations(r->file);
    bl_connect_config cc = {
        .connector = r->name,
        .connector_dir = bl_config_str(r->cfg, "connector_dir"),
        .integrations = r->merge.from_file,
        .state = r->state,
        .schemas = r->schemas,
        .catalog = r->catalog,
        .handlers = r->handlers,
        .http_timeout_ms = (long)bl_config_duration_ms(r->cfg, "connect_http_timeout"),
        .token = r->tokens ? bl_oauth_connector_token : NULL,
        .token_ctx = r->tokens,
    };
    r->conn = bl_connect_new(&cc, &err);
    if (!r->conn) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        return 2;
    }
    r->merge.conn = r->conn;
    if (r->use_db) {
        bl_integration_source_config sc = {
            .pg_url = bl_config_str(r->cfg, BL_CFG_PG_URL),
            .provider = r->name,
            .base_url = bl_config_str(r->cfg, "connect_base_url"),
            .poll_interval_ms = (int)bl_config_duration_ms(r->cfg, "connect_reload_interval"),
            .on_change = on_integrations,
            .ctx = &r->merge,
        };
        if (!(r->source = bl_integration_source_start(&sc, &err))) {
            fprintf(stderr, "busline connect: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

/* Consumes the topics under the consumer runtime until stopped, with the
 * ops server beside it. Returns the exit code (0: stopped cleanly). */
static int run_runtime(connect_role *r)
{
    bl_err err = {0};
    const char *g = bl_config_str(r->cfg, "connect_group"), *n = bl_config_str(r->cfg, "connect_name");
    snprintf(r->runtime_name, sizeof r->runtime_name, "%s", n && *n ? n : r->name);
    if (g && *g)
        snprintf(r->group, sizeof r->group, "%s", g);
    else
        snprintf(r->group, sizeof r->group, "busline-connect-%s", r->runtime_name);
    r->metrics = bl_metrics_new();
    if (!r->metrics || bl_runtime_metrics_register(r->metrics, &r->rm, &err) != 0) {
        fprintf(stderr, "busline connect: metrics: %s\n", err.msg);
        return 1;
    }
    const char *tiers = bl_config_str(r->cfg, "connect_retry_tiers");
    snprintf(r->session_ms, sizeof r->session_ms, "%lld",
             (long long)bl_config_duration_ms(r->cfg, "connect_session_timeout"));
    r->consumer_extra[0] = "session.timeout.ms";
    r->consumer_extra[1] = r->session_ms;
    r->consumer_extra[2] = NULL;
    bl_runtime_opts ro = {
        .brokers = bl_config_str(r->cfg, BL_CFG_KAFKA_BROKERS),
        .group_id = r->group,
        .connector_name = r->runtime_name,
        .topics = r->topics,
        .n_topics = json_array_size(r->topic_list),
        .retry_tiers = tiers && *tiers ? tiers : NULL,
        .max_attempts = (int)bl_config_int(r->cfg, "connect_max_attempts"),
        .consumer_extra = r->consumer_extra,
        .metrics = &r->rm,
        .connector = bl_connect_hooks(r->conn),
    };
    r->rt = bl_runtime_new(&ro, &err);
    if (!r->rt) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        return 2;
    }
    r->ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(r->cfg, BL_CFG_METRICS_PORT), r->metrics,
                                 bl_runtime_ready, r->rt, &err);
    if (!r->ops)
        bl_log_warn("connect: no ops server", BL_FS("error", err.msg));
    bl_log_info("connect: starting", BL_FS("connector", r->name), BL_FS("group", r->group));
    if (bl_runtime_run(r->rt, &err) != 0) {
        bl_log_error("connect: stopped on an error", BL_FS("error", err.msg));
        return 1;
    }
    return 0;
}

/* Frees what r holds, users before what they use. */
static void role_free(connect_role *r)
{
    bl_integration_source_free(r->source);
    bl_ops_server_free(r->ops);
    bl_runtime_free(r->rt);
    bl_connect_free(r->conn);
    bl_oauth_store_free(r->tokens);
    bl_keyring_free(r->keyring);
    json_decref(r->merge.from_file);
    json_decref(r->topic_list);
    bl_metrics_free(r->metrics);
    bl_catalog_free(r->catalog);
    bl_schema_cache_free(r->schemas);
    bl_registry_client_free(r->registry);
    bl_state_store_free(r->state);
    bl_pg_pool_free(r->pool);
    free(r->topics);
    json_decref(r->file);
    bl_config_free(r->cfg);
}

int bl_cmd_connect(int argc, char **argv)
{
    int code = 0;
    connect_role r = {0};
    if (!(r.cfg = bl_role_start("connect", connect_settings, argc, argv, &code)))
        return code;
    if (!(code = read_arguments(&r)) && !(code = collect_topics(&r)) && !(code = open_stores(&r)) &&
        !(code = start_connector(&r))) {
        if (bl_config_bool(r.cfg, "connect_check"))
            code = bl_connect_health(r.conn, print_health, NULL) == 0 ? 0 : 1;
        else
            code = run_runtime(&r);
    }
    role_free(&r);
    return code;
}
