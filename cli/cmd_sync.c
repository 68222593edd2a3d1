/* busline sync: the calendar sync worker (connectors/calendar_sync/worker.h),
 * and beside it, on the attendance events, the Zoom meetings with their
 * attendance pull (connectors/zoom/auto_meetings.h, attendance_pull.h) and
 * the Slack notices (connectors/slack/notices.h), each its own group, and
 * the Slack weekly reports' timer (connectors/slack/weekly_report.h).
 * Executes the runs the API queues and the autoSync timers make, against
 * the calendars through the OAuth token store, sending what the calendars
 * changed to commands.attendance. `--once` does one pass and exits (cron,
 * tests); otherwise it runs until SIGTERM, handing a run in progress back
 * to the queue. */
#include "cli/commands.h"
#include "connectors/calendar_sync/push.h"
#include "connectors/calendar_sync/worker.h"
#include "connectors/slack/notices.h"
#include "connectors/slack/weekly_report.h"
#include "connectors/zoom/attendance_pull.h"
#include "connectors/zoom/auto_meetings.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/ops_server.h"
#include "core/role.h"
#include "core/signals.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const bl_setting sync_settings[] = {
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url", .type = BL_SETTING_URL,
     .def = "http://127.0.0.1:8081", .help = "schema registry for the attendance commands"},
    {.name = "vendor_base_url", .env = "BUSLINE_SYNC_GOOGLE_BASE_URL", .flag = "google-base-url",
     .type = BL_SETTING_STRING, .def = "", .help = "Google Calendar API base (default Google's; tests: a fake)"},
    {.name = "graph_base_url", .env = "BUSLINE_SYNC_GRAPH_BASE_URL", .flag = "graph-base-url",
     .type = BL_SETTING_STRING, .def = "", .help = "Microsoft Graph base (default graph.microsoft.com/v1.0; tests: a fake)"},
    {.name = "worker_id", .env = "BUSLINE_SYNC_WORKER_ID", .flag = "worker-id", .type = BL_SETTING_STRING,
     .def = "", .help = "name this worker claims runs under (default host:pid)"},
    {.name = "stale_after", .env = "BUSLINE_SYNC_STALE_AFTER", .flag = "stale-after", .type = BL_SETTING_DURATION,
     .def = "30s", .min = 1000, .max = 86400000, .help = "take over a run whose worker has not beaten for this long"},
    {.name = "heartbeat", .env = "BUSLINE_SYNC_HEARTBEAT", .flag = "heartbeat", .type = BL_SETTING_DURATION,
     .def = "5s", .min = 100, .max = 3600000, .help = "how often a running run beats"},
    {.name = "idle", .env = "BUSLINE_SYNC_IDLE", .flag = "idle", .type = BL_SETTING_DURATION, .def = "1s",
     .min = 10, .max = 600000, .help = "sleep when nothing is due"},
    {.name = "page_size", .env = "BUSLINE_SYNC_PAGE_SIZE", .flag = "page-size", .type = BL_SETTING_INT, .def = "40",
     .min = 1, .max = 250, .help = "calendar items asked per page"},
    {.name = "max_wait", .env = "BUSLINE_SYNC_MAX_WAIT", .flag = "max-wait", .type = BL_SETTING_DURATION,
     .def = "30s", .min = 0, .max = 600000, .help = "longest wait on one rate-limit answer"},
    {.name = "commands_topic", .env = "BUSLINE_SYNC_COMMANDS_TOPIC", .flag = "commands-topic",
     .type = BL_SETTING_STRING, .def = "commands.attendance", .help = "where the attendance commands go"},
    {.name = "events_topic", .env = "BUSLINE_SYNC_EVENTS_TOPIC", .flag = "events-topic", .type = BL_SETTING_STRING,
     .def = "events.attendance.event", .help = "the attendance events pushed to the calendars between runs"},
    {.name = "group", .env = "BUSLINE_SYNC_GROUP", .flag = "group", .type = BL_SETTING_STRING,
     .def = "busline-sync", .help = "consumer group of the events"},
    {.name = "zoom_base_url", .env = "BUSLINE_SYNC_ZOOM_BASE_URL", .flag = "zoom-base-url",
     .type = BL_SETTING_STRING, .def = "", .help = "Zoom API v2 base (default api.zoom.us/v2; tests: a fake)"},
    {.name = "slack_base_url", .env = "BUSLINE_SYNC_SLACK_BASE_URL", .flag = "slack-base-url",
     .type = BL_SETTING_STRING, .def = "", .help = "Slack Web API base (default slack.com/api; tests: a fake)"},
    {.name = "webhook_allow", .env = "BUSLINE_WEBHOOK_ALLOW", .flag = "webhook-allow", .type = BL_SETTING_STRING,
     .def = "", .help = "private CIDRs a Slack settings.webhookUrl may reach (default: public addresses only)"},
    {.name = "once", .flag = "once", .type = BL_SETTING_BOOL, .def = "false",
     .help = "one pass (schedule, execute what is queued), then exit"},
    {0},
};

