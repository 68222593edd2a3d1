/* busline workflows: the workflow orchestrator (wf_orchestrator.h) until SIGTERM. */
#include "connectors/workflows/cmd_workflows.h"

#include "connectors/workflows/wf_orchestrator.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "core/signals.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOPICS_MAX 32

static const bl_setting workflow_settings[] = {
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url", .type = BL_SETTING_STRING,
     .def = "http://127.0.0.1:8081", .help = "schema registry base URL"},
    {.name = "topics", .env = "BUSLINE_WORKFLOW_TOPICS", .flag = "topics", .type = BL_SETTING_STRING,
     .def = "^events\\..*", .help = "comma-separated event topics that trigger workflows (\"^...\" is a regex)"},
    {.name = "group", .env = "BUSLINE_WORKFLOW_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .def = "busline-workflows", .help = "the trigger consumer group"},
    {.name = "workers", .env = "BUSLINE_WORKFLOW_WORKERS", .flag = "workers", .type = BL_SETTING_INT, .def = "4",
     .min = 1, .max = 64, .help = "threads running steps"},
    {.name = "lease", .env = "BUSLINE_WORKFLOW_LEASE", .flag = "lease", .type = BL_SETTING_DURATION, .def = "30s",
     .min = 500, .max = 3600000,
     .help = "how long a claimed step is held; a replica killed mid-step is taken over after it (keep it above "
             "the longest integration timeout)"},
    {.name = "poll", .env = "BUSLINE_WORKFLOW_POLL", .flag = "poll", .type = BL_SETTING_DURATION, .def = "200ms",
     .min = 10, .max = 10000, .help = "idle wait between looks for due timers"},
    {.name = "allow", .env = "BUSLINE_WEBHOOK_ALLOW", .flag = "allow", .type = BL_SETTING_STRING, .def = "",
     .help = "CIDRs integration URLs may resolve to although not public (e.g. 127.0.0.0/8)"},
    {.name = "topic_prefix", .env = "BUSLINE_TOPIC_PREFIX", .flag = "topic-prefix", .type = BL_SETTING_STRING,
     .def = "", .help = "prepended to the catalog topics of bus integrations (tests)"},
    {0},
};

static int workflows_ready(void *ctx, char *reason, size_t reason_len)
{
    if (bl_wf_orchestrator_ready(ctx))
        return 1;
    snprintf(reason, reason_len, "the trigger consumer has no partitions yet");
    return 0;
}

int bl_cmd_workflows(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("workflows", workflow_settings, argc, argv, &code);
    if (!cfg)
        return code;
    code = 1;
    bl_err err = {0};
    bl_registry_client *registry = NULL;
    bl_schema_cache *schemas = NULL;
    bl_call_runner *runner = NULL;
    bl_wf_orchestrator *o = NULL;
    bl_ops_server *ops = NULL;
    bl_metrics *metrics = bl_metrics_new();
    bl_ssrf_allowlist allow;
    char *topics_buf = strdup(bl_config_str(cfg, "topics") ? bl_config_str(cfg, "topics") : "");
    const char *topics[TOPICS_MAX];
    size_t n_topics = 0;
    for (char *save = NULL, *t = topics_buf ? strtok_r(topics_buf, ", ", &save) : NULL; t && n_topics < TOPICS_MAX;
         t = strtok_r(NULL, ", ", &save))
        topics[n_topics++] = t;
    const char *prefix = bl_config_str(cfg, "topic_prefix");
    if (!metrics || !topics_buf) {
        bl_err_set(&err, BL_ENOMEM, "out of memory");
        goto done;
    }
    if (bl_ssrf_allowlist_parse(bl_config_str(cfg, "allow"), &allow, &err) != 0 ||
        !(registry = bl_registry_client_new(bl_config_str(cfg, "registry_url"), 0, &err)) ||
        !(schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, registry, &err)))
        goto done;
    bl_call_runner_opts ro = {.allow = &allow, .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
                              .registry_url = bl_config_str(cfg, "registry_url"),
                              .topic_prefix = prefix && *prefix ? prefix : NULL};
    if (!(runner = bl_call_runner_new(&ro, &err)))
        goto done;
    bl_wf_orchestrator_opts oo = {
        .pg_url = bl_config_str(cfg, BL_CFG_PG_URL),
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .group_id = bl_config_str(cfg, "group"),
        .topics = topics,
        .n_topics = n_topics,
        .schemas = schemas,
        .runner = runner,
        .allow = &allow,
        .workers = (int)bl_config_int(cfg, "workers"),
        .lease_ms = bl_config_duration_ms(cfg, "lease"),
        .poll_ms = (int)bl_config_duration_ms(cfg, "poll"),
    };
    if (!(o = bl_wf_orchestrator_new(&oo, &err)) ||
        !(ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT), metrics,
                                    workflows_ready, o, &err)))
        goto done;
    while (!bl_signals_stop_requested())
        usleep(100 * 1000);
    bl_log_info("workflows: stopping");
    code = 0;
done:
    if (code != 0)
        fprintf(stderr, "busline workflows: %s\n", err.msg);
    bl_ops_server_free(ops);
    bl_wf_orchestrator_free(o);
    bl_call_runner_free(runner);
    bl_schema_cache_free(schemas);
    bl_registry_client_free(registry);
    bl_metrics_free(metrics);
    free(topics_buf);
    bl_config_free(cfg);
    return code;
}
