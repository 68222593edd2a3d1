/* busline topics ensure|list: creates (or checks) every topic the bus uses —
 * one per catalog topic, a dead-letter topic beside each command topic, the
 * webhook connector's deliveries, retry tiers and dead-letter topic, and the
 * dead-letter topic of each built-in SaaS connector (`busline connect
 * <name>` with its default --name: <name>.dlq). */
#include "cli/commands.h"
#include "core/kafka_admin.h"
#include "core/log.h"
#include "core/role.h"
#include "connectors/loader.h"
#include "connectors/webhook/workers/delivery.h"
#include "schemas/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bl_setting topic_settings[] = {
    {.name = "partitions", .env = "BUSLINE_TOPIC_PARTITIONS", .flag = "partitions",
     .type = BL_SETTING_INT, .def = "3", .min = 1, .max = 1000,
     .help = "partitions of each topic (consumer replicas can scale up to this)"},
    {.name = "replication", .env = "BUSLINE_TOPIC_REPLICATION", .flag = "replication",
     .type = BL_SETTING_INT, .def = "1", .min = 1, .max = 10,
     .help = "replication factor (3 on a production cluster)"},
    {.name = "retention", .env = "BUSLINE_TOPIC_RETENTION", .flag = "retention",
     .type = BL_SETTING_DURATION, .def = "168h", .min = 60000, .max = 0x7fffffffffffLL,
     .help = "how long events are kept"},
    {.name = "schemas_dir", .env = "BUSLINE_SCHEMAS_DIR", .flag = "schemas-dir",
     .type = BL_SETTING_STRING, .def = BUSLINE_SOURCE_DIR "/schemas",
     .help = "folder of the .avsc files"},
    {0},
};

/* The names of every topic, owned by the returned array (free with
 * bl_kafka_topic_names_free). */
static char **topic_names(const bl_catalog *cat, size_t *n)
{
    size_t count = bl_catalog_topic_count(cat);
    bl_retry_tiers tiers;
    if (bl_retry_tiers_parse(&tiers, BL_WEBHOOK_CONNECTOR, BL_WEBHOOK_RETRY_TIERS, NULL) != 0)
        return NULL;
    size_t connectors = 0;
    while (bl_connector_builtin_name(connectors))
        connectors++;
    char **names = calloc(count * 2 + 3 + tiers.n + connectors, sizeof *names);
    *n = 0;
    for (size_t i = 0; names && i < count; i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(cat, i);
        names[(*n)++] = strdup(t->name);
        if (t->kind == BL_MSG_COMMAND) {
            size_t len = strlen(t->name) + 5;
            char *dlq = malloc(len);
            if (dlq)
                snprintf(dlq, len, "%s.dlq", t->name);
            names[(*n)++] = dlq;
        }
    }
    if (!names)
        return NULL;
    names[(*n)++] = strdup(BL_WEBHOOK_DELIVERIES_TOPIC);
    for (size_t i = 0; i < tiers.n; i++) {
        char tier[BL_TOPIC_NAME_MAX];
        bl_retry_tier_topic(&tiers, i, tier, sizeof tier, NULL);
        names[(*n)++] = strdup(tier);
    }
    names[(*n)++] = strdup(BL_WEBHOOK_DLQ_TOPIC);
    names[(*n)++] = strdup(BL_WEBHOOK_FANOUT_DLQ_TOPIC);
    for (size_t i = 0; i < connectors; i++) {
        char dlq[BL_TOPIC_NAME_MAX];
        snprintf(dlq, sizeof dlq, "%s.dlq", bl_connector_builtin_name(i));
        names[(*n)++] = strdup(dlq);
    }
    return names;
}

static int ensure(const bl_config *cfg, char **names, size_t n)
{
    bl_err err = {0};
    int rc = 1;
    char retention[32];
    snprintf(retention, sizeof retention, "%lld", (long long)bl_config_duration_ms(cfg, "retention"));
    const char *const configs[] = {"retention.ms", retention, "cleanup.policy", "delete", NULL};
    bl_kafka_topic_spec *specs = calloc(n, sizeof *specs);
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), NULL, &err);
    if (!specs || !admin)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) {
            bl_err_set(&err, BL_ENOMEM, "out of memory");
            goto done;
        }
        specs[i] = (bl_kafka_topic_spec){names[i], (int)bl_config_int(cfg, "partitions"),
                                         (int)bl_config_int(cfg, "replication"), configs};
    }
    if (bl_kafka_admin_create_topics(admin, specs, n, 30000, &err) != 0 ||
        bl_kafka_admin_wait_visible(admin, (const char *const *)names, n, 30000, &err) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        printf("%s\n", names[i]);
    bl_log_info("topics ensured", BL_FI("topics", n));
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "busline topics ensure: %s\n", err.msg[0] ? err.msg : "out of memory");
    bl_kafka_admin_free(admin);
    free(specs);
    return rc;
}

int bl_cmd_topics(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("topics", topic_settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    bl_err err = {0};
    bl_catalog *cat = NULL;
    if (nargs != 1 || (strcmp(args[0], "ensure") != 0 && strcmp(args[0], "list") != 0)) {
        fprintf(stderr, "usage: busline topics ensure|list [flags]  (see --help)\n");
        code = 2;
        goto done;
    }
    cat = bl_catalog_load(bl_config_str(cfg, "schemas_dir"), &err);
    if (!cat) {
        fprintf(stderr, "busline topics: %s\n", err.msg);
        code = 1;
        goto done;
    }
    size_t n = 0;
    char **names = topic_names(cat, &n);
    if (!names) {
        fprintf(stderr, "busline topics: out of memory\n");
        code = 1;
        goto done;
    }
    if (strcmp(args[0], "list") == 0) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", names[i] ? names[i] : "");
    } else {
        code = ensure(cfg, names, n);
    }
    bl_kafka_topic_names_free(names, n);
done:
    bl_catalog_free(cat);
    bl_config_free(cfg);
    return code;
}
