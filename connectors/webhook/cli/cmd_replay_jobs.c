/* Replay job actions of `busline webhooks` (see cmd_replay_jobs.h). */
#include "connectors/webhook/cli/cmd_replay_jobs.h"

#include "connectors/webhook/store/replay_job_rows.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/time_format.h"

#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT 50

static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};

static const bl_setting job_settings[] = {
    {.name = "pg_url", .env = "BUSLINE_PG_URL", .flag = "pg-url", .type = BL_SETTING_URL,
     .required = true, .secret = true, .choices = pg_schemes, .help = "PostgreSQL URL"},
    {.name = "since", .flag = "since", .type = BL_SETTING_STRING,
     .help = "replay: the window's start, an RFC 3339 time or a duration ago (2h)"},
    {.name = "until", .flag = "until", .type = BL_SETTING_STRING,
     .help = "replay: the window's end (RFC 3339 or a duration ago); default now"},
    {.name = "endpoint", .flag = "endpoint", .type = BL_SETTING_STRING,
     .help = "replay: to this endpoint only; default every active endpoint of --org"},
    {.name = "org", .flag = "org", .type = BL_SETTING_STRING, .help = "organization id"},
    {0},
};

typedef struct job_action {
    const char *name;
    int (*fn)(bl_config *cfg, bl_pg_pool *pool, const char *id);
    int id; /* 0: none, 1: required, 2: optional */
    const char *help;
} job_action;

/* text (RFC 3339, or a duration before now) into *ms. Returns 0 or -1. */
static int parse_when(const char *text, int64_t now_ms, int64_t *ms)
{
    int64_t ago = 0;
    if (bl_rfc3339_parse_millis(text, ms) == 0)
        return 0;
    if (bl_config_parse_duration(text, &ago) == 0 && ago >= 0) {
        *ms = now_ms - ago;
        return 0;
    }
    return -1;
}

static void print_time(const char *label, int64_t ms)
{
    char text[40] = "-";
    if (ms > 0)
        bl_rfc3339_format_millis(ms, text, sizeof text);
    printf("%s: %s\n", label, text);
}

static void print_job(const bl_replay_job *j)
{
    printf("id: %s\nstatus: %s\norganization: %s\nendpoint: %s\n", j->id, j->status, j->organization_id,
           j->endpoint_id[0] ? j->endpoint_id : "(every active endpoint)");
    print_time("since", j->since_ms);
    print_time("until", j->until_ms);
    printf("events scanned: %ld\nevents matched: %ld\ndeliveries enqueued: %ld\nevents skipped: %ld\n",
           j->counts.scanned, j->counts.matched, j->counts.enqueued, j->counts.skipped);
    print_time("created", j->requested_ms);
    print_time("started", j->started_ms);
    print_time("finished", j->finished_ms);
    printf("attempts: %d\n", j->attempts);
    if (j->error[0])
        printf("error: %s\n", j->error);
}

static int act_replay(bl_config *cfg, bl_pg_pool *pool, const char *id)
{
    (void)id;
    const char *since = bl_config_str(cfg, "since"), *until = bl_config_str(cfg, "until");
    const char *endpoint = bl_config_str(cfg, "endpoint"), *org = bl_config_str(cfg, "org");
    int64_t now = bl_clock_wall_ms(), since_ms = 0, until_ms = 0;
    if (!since || parse_when(since, now, &since_ms) != 0 || (until && parse_when(until, now, &until_ms) != 0)) {
        fprintf(stderr, "busline webhooks replay: --since (required) and --until are RFC 3339 times or "
                        "durations ago (2h)\n");
        return 2;
    }
    if ((!endpoint || !*endpoint) && (!org || !*org)) {
        fprintf(stderr, "busline webhooks replay: --endpoint ID, or --org O for every endpoint of it\n");
        return 2;
    }
    bl_err err = {0};
    bl_webhook_store_opts so = {.pool = pool};
    bl_webhook_store *store = bl_webhook_store_new(&so, &err);
    bl_replay_job j;
    int rc = store ? bl_replay_job_request(pool, store, org && *org ? org : NULL,
                                           endpoint && *endpoint ? endpoint : NULL, since_ms, until_ms, now, "cli",
                                           &j, &err)
                   : -1;
    bl_webhook_store_free(store);
    if (rc != 0) {
        fprintf(stderr, "busline webhooks replay: %s\n", err.msg);
        return err.code == BL_EINVAL ? 2 : 1;
    }
    printf("replay job %s queued (the webhook fan-out carries it out; busline webhooks replay-status %s)\n", j.id,
           j.id);
    return 0;
}

