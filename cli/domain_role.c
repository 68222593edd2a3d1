#include "cli/domain_role.h"

#include "core/kafka_producer.h"
#include "core/log.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"

#include <stdio.h>
#include <string.h>

/* The value of setting "<domain>_<key>". */
static const char *domain_str(const bl_config *cfg, const char *domain, const char *key)
{
    char name[96];
    snprintf(name, sizeof name, "%s_%s", domain, key);
    return bl_config_str(cfg, name);
}

static int domain_send(const bl_config *cfg, const char *domain, const char *path)
{
    bl_err err = {0};
    bl_domain_codec_opts opts = {
        .domain = domain,
        .registry_url = bl_config_str(cfg, "registry_url"),
        .schemas_dir = bl_config_str(cfg, "schemas_dir"),
        .commands_topic = domain_str(cfg, domain, "commands_topic"),
        .events_prefix = domain_str(cfg, domain, "events_prefix"),
    };
    bl_domain_sender sender = {.source = "busline-cli", .actor = domain_str(cfg, domain, "actor")};
    char id[BL_UUID_SIZE], timeout_name[96];
    snprintf(timeout_name, sizeof timeout_name, "%s_send_timeout", domain);
    bl_kafka_producer *p = NULL;
    bl_domain_codec *codec = bl_domain_codec_new(&opts, &err);
    int rc = codec && (p = bl_kafka_producer_new(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), NULL,
                                                  NULL, NULL, &err))
                 ? bl_domain_send_file(codec, p, path, &sender,
                                       (int)bl_config_duration_ms(cfg, timeout_name), id, &err)
                 : -1;
    if (rc == 0)
        printf("%s\n", id);
    else
        fprintf(stderr, "busline %s send: %s\n", domain, err.msg);
    bl_kafka_producer_free(p, 5000);
    bl_domain_codec_free(codec);
    return rc == 0 ? 0 : 1;
}

static int domain_run(const bl_config *cfg, const bl_domain_rules *rules)
{
    const char *domain = rules->domain;
    bl_err err = {0};
    bl_domain_service_opts opts = {
        .rules = rules,
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .pg_url = bl_config_str(cfg, BL_CFG_PG_URL),
        .group_id = domain_str(cfg, domain, "group"),
        .commands_topic = domain_str(cfg, domain, "commands_topic"),
        .dlq_topic = domain_str(cfg, domain, "dlq_topic"),
        .events_topic_prefix = domain_str(cfg, domain, "events_prefix"),
        .schemas_dir = bl_config_str(cfg, "schemas_dir"),
        .registry_url = bl_config_str(cfg, "registry_url"),
        .api_prefix = rules->api_prefix_setting ? bl_config_str(cfg, rules->api_prefix_setting) : NULL,
    };
    char session_name[96];
    snprintf(session_name, sizeof session_name, "%s_session_timeout", domain);
    opts.session_timeout_ms = (int)bl_config_duration_ms(cfg, session_name);
    bl_domain_service *svc = bl_domain_service_new(&opts, &err);
    /* /healthz and /readyz for the kubelet (k8s/base/roles/<domain>.yaml):
     * ready once the group gave the service a partition, so a rolling update
     * waits for the new pod to take over work before it stops the next. A
     * busy port only happens when several roles share one host (scripts/run,
     * tests): warn and go on; in a pod the liveness probe would catch it. */
    bl_ops_server *ops = NULL;
    if (svc) {
        bl_err ops_err = {0};
        ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT), NULL,
                                  bl_domain_service_ready, svc, &ops_err);
        if (!ops)
            bl_log_warn("domain service: no /healthz /readyz", BL_FS("domain", domain),
                        BL_FS("error", ops_err.msg));
    }
    int rc = svc ? bl_domain_service_run(svc, &err) : -1;
    if (rc != 0) {
        bl_log_error("domain service failed", BL_FS("domain", domain), BL_FS("error", err.msg));
        fprintf(stderr, "busline %s: %s\n", domain, err.msg);
    }
    bl_ops_server_free(ops);
    bl_domain_service_free(svc);
    return rc == 0 ? 0 : 1;
}

int bl_domain_role_main(const bl_domain_rules *rules, const bl_setting *settings, int argc,
                        char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start(rules->domain, settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    if (nargs == 0 || (nargs == 1 && strcmp(args[0], "run") == 0)) {
        code = domain_run(cfg, rules);
    } else if (nargs == 2 && strcmp(args[0], "send") == 0) {
        code = domain_send(cfg, rules->domain, args[1]);
    } else {
        fprintf(stderr,
                "usage: busline %s [run] | send FILE [options]\n"
                "  run        consume commands.%s and apply them (default)\n"
                "  send FILE  validate the plain-JSON command in FILE, put it on the\n"
                "             commands topic and print its id\n",
                rules->domain, rules->domain);
        code = 2;
    }
    bl_config_free(cfg);
    return code;
}