static int stop_requested(void)
{
    return bl_signals_stop_requested();
}

/* One consumer of the attendance events beside the runs (the calendar
 * push, the Zoom meetings with their attendance timer, the Slack notices). */
typedef struct event_loop {
    bl_calsync_pusher *pusher;
    const bl_zoom_meetings *zoom; /* non-NULL: also pull the attendance due */
    const bl_slack_notices *slack; /* non-NULL: also make the weekly reports due */
    const char *worker;
    const char *what;
    pthread_t thread;
    int started;
} event_loop;

/* The event-driven work beside the runs, until stopped. */
static void *push_loop(void *arg)
{
    event_loop *l = arg;
    while (!bl_signals_stop_requested()) {
        bl_err err = {0};
        if (bl_calsync_pusher_poll(l->pusher, 500, &err) < 0)
            bl_log_warn("sync: attendance events failed", BL_FS("consumer", l->what), BL_FS("error", err.msg));
        if (l->zoom && bl_zoom_attendance_pull_due(l->zoom, 10, NULL, &err) < 0)
            bl_log_warn("sync: zoom attendance pull failed", BL_FS("error", err.msg));
        if (l->slack && bl_slack_weekly_reports_due(l->slack, l->worker, 10, NULL, &err) < 0)
            bl_log_warn("sync: slack weekly reports failed", BL_FS("error", err.msg));
    }
    return NULL;
}

/* The Zoom meetings' dependencies (borrowed). */
static bl_zoom_meetings zoom_meetings_of(const bl_config *cfg, bl_pg_pool *pool, bl_oauth_store *store,
                                         bl_domain_codec *codec, bl_kafka_producer *producer)
{
    return (bl_zoom_meetings){.pool = pool, .store = store,
                              .sender = {.codec = codec, .producer = producer, .timeout_ms = 10000,
                                         .actor = "zoom-meetings"},
                              .base_url = bl_config_str(cfg, "zoom_base_url"),
                              .max_wait_ms = (int)bl_config_duration_ms(cfg, "max_wait")};
}

/* The Slack notices' dependencies (borrowed). */
static bl_slack_notices slack_notices_of(const bl_config *cfg, bl_pg_pool *pool, bl_oauth_store *store,
                                         const bl_ssrf_allowlist *allow)
{
    return (bl_slack_notices){.pool = pool, .store = store, .base_url = bl_config_str(cfg, "slack_base_url"),
                              .max_wait_ms = (int)bl_config_duration_ms(cfg, "max_wait"), .allow = allow};
}

