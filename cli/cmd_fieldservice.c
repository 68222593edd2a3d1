/* busline fieldservice [run] | send FILE: the field-service domain service
 * (clients, interventions), and a tool that puts one command on its topic. */
#include "cli/commands.h"
#include "core/kafka_producer.h"
#include "core/log.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "producers/fieldservice/domain.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"

#include <stdio.h>
#include <string.h>

static const bl_setting fieldservice_settings[] = {
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url",
     .type = BL_SETTING_URL, .def = "http://127.0.0.1:8081",
     .choices = (const char *const[]){"http", "https", NULL}, .help = "schema registry base URL"},
    {.name = "schemas_dir", .env = "BUSLINE_SCHEMAS_DIR", .flag = "schemas-dir",
     .type = BL_SETTING_STRING, .help = "folder of .avsc files (default: the source tree's schemas/)"},
    {.name = "fieldservice_commands_topic", .env = "BUSLINE_FIELDSERVICE_COMMANDS_TOPIC", .flag = "commands-topic",
     .type = BL_SETTING_STRING, .def = "commands.fieldservice", .help = "topic of field-service commands"},
    {.name = "fieldservice_dlq_topic", .env = "BUSLINE_FIELDSERVICE_DLQ_TOPIC", .flag = "dlq-topic",
     .type = BL_SETTING_STRING, .help = "dead-letter topic (default: <commands topic>.dlq)"},
    {.name = "fieldservice_events_prefix", .env = "BUSLINE_FIELDSERVICE_EVENTS_PREFIX", .flag = "events-topic-prefix",
     .type = BL_SETTING_STRING, .def = "", .help = "prefix of the event topics (e.g. for tests)"},
    {.name = "fieldservice_group", .env = "BUSLINE_FIELDSERVICE_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .def = "busline-fieldservice", .help = "consumer group of the service"},
    {.name = "fieldservice_actor", .env = "BUSLINE_FIELDSERVICE_ACTOR", .flag = "actor", .type = BL_SETTING_STRING,
     .def = "busline-cli", .help = "send: actor of a command that names none"},
    {.name = "fieldservice_send_timeout", .env = "BUSLINE_FIELDSERVICE_SEND_TIMEOUT", .flag = "timeout",
     .type = BL_SETTING_DURATION, .def = "30s", .min = 100, .max = 600000,
     .help = "send: how long to wait for the broker's ack"},
    {0},
};

static const char usage[] = "usage: busline fieldservice [run] | send FILE [options]\n"
                            "  run        consume commands.fieldservice and apply them (default)\n"
                            "  send FILE  validate the plain-JSON command in FILE, put it on the\n"
                            "             commands topic and print its id\n";

static int fieldservice_send(const bl_config *cfg, const char *path)
{
    bl_err err = {0};
    bl_domain_codec_opts opts = {.domain = BL_FIELDSERVICE_DOMAIN,
        .registry_url = bl_config_str(cfg, "registry_url"),
        .schemas_dir = bl_config_str(cfg, "schemas_dir"),
        .commands_topic = bl_config_str(cfg, "fieldservice_commands_topic"),
        .events_prefix = bl_config_str(cfg, "fieldservice_events_prefix"),
    };
    bl_domain_sender sender = {.source = "busline-cli", .actor = bl_config_str(cfg, "fieldservice_actor")};
    char id[BL_UUID_SIZE];
    bl_kafka_producer *p = NULL;
    bl_domain_codec *codec = bl_domain_codec_new(&opts, &err);
    int rc = codec && (p = bl_kafka_producer_new(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), NULL,
                                                  NULL, NULL, &err))
                 ? bl_domain_send_file(codec, p, path, &sender,
                                    (int)bl_config_duration_ms(cfg, "fieldservice_send_timeout"), id, &err)
                 : -1;
    if (rc == 0)
        printf("%s\n", id);
    else
        fprintf(stderr, "busline fieldservice send: %s\n", err.msg);
    bl_kafka_producer_free(p, 5000);
    bl_domain_codec_free(codec);
    return rc == 0 ? 0 : 1;
}

static int fieldservice_run(const bl_config *cfg)
{
    bl_err err = {0};
    bl_domain_service_opts opts = {.rules = &bl_fieldservice_rules,
        .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
        .pg_url = bl_config_str(cfg, BL_CFG_PG_URL),
        .group_id = bl_config_str(cfg, "fieldservice_group"),
        .commands_topic = bl_config_str(cfg, "fieldservice_commands_topic"),
        .dlq_topic = bl_config_str(cfg, "fieldservice_dlq_topic"),
        .events_topic_prefix = bl_config_str(cfg, "fieldservice_events_prefix"),
        .schemas_dir = bl_config_str(cfg, "schemas_dir"),
        .registry_url = bl_config_str(cfg, "registry_url"),
    };
    bl_domain_service *svc = bl_domain_service_new(&opts, &err);
    /* /healthz and /readyz for the kubelet (k8s/base/roles/fieldservice.yaml): ready
     * once the group gave the service a partition, so a rolling update waits
     * for the new pod to take over work before it stops the next. A busy port
     * only happens when several roles share one host (scripts/run, tests):
     * warn and go on; in a pod the liveness probe would catch it. */
    bl_ops_server *ops = NULL;
    if (svc) {
        bl_err ops_err = {0};
        ops = bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT), NULL,
                                  bl_domain_service_ready, svc, &ops_err);
        if (!ops)
            bl_log_warn("fieldservice: no /healthz /readyz", BL_FS("error", ops_err.msg));
    }
    int rc = svc ? bl_domain_service_run(svc, &err) : -1;
    if (rc != 0) {
        bl_log_error("fieldservice service failed", BL_FS("error", err.msg));
        fprintf(stderr, "busline fieldservice: %s\n", err.msg);
    }
    bl_ops_server_free(ops);
    bl_domain_service_free(svc);
    return rc == 0 ? 0 : 1;
}

int bl_cmd_fieldservice(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("fieldservice", fieldservice_settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    if (nargs == 0 || (nargs == 1 && strcmp(args[0], "run") == 0)) {
        code = fieldservice_run(cfg);
    } else if (nargs == 2 && strcmp(args[0], "send") == 0) {
        code = fieldservice_send(cfg, args[1]);
    } else {
        fputs(usage, stderr);
        code = 2;
    }
    bl_config_free(cfg);
    return code;
}
