/* busline groups [show GROUP] | reset GROUP --to-...: the operator's view of
 * busline's consumer groups (members, lag, age of the oldest unprocessed
 * message) as a table, JSON or Prometheus text, and offset resets for replay. */
#include "cli/commands.h"
#include "consumers/group_admin.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/role.h"
#include "core/time_format.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const bl_setting group_settings[] = {
    {.name = "prefix", .env = "BUSLINE_GROUP_PREFIX", .flag = "prefix", .type = BL_SETTING_STRING,
     .def = "busline-", .help = "list the groups whose id starts with this"},
    {.name = "all", .flag = "all", .type = BL_SETTING_BOOL, .def = "false", .help = "list every group (no prefix)"},
    {.name = "json", .flag = "json", .type = BL_SETTING_BOOL, .def = "false", .help = "print JSON"},
    {.name = "prometheus", .flag = "prometheus", .type = BL_SETTING_BOOL, .def = "false",
     .help = "print Prometheus text (busline_consumer_group_lag{group,topic,partition})"},
    {.name = "to_earliest", .flag = "to-earliest", .type = BL_SETTING_BOOL, .def = "false",
     .help = "reset: to the first retained message"},
    {.name = "to_latest", .flag = "to-latest", .type = BL_SETTING_BOOL, .def = "false",
     .help = "reset: to the end (skip everything unprocessed)"},
    {.name = "to_time", .flag = "to-time", .type = BL_SETTING_STRING,
     .help = "reset: to the first message at or after this RFC 3339 time (e.g. 2024-05-01T12:00:00Z)"},
    {.name = "topic", .flag = "topic", .type = BL_SETTING_STRING, .help = "reset: only this topic"},
    {.name = "dry_run", .flag = "dry-run", .type = BL_SETTING_BOOL, .def = "false",
     .help = "reset: print the plan, commit nothing"},
    {.name = "timeout", .flag = "timeout", .type = BL_SETTING_DURATION, .def = "10s", .min = 100,
     .max = 600000, .help = "deadline of each broker request"},
    {0},
};

static const char usage[] = "usage: busline groups [show GROUP] [--all|--prefix P] [--json|--prometheus]\n"
                            "       busline groups reset GROUP --to-earliest|--to-latest|--to-time RFC3339 "
                            "[--topic T] [--dry-run]\n";

static double age_seconds(int64_t ts_ms, int64_t now)
{
    return ts_ms < 0 ? -1.0 : (double)(now > ts_ms ? now - ts_ms : 0) / 1000.0;
}

static void print_offset(int64_t v, int width)
{
    if (v < 0)
        printf(" %*s", width, "-");
    else
        printf(" %*lld", width, (long long)v);
}

static void print_table(const bl_group_report *r)
{
    int64_t now = bl_clock_wall_ms();
    if (r->n == 0)
        printf("no consumer groups\n");
    for (size_t i = 0; i < r->n; i++) {
        const bl_group_info *g = &r->groups[i];
        printf("%sgroup %s  state %s  members %zu\n", i ? "\n" : "", g->group_id, g->state, g->n_members);
        for (size_t m = 0; m < g->n_members; m++)
            printf("  member %s  host %s  partitions %zu\n", g->members[m].client_id, g->members[m].host,
                   g->members[m].assigned);
        if (g->n_parts == 0)
            continue;
        printf("  %-40s %9s %12s %12s %10s %12s\n", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG",
               "OLDEST_AGE_S");
        for (size_t p = 0; p < g->n_parts; p++) {
            const bl_group_partition *gp = &g->parts[p];
            printf("  %-40s %9d", gp->topic, (int)gp->partition);
            print_offset(gp->committed, 12);
            print_offset(gp->end, 12);
            print_offset(gp->lag, 10);
            if (gp->oldest_ts_ms < 0)
                printf(" %12s\n", "-");
            else
                printf(" %12.1f\n", age_seconds(gp->oldest_ts_ms, now));
        }
    }
}

static json_t *offset_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static int print_json(const bl_group_report *r)
{
    int64_t now = bl_clock_wall_ms();
    json_t *groups = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const bl_group_info *g = &r->groups[i];
        json_t *members = json_array(), *parts = json_array();
        for (size_t m = 0; m < g->n_members; m++)
            json_array_append_new(members, json_pack("{s:s, s:s, s:I}", "client_id", g->members[m].client_id,
                                                     "host", g->members[m].host, "partitions",
                                                     (json_int_t)g->members[m].assigned));
        for (size_t p = 0; p < g->n_parts; p++) {
            const bl_group_partition *gp = &g->parts[p];
            double age = age_seconds(gp->oldest_ts_ms, now);
            json_array_append_new(
                parts, json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "topic", gp->topic, "partition",
                                 (int)gp->partition, "committed", offset_json(gp->committed), "end",
                                 offset_json(gp->end), "lag", offset_json(gp->lag), "oldest_timestamp_ms",
                                 offset_json(gp->oldest_ts_ms), "oldest_age_seconds",
                                 age < 0 ? json_null() : json_real(age)));
        }
        json_array_append_new(groups, json_pack("{s:s, s:s, s:o, s:o}", "group", g->group_id, "state", g->state,
                                                "members", members, "partitions", parts));
    }
    json_t *doc = json_pack("{s:o}", "groups", groups);
    int rc = doc ? json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : -1;
    if (rc == 0)
        printf("\n");
    json_decref(doc);
    return rc == 0 ? 0 : 1;
}

/* Label values here are group and topic names: Kafka allows only
 * [a-zA-Z0-9._-] in topics, but group ids are free text, so escape. */
static void print_label(const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            printf("\\%c", *v);
        else if (*v == '\n')
            printf("\\n");
        else
            putchar(*v);
    }
}