int bl_cmd_sync(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("sync", sync_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    bl_pg_pool *pool = NULL;
    bl_keyring *kr = NULL;
    bl_oauth_store *store = NULL;
    bl_domain_codec *codec = NULL;
    bl_kafka_producer *producer = NULL;
    code = 2;
    char worker[128];
    const char *given = bl_config_str(cfg, "worker_id");
    if (given && *given) {
        snprintf(worker, sizeof worker, "%s", given);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        snprintf(worker, sizeof worker, "%s:%d", host, (int)getpid());
    }
    bl_ssrf_allowlist allow;
    if (bl_ssrf_allowlist_parse(bl_config_str(cfg, "webhook_allow"), &allow, &err) != 0) {
        fprintf(stderr, "busline sync: --webhook-allow: %s\n", err.msg);
        goto done;
    }
    bl_oauth_config oc = {0};
    bl_oauth_config_from_env(&oc);
    bl_domain_codec_opts co = {.domain = "attendance", .registry_url = bl_config_str(cfg, "registry_url"),
                               .commands_topic = bl_config_str(cfg, "commands_topic")};
    if (bl_signals_install(&err) != 0 ||
        !(pool = bl_pg_pool_new(bl_config_str(cfg, BL_CFG_PG_URL), 8, &err)) || !(kr = bl_keyring_from_env(&err)) ||
        !(store = bl_oauth_store_new(pool, kr, &oc, &err)) || !(codec = bl_domain_codec_new(&co, &err)) ||
        !(producer = bl_kafka_producer_new(bl_config_str(cfg, BL_CFG_KAFKA_BROKERS), NULL, NULL, NULL, &err))) {
        fprintf(stderr, "busline sync: %s\n", err.msg);
        goto done;
    }
    bl_calsync_worker_opts o = {
        .deps = {.pool = pool, .store = store,
                 .sender = {.codec = codec, .producer = producer, .timeout_ms = 10000},
                 .worker_id = worker, .google_base_url = bl_config_str(cfg, "vendor_base_url"),
                 .graph_base_url = bl_config_str(cfg, "graph_base_url"),
                 .page_size = (int)bl_config_int(cfg, "page_size"),
                 .max_wait_ms = (int)bl_config_duration_ms(cfg, "max_wait"),
                 .heartbeat_ms = (int)bl_config_duration_ms(cfg, "heartbeat"), .stop = stop_requested},
        .stale_ms = (int)bl_config_duration_ms(cfg, "stale_after"),
        .idle_ms = (int)bl_config_duration_ms(cfg, "idle")};
    bl_log_info("sync: started", BL_FS("worker", worker));
    if (bl_config_bool(cfg, "once")) {
        int n = bl_calsync_worker_step(&o, &err);
        if (n < 0) {
            fprintf(stderr, "busline sync: %s\n", err.msg);
            code = 1;
            goto done;
        }
        printf("%d run(s) executed\n", n);
        bl_zoom_meetings zm = zoom_meetings_of(cfg, pool, store, codec, producer);
        int pulled = bl_zoom_attendance_pull_due(&zm, 100, NULL, &err);
        if (pulled < 0) {
            fprintf(stderr, "busline sync: zoom attendance: %s\n", err.msg);
            code = 1;
            goto done;
        }
        printf("%d zoom attendance report(s) pulled\n", pulled);
        bl_slack_notices sn = slack_notices_of(cfg, pool, store, &allow);
        int posted = 0;
        if (bl_slack_weekly_reports_due(&sn, worker, 100, &posted, &err) < 0) {
            fprintf(stderr, "busline sync: slack weekly reports: %s\n", err.msg);
            code = 1;
            goto done;
        }
        printf("%d slack weekly report(s) posted\n", posted);
    } else {
        /* /healthz and /readyz for Kubernetes; the worker has no metrics of its own yet */
        bl_ops_server *ops =
            bl_ops_server_start(NULL, (unsigned short)bl_config_int(cfg, BL_CFG_METRICS_PORT), NULL, NULL, NULL, &err);
        if (!ops) {
            fprintf(stderr, "busline sync: ops server: %s\n", err.msg);
            goto done;
        }
        bl_zoom_meetings zm = zoom_meetings_of(cfg, pool, store, codec, producer);
        bl_slack_notices sn = slack_notices_of(cfg, pool, store, &allow);
        char zoom_group[160], slack_group[160];
        snprintf(zoom_group, sizeof zoom_group, "%s-zoom-meetings", bl_config_str(cfg, "group"));
        snprintf(slack_group, sizeof slack_group, "%s-slack-notices", bl_config_str(cfg, "group"));
        struct {
            const char *group;
            bl_attendance_event_fn fn;
            void *arg;
        } consumers[] = {{bl_config_str(cfg, "group"), NULL, NULL},
                         {zoom_group, bl_zoom_meetings_on_event, &zm},
                         {slack_group, bl_slack_notices_on_event, &sn}};
        event_loop loops[3] = {{.what = "calendar push"}, {.what = "zoom meetings", .zoom = &zm},
                               {.what = "slack notices", .slack = &sn, .worker = worker}};
        int failed = 0;
        for (size_t i = 0; i < 3 && !failed; i++) {
            bl_calsync_pusher_opts po = {.deps = o.deps, .brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
                                         .group = consumers[i].group, .topic = bl_config_str(cfg, "events_topic"),
                                         .registry_url = bl_config_str(cfg, "registry_url"),
                                         .on_event = consumers[i].fn, .on_event_arg = consumers[i].arg};
            loops[i].pusher = bl_calsync_pusher_new(&po, &err);
            loops[i].started = loops[i].pusher && pthread_create(&loops[i].thread, NULL, push_loop, &loops[i]) == 0;
            if (!loops[i].started) {
                fprintf(stderr, "busline sync: %s: %s\n", loops[i].what, loops[i].pusher ? "no thread" : err.msg);
                failed = 1;
            }
        }
        int rc = failed ? 0 : bl_calsync_worker_run(&o, &err);
        if (failed)
            bl_signals_request_stop();
        for (size_t i = 0; i < 3; i++) {
            if (loops[i].started)
                pthread_join(loops[i].thread, NULL);
            bl_calsync_pusher_free(loops[i].pusher);
        }
        bl_ops_server_free(ops);
        if (failed)
            goto done;
        if (rc != 0) {
            fprintf(stderr, "busline sync: %s\n", err.msg);
            code = 1;
            goto done;
        }
    }
    code = 0;
done:
    if (producer)
        bl_kafka_producer_free(producer, 5000);
    bl_domain_codec_free(codec);
    bl_oauth_store_free(store);
    bl_keyring_free(kr);
    bl_pg_pool_free(pool);
    bl_config_free(cfg);
    return code;
}
