/* busline connect <connector>: integrations from a config file, state in
 * Postgres (migrations/061_connectors.sql), events from Kafka. */
#include "connectors/cmd_connect.h"

#include "connectors/connect.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bl_setting connect_settings[] = {
    {.name = "connect_config", .env = "BUSLINE_CONNECT_CONFIG", .flag = "config", .type = BL_SETTING_STRING,
     .required = true,
     .help = "JSON file: {\"topics\": [...], \"integrations\": [{id, settings, credentials, rules}]}"},
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
    {0},
};

int bl_cmd_connect(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("connect", connect_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    json_t *file = NULL;
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
        fprintf(stderr, "usage: busline connect <connector> --config FILE\n");
        code = 2;
        goto done;
    }
    const char *name = args[0];
    json_error_t jerr;
    file = json_load_file(bl_config_str(cfg, "connect_config"), 0, &jerr);
    const json_t *jtopics = json_object_get(file, "topics");
    if (!file || !json_is_array(jtopics) || json_array_size(jtopics) == 0) {
        fprintf(stderr, "busline connect: %s: %s\n", bl_config_str(cfg, "connect_config"),
                file ? "\"topics\": a non-empty array is required" : jerr.text);
        code = 2;
        goto done;
    }
    topics = calloc(json_array_size(jtopics), sizeof *topics);
    for (size_t i = 0; topics && i < json_array_size(jtopics); i++)
        topics[i] = json_string_value(json_array_get(jtopics, i));
    pool = bl_pg_pool_new(bl_config_str(cfg, BL_CFG_PG_URL), 2, &err);
    if (!pool || !(state = bl_state_store_new(pool)) ||
        !(registry = bl_registry_client_new(bl_config_str(cfg, "registry_url"), 0, &err)) ||
        !(schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, registry, &err)) ||
        !(catalog = bl_catalog_load(bl_catalog_default_dir(), &err))) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        code = 1;
        goto done;
    }
    bl_connect_config cc = {
        .connector = name,
        .connector_dir = bl_config_str(cfg, "connector_dir"),
        .integrations = json_object_get(file, "integrations"),
        .state = state,
        .schemas = schemas,
        .catalog = catalog,
        .handlers = (int)bl_config_int(cfg, "connect_handlers"),
        .http_timeout_ms = (long)bl_config_duration_ms(cfg, "connect_http_timeout"),
    };
    conn = bl_connect_new(&cc, &err);
    if (!conn) {
        fprintf(stderr, "busline connect: %s\n", err.msg);
        code = 2;
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
        .n_topics = json_array_size(jtopics),
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
    bl_ops_server_free(ops);
    bl_runtime_free(rt);
    bl_connect_free(conn);
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