static void print_series(const char *metric, const bl_group_info *g, const bl_group_partition *gp)
{
    printf("%s{group=\"", metric);
    print_label(g->group_id);
    printf("\",topic=\"");
    print_label(gp->topic);
    printf("\",partition=\"%d\"} ", (int)gp->partition);
}

/* One gauge per partition with a known lag; value picks what it shows. */
static void print_gauge(const bl_group_report *r, const char *metric, const char *help, int age)
{
    int64_t now = bl_clock_wall_ms();
    printf("# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
    for (size_t i = 0; i < r->n; i++) {
        for (size_t p = 0; p < r->groups[i].n_parts; p++) {
            const bl_group_partition *gp = &r->groups[i].parts[p];
            if (gp->lag < 0)
                continue;
            print_series(metric, &r->groups[i], gp);
            if (age)
                printf("%.3f\n", gp->oldest_ts_ms < 0 ? 0.0 : age_seconds(gp->oldest_ts_ms, now));
            else
                printf("%lld\n", (long long)gp->lag);
        }
    }
}

static void print_prometheus(const bl_group_report *r)
{
    print_gauge(r, "busline_consumer_group_lag", "Messages produced but not yet committed by the group.", 0);
    print_gauge(r, "busline_consumer_group_oldest_unprocessed_age_seconds",
                "Age of the first message the group has not committed (0 when caught up).", 1);
}

static int run_report(const bl_config *cfg, bl_kafka_admin *a, const char *one)
{
    bl_err err = {0};
    const char *prefix = bl_config_bool(cfg, "all") ? NULL : bl_config_str(cfg, "prefix");
    bl_group_report *r = bl_group_report_new(a, prefix, one, (int)bl_config_duration_ms(cfg, "timeout"), &err);
    if (!r) {
        fprintf(stderr, "busline %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (bl_config_bool(cfg, "json"))
        rc = print_json(r);
    else if (bl_config_bool(cfg, "prometheus"))
        print_prometheus(r);
    else
        print_table(r);
    bl_group_report_free(r);
    return rc;
}

static void print_plan(const bl_group_reset_plan *plan, int dry_run)
{
    printf("%s group %s\n", dry_run ? "plan (dry run, nothing committed) for" : "reset", plan->group_id);
    printf("  %-40s %9s %12s %12s\n", "TOPIC", "PARTITION", "FROM", "TO");
    for (size_t i = 0; i < plan->n; i++) {
        printf("  %-40s %9d", plan->moves[i].topic, (int)plan->moves[i].partition);
        print_offset(plan->moves[i].from, 12);
        print_offset(plan->moves[i].to, 12);
        printf("\n");
    }
}

static int run_reset(const bl_config *cfg, bl_kafka_admin *a, const char *group)
{
    bl_err err = {0};
    const char *to_time = bl_config_str(cfg, "to_time");
    int chosen = bl_config_bool(cfg, "to_earliest") + bl_config_bool(cfg, "to_latest") + (to_time != NULL);
    if (chosen != 1) {
        fprintf(stderr, "busline groups reset: give exactly one of --to-earliest, --to-latest, --to-time\n%s",
                usage);
        return 2;
    }
    bl_group_reset_to to = bl_config_bool(cfg, "to_earliest") ? BL_GROUP_RESET_EARLIEST
                           : bl_config_bool(cfg, "to_latest") ? BL_GROUP_RESET_LATEST
                                                              : BL_GROUP_RESET_TIME;
    int64_t time_ms = 0;
    if (to_time && bl_rfc3339_parse_millis(to_time, &time_ms) != 0) {
        fprintf(stderr, "busline groups reset: --to-time '%s': not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)\n",
                to_time);
        return 2;
    }
    int timeout_ms = (int)bl_config_duration_ms(cfg, "timeout");
    bl_group_reset_plan *plan =
        bl_group_reset_plan_new(a, group, bl_config_str(cfg, "topic"), to, time_ms, timeout_ms, &err);
    if (!plan) {
        fprintf(stderr, "busline %s\n", err.msg);
        return 1;
    }
    int dry_run = bl_config_bool(cfg, "dry_run");
    int rc = 0;
    if (!dry_run && bl_group_reset_apply(a, plan, timeout_ms, &err) != 0) {
        fprintf(stderr, "busline %s\n", err.msg);
        rc = 1;
    } else {
        print_plan(plan, dry_run);
        if (!dry_run)
            bl_log_info("group offsets reset", BL_FS("group", group), BL_FI("partitions", (long long)plan->n));
    }
    bl_group_reset_plan_free(plan);
    return rc;
}

int bl_cmd_groups(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("groups", group_settings, argc, argv, &code);
    if (!cfg)
        return code;
    int nargs = 0;
    char *const *args = bl_config_args(cfg, &nargs);
    bl_err err = {0};
    bl_kafka_admin *a = NULL;
    int is_reset = nargs == 2 && strcmp(args[0], "reset") == 0;
    int is_show = nargs == 2 && strcmp(args[0], "show") == 0;
    if (!(nargs == 0 || (nargs == 1 && strcmp(args[0], "list") == 0) || is_reset || is_show)) {
        fprintf(stderr, "%s", usage);
        code = 2;
        goto done;
    }
    a = bl_kafka_admin_new(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), NULL, &err);
    if (!a) {
        fprintf(stderr, "busline groups: %s\n", err.msg);
        code = 1;
        goto done;
    }
    code = is_reset ? run_reset(cfg, a, args[1]) : run_report(cfg, a, is_show ? args[1] : NULL);
done:
    bl_kafka_admin_free(a);
    bl_config_free(cfg);
    return code;
}
