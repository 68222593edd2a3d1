/* busline dlq list|replay CONNECTOR [--since T] [--until T] [--endpoint E]:
 * a connector's dead letters with why they were given up, and their replay
 * to the topic they were first read from (consumers/dlq.h). */
#include "cli/commands.h"
#include "consumers/dlq.h"
#include "core/role.h"
#include "core/time_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const bl_setting dlq_settings[] = {
    {.name = "since", .flag = "since", .type = BL_SETTING_STRING,
     .help = "only dead letters from this RFC 3339 time on"},
    {.name = "until", .flag = "until", .type = BL_SETTING_STRING, .help = "only dead letters up to this RFC 3339 time"},
    {.name = "endpoint", .flag = "endpoint", .type = BL_SETTING_STRING,
     .help = "only this message key (a webhook endpoint id)"},
    {.name = "timeout", .flag = "timeout", .type = BL_SETTING_DURATION, .def = "60s", .min = 100,
     .max = 3600000, .help = "longest the scan may take"},
    {0},
};

static const char usage[] = "usage: busline dlq list|replay CONNECTOR [--since RFC3339] [--until RFC3339] "
                            "[--endpoint ID]\n";

static void print_ms(int64_t ms)
{
    char at[40] = "-";
    if (ms > 0)
        bl_rfc3339_format_millis(ms, at, sizeof at);
    printf("%s", at);
}

static void print_entry(const bl_dlq_entry *e, void *user)
{
    (void)user;
    const void *id = NULL;
    size_t id_len = 0;
    if (bl_kafka_msg_header(e->msg, "ce_id", &id, &id_len) != 0)
        id_len = 0;
    printf("%s[%d]@%" PRId64 "  ", bl_kafka_msg_topic(e->msg), (int)bl_kafka_msg_partition(e->msg),
           bl_kafka_msg_offset(e->msg));
    print_ms(bl_kafka_msg_timestamp(e->msg));
    printf("  key=%s id=%.*s", e->key, (int)id_len, id ? (const char *)id : "");
    if (!e->headers) {
        printf("  (busline-* headers missing or bad)\n");
        return;
    }
    printf("  attempts=%d first_failure=", e->headers->attempt);
    print_ms(e->headers->first_failure_at_ms);
    printf("  from=%s[%d]@%" PRId64 "  error=%s\n", e->headers->original_topic, (int)e->headers->original_partition,
           e->headers->original_offset, e->headers->error);
}

static int parse_time(const bl_config *cfg, const char *name, int64_t *ms)
{
    const char *text = bl_config_str(cfg, name);
    *ms = 0;
    if (!text || !*text)
        return 0;
    if (bl_rfc3339_parse_millis(text, ms) != 0) {
        fprintf(stderr, "busline dlq: --%s: not an RFC 3339 time: %s\n", name, text);
        return -1;
    }
    return 0;
}

int bl_cmd_dlq(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("dlq", dlq_settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    bl_err err = {0};
    bl_dlq_opts o = {.brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
                     .key = bl_config_str(cfg, "endpoint"),
                     .timeout_ms = (int)bl_config_duration_ms(cfg, "timeout")};
    code = 2;
    if (nargs != 2 || (strcmp(args[0], "list") != 0 && strcmp(args[0], "replay") != 0)) {
        fprintf(stderr, "%s", usage);
        goto done;
    }
    if (parse_time(cfg, "since", &o.since_ms) != 0 || parse_time(cfg, "until", &o.until_ms) != 0)
        goto done;
    o.connector = args[1];
    code = 1;
    if (strcmp(args[0], "list") == 0) {
        long n = bl_dlq_list(&o, print_entry, NULL, &err);
        if (n >= 0) {
            printf("%ld dead letters\n", n);
            code = 0;
        }
    } else {
        size_t skipped = 0;
        long n = bl_dlq_replay(&o, &skipped, &err);
        if (n >= 0) {
            printf("replayed %ld dead letters (%zu skipped: no origin headers)\n", n, skipped);
            code = 0;
        }
    }
    if (code != 0)
        fprintf(stderr, "busline dlq %s: %s\n", args[0], err.msg);
done:
    bl_config_free(cfg);
    return code;
}