static int act_status(bl_config *cfg, bl_pg_pool *pool, const char *id)
{
    bl_err err = {0};
    const char *org = bl_config_str(cfg, "org");
    org = org && *org ? org : NULL;
    if (id) {
        bl_replay_job j;
        int got = bl_replay_job_get(pool, org, id, &j, &err);
        if (got <= 0) {
            fprintf(stderr, "busline webhooks replay-status: %s\n", got < 0 ? err.msg : "no such replay job");
            return 1;
        }
        print_job(&j);
        return 0;
    }
    bl_replay_job *jobs = NULL;
    size_t n = 0;
    long total = 0;
    if (bl_replay_job_list(pool, org, LIST_LIMIT, 0, &jobs, &n, &total, &err) != 0) {
        fprintf(stderr, "busline webhooks replay-status: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const bl_replay_job *j = &jobs[i];
        char since[40], until[40];
        bl_rfc3339_format_millis(j->since_ms, since, sizeof since);
        bl_rfc3339_format_millis(j->until_ms, until, sizeof until);
        printf("%s\t%s\t%s\t%s\t%s..%s\tscanned=%ld matched=%ld enqueued=%ld\n", j->id, j->status,
               j->organization_id, j->endpoint_id[0] ? j->endpoint_id : "*", since, until, j->counts.scanned,
               j->counts.matched, j->counts.enqueued);
    }
    if (total > (long)n)
        printf("(%ld more)\n", total - (long)n);
    free(jobs);
    return 0;
}

static int act_cancel(bl_config *cfg, bl_pg_pool *pool, const char *id)
{
    bl_err err = {0};
    const char *org = bl_config_str(cfg, "org");
    bl_replay_job j;
    int got = bl_replay_job_cancel(pool, org && *org ? org : NULL, id, &j, &err);
    if (got <= 0) {
        fprintf(stderr, "busline webhooks replay-cancel: %s\n", got < 0 ? err.msg : "no such replay job");
        return 1;
    }
    printf("cancelled replay job %s (%ld deliveries enqueued before)\n", j.id, j.counts.enqueued);
    return 0;
}

static const job_action actions[] = {
    {"replay", act_replay, 0, "--since T [--until T] (--endpoint ID | --org O): queue a replay of that window"},
    {"replay-status", act_status, 2, "[ID] [--org O]: a replay job's progress, or the latest jobs"},
    {"replay-cancel", act_cancel, 1, "ID: stop a queued or running replay job"},
    {NULL, NULL, 0, NULL},
};

static const job_action *find(const char *name)
{
    for (const job_action *a = actions; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

bool bl_cmd_replay_jobs_knows(const char *name)
{
    return find(name) != NULL;
}

void bl_cmd_replay_jobs_usage(FILE *out)
{
    for (const job_action *a = actions; a->name; a++)
        fprintf(out, "  %s\n  %-10s  %s\n", a->name, "", a->help);
}

int bl_cmd_replay_jobs(const char *name, int argc, char **argv)
{
    const job_action *a = find(name);
    if (!a)
        return 2;
    bl_err err = {0};
    bl_config *cfg = bl_config_new();
    bl_pg_pool *pool = NULL;
    int code = 2, nargs = 0;
    if (!cfg)
        return 1;
    int rc = bl_config_add(cfg, job_settings, &err);
    if (rc == 0)
        rc = bl_config_load(cfg, argc, argv, &err);
    if (rc == BL_CONFIG_HELP) {
        code = 0;
        goto done;
    }
    char *const *args = rc == 0 ? bl_config_args(cfg, &nargs) : NULL;
    if (rc != 0 || nargs > (a->id ? 1 : 0) || (a->id == 1 && nargs != 1)) {
        fprintf(stderr, "%s: %s\n", argv[0], rc != 0 ? err.msg : a->id ? "expected one job id" : "unexpected argument");
        goto done;
    }
    if (!(pool = bl_pg_pool_new(bl_config_str(cfg, "pg_url"), 1, &err))) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        code = 1;
        goto done;
    }
    code = a->fn(cfg, pool, nargs ? args[0] : NULL);
done:
    bl_pg_pool_free(pool);
    bl_config_free(cfg);
    return code;
}
