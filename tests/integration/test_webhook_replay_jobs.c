/* Replay jobs of a window (workers/replay_jobs.h) against the real broker:
 * a job to every endpoint of an organization redelivers only the events
 * inside [since, until], to that organization's endpoints as their
 * conditions take them, with the right counts; a cancel stops a running job
 * at its next checkpoint; a worker that dies after enqueuing past its last
 * checkpoint, and one that is stopped, leave a job that the next worker
 * resumes without enqueuing any event twice; the CLI queues, shows and
 * cancels a job and refuses a bad window. */
#include "connectors/webhook/workers/delivery.h"
#include "connectors/webhook/workers/replay_jobs.h"
#include "consumers/topic_scan.h"
#include "core/clock.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORG "org-w"

static void keep_only(bl_webhook_spec *spec, void *user)
{
    (void)user;
    static json_t *conditions;
    if (!conditions)
        conditions = json_pack("[{s:s, s:s, s:s}]", "field", "data.reason", "operator", "contains", "value", "keep");
    spec->conditions = conditions;
}

static uint64_t fanout_events(wh_e2e *e)
{
    bl_webhook_fanout_stats st;
    bl_webhook_fanout_stats_get(e->fanout, &st);
    return st.events;
}

/* Waits until the fan-out has read want events in all. */
static int wait_fanned_out(wh_e2e *e, uint64_t want)
{
    for (int i = 0; i < 600 && fanout_events(e) < want; i++)
        usleep(50 * 1000);
    return fanout_events(e) == want ? 0 : -1;
}

/* A wall-clock instant strictly between what was published and what comes next. */
static int64_t instant(void)
{
    usleep(20 * 1000);
    int64_t t = bl_clock_wall_ms();
    usleep(20 * 1000);
    return t;
}

typedef struct path_want {
    const char *path;
    size_t n;
} path_want;

static int got_path(webhook_sink *s, void *user)
{
    path_want *w = user;
    sink_hit hits[64];
    return webhook_sink_hits_to(s, w->path, hits, 64) >= w->n;
}

/* Waits for want hits to path, then checks: exactly want, distinct ids,
 * each body holding must (may be NULL). */
static void check_hits(webhook_sink *sink, const char *path, size_t want, const char *must)
{
    path_want w = {path, want};
    if (want)
        CHECK(webhook_sink_wait(sink, got_path, &w, 30000));
    sink_hit hits[64];
    size_t n = webhook_sink_hits_to(sink, path, hits, 64);
    CHECK_EQ_INT((int)n, (int)want);
    for (size_t i = 0; i < n; i++) {
        if (must && !strstr(hits[i].body, must))
            fprintf(stderr, "  %s got %.300s\n", path, hits[i].body);
        if (must)
            CHECK(strstr(hits[i].body, must) != NULL);
        CHECK(strstr(hits[i].body, "\"organization_id\":\"" ORG "\"") != NULL);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(hits[i].id, hits[j].id) != 0);
    }
}

static bl_webhook_replay_jobs_opts jobs_opts(wh_e2e *e, const char *const *topics)
{
    return (bl_webhook_replay_jobs_opts){
        .pool = e->f.pool,
        .replay = {.brokers = bl_test_kafka_brokers(), .store = e->store, .schemas = e->schemas, .topics = topics,
                   .n_topics = 1, .deliveries_topic = e->deliveries},
    };
}

/* Stops the relay, so that enabling endpoints (webhook.enabled events)
 * publishes nothing more to the test's topic. */
static void stop_relay(wh_e2e *e)
{
    bl_relay_stop(e->relay);
    pthread_join(e->relay_t, NULL);
    e->relay_on = 0;
}

static void job_to_all_endpoints_redelivers_only_the_window(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    char *a = NULL, *b = NULL, *c = NULL;
    bl_err err = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url_a[128], url_b[128], url_c[128];
    webhook_sink_url(&sink, "/a", url_a, sizeof url_a);
    webhook_sink_url(&sink, "/b", url_b, sizeof url_b);
    webhook_sink_url(&sink, "/c", url_c, sizeof url_c);
    a = wh_e2e_endpoint(&e, ORG, url_a, "webhook.*", keep_only, NULL, NULL); /* takes "keep" events */
    b = wh_e2e_endpoint(&e, ORG, url_b, "webhook.*", NULL, NULL, NULL);      /* takes them all */
    c = wh_e2e_endpoint(&e, "org-x", url_c, "webhook.*", NULL, NULL, NULL);  /* another organization */
    REQUIRE(a && b && c);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(bl_webhook_store_disable(e.store, a, "off", &err) == 0);
    REQUIRE(bl_webhook_store_disable(e.store, b, "off", &err) == 0);
    REQUIRE(bl_webhook_store_disable(e.store, c, "off", &err) == 0);
    CHECK(wh_e2e_wait_cache(&e, 0) == 0);
    REQUIRE(wh_e2e_append(&e, ORG, "s", 3, "keep-before-") == 0);
    REQUIRE(wait_fanned_out(&e, 3 + 3 + 3) == 0); /* endpoint.created x3, webhook.disabled x3 */
    int64_t since_ms = instant();
    REQUIRE(wh_e2e_append(&e, ORG, "s", 4, "keep-in-") == 0);
    REQUIRE(wh_e2e_append(&e, ORG, "s", 2, "drop-in-") == 0);
    REQUIRE(wh_e2e_append(&e, "org-x", "s", 1, "keep-other-") == 0);
    REQUIRE(wait_fanned_out(&e, 3 + 3 + 3 + 7) == 0);
    int64_t until_ms = instant();
    REQUIRE(wh_e2e_append(&e, ORG, "s", 3, "keep-after-") == 0);
    REQUIRE(wait_fanned_out(&e, 3 + 3 + 3 + 7 + 3) == 0);
    stop_relay(&e);
    CHECK_EQ_INT((int)webhook_sink_count(&sink), 0);
    REQUIRE(bl_webhook_store_enable(e.store, a, &err) == 0);
    REQUIRE(bl_webhook_store_enable(e.store, b, &err) == 0);
    REQUIRE(bl_webhook_store_enable(e.store, c, &err) == 0);

    /* until later than now is stored as now; until before since is refused */
    bl_replay_job job;
    CHECK_EQ_INT(bl_replay_job_request(e.f.pool, e.store, ORG, NULL, until_ms, since_ms, bl_clock_wall_ms(), "test",
                                       &job, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strncmp(err.msg, "until:", 6) == 0);
    CHECK_EQ_INT(bl_replay_job_request(e.f.pool, e.store, "org-x", a, since_ms, until_ms, bl_clock_wall_ms(), "test",
                                       &job, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND); /* another organization's endpoint */
    REQUIRE(bl_replay_job_request(e.f.pool, e.store, ORG, NULL, since_ms, until_ms, bl_clock_wall_ms(), "test", &job,
                                  &err) == 0);
    CHECK_EQ_STR(job.status, "queued");
    CHECK(job.endpoint_id[0] == '\0');

    const char *topics[] = {e.events_topic};
    bl_webhook_replay_jobs_opts o = jobs_opts(&e, topics);
    CHECK_EQ_INT((int)bl_webhook_replay_jobs_run(&o, 0, &err), 1);
    check_hits(&sink, "/a", 4, "\"reason\":\"keep-in-");
    check_hits(&sink, "/b", 6, "-in-");
    check_hits(&sink, "/c", 0, NULL);
    bl_replay_job after;
    REQUIRE(bl_replay_job_get(e.f.pool, ORG, job.id, &after, &err) == 1);
    CHECK_EQ_STR(after.status, "completed");
    CHECK_EQ_INT((int)after.counts.scanned, 7); /* the window's events, the other organization's too */
    CHECK_EQ_INT((int)after.counts.matched, 6);
    CHECK_EQ_INT((int)after.counts.enqueued, 10); /* 4 to A, 6 to B */
    CHECK(after.finished_ms >= after.started_ms && after.started_ms > 0);
    CHECK_EQ_INT(after.attempts, 1);
    /* another organization sees no such job */
    CHECK_EQ_INT(bl_replay_job_get(e.f.pool, "org-x", job.id, &after, &err), 0);
done:
    free(a);
    free(b);
    free(c);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

/* Publishes n events of ORG (reason keep-<i>) in a window of their own to
 * endpoint *id at sink path; returns the job asked for. */
static int window_of(wh_e2e *e, webhook_sink *sink, const char *path, int n, char **id, bl_replay_job *job)
{
    bl_err err = {0};
    char url[128];
    webhook_sink_url(sink, path, url, sizeof url);
    if (!(*id = wh_e2e_endpoint(e, ORG, url, "webhook.*", NULL, NULL, NULL)) || wh_e2e_start(e, 1) != 0 ||
        bl_webhook_store_disable(e->store, *id, "off", &err) != 0 || wh_e2e_wait_cache(e, 0) != 0 ||
        wait_fanned_out(e, 2) != 0) /* endpoint.created and webhook.disabled are before the window */
        return -1;
    int64_t since_ms = instant();
    if (wh_e2e_append(e, ORG, "s", n, "keep-") != 0 || wait_fanned_out(e, 2 + (uint64_t)n) != 0)
        return -1;
    int64_t until_ms = instant();
    stop_relay(e);
    if (bl_webhook_store_enable(e->store, *id, &err) != 0)
        return -1;
    return bl_replay_job_request(e->f.pool, e->store, NULL, *id, since_ms, until_ms, bl_clock_wall_ms(), "test", job,
                                 &err);
}

typedef struct seam {
    wh_e2e *e;
    const char *job_id;
    int calls, act_at; /* act at this checkpoint */
    int die;           /* 1: die there; 0: cancel the job there */
    atomic_int *stop;  /* when set: ask the worker to stop there instead */
} seam;

static int at_checkpoint(void *user, const bl_replay_job_counts *counts)
{
    (void)counts;
    seam *s = user;
    if (++s->calls != s->act_at)
        return 0;
    if (s->stop) {
        atomic_store(s->stop, 1);
        return 0;
    }
    if (s->die)
        return 1;
    bl_replay_job j;
    bl_err err = {0};
    CHECK_EQ_INT(bl_replay_job_cancel(s->e->f.pool, ORG, s->job_id, &j, &err), 1);
    return 0;
}

static void cancel_stops_a_running_job_at_its_next_checkpoint(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    char *a = NULL;
    bl_replay_job job, after;
    bl_err err = {0};
    if (wh_e2e_open(&e) != 0 || window_of(&e, &sink, "/a", 40, &a, &job) != 0) {
        CHECK(0);
        goto done;
    }
    const char *topics[] = {e.events_topic};
    bl_webhook_replay_jobs_opts o = jobs_opts(&e, topics);
    seam s = {.e = &e, .job_id = job.id, .act_at = 1};
    o.checkpoint_every = 5;
    o.checkpoint_ms = -1;
    o.before_checkpoint = at_checkpoint;
    o.seam_user = &s;
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&o, &err), 1);
    REQUIRE(bl_replay_job_get(e.f.pool, NULL, job.id, &after, &err) == 1);
    CHECK_EQ_STR(after.status, "cancelled");
    CHECK_EQ_INT((int)after.counts.scanned, 5); /* stopped at the first checkpoint */
    CHECK_EQ_INT((int)after.counts.enqueued, 5);
    CHECK(after.finished_ms > 0);
    check_hits(&sink, "/a", 5, "\"reason\":\"keep-");
    /* a cancelled job is not claimed again, and cannot be cancelled twice */
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&o, &err), 0);
    CHECK_EQ_INT(bl_replay_job_cancel(e.f.pool, NULL, job.id, &after, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
done:
    free(a);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

typedef struct job_count {
    const char *job_id;
    long n;
} job_count;

static int count_job_delivery(const bl_kafka_msg *m, void *user, bl_err *err)
{
    (void)err;
    job_count *c = user;
    bl_webhook_delivery_view v;
    bl_err perr = {0};
    if (bl_webhook_delivery_parse(m, &v, &perr) == 0 && strcmp(v.replay_job, c->job_id) == 0)
        c->n++;
    return 0;
}

/* How many deliveries of job are on the test's deliveries topic. */
static long deliveries_of(wh_e2e *e, const char *job_id)
{
    const char *topics[] = {e->deliveries};
    bl_topic_scan_opts so = {.brokers = bl_test_kafka_brokers(), .topics = topics, .n_topics = 1};
    job_count c = {job_id, 0};
    bl_err err = {0};
    return bl_topic_scan(&so, count_job_delivery, &c, &err) < 0 ? -1 : c.n;
}

#define RESUMED_EVENTS 30

static void job_resumes_after_its_worker_dies_or_stops_without_enqueuing_twice(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    char *a = NULL;
    bl_replay_job job, after;
    bl_err err = {0};
    if (wh_e2e_open(&e) != 0 || window_of(&e, &sink, "/a", RESUMED_EVENTS, &a, &job) != 0) {
        CHECK(0);
        goto done;
    }
    const char *topics[] = {e.events_topic};
    /* 1: a worker dies at its second checkpoint: 10 deliveries enqueued,
     * only the first 5 recorded */
    bl_webhook_replay_jobs_opts o = jobs_opts(&e, topics);
    seam dies = {.e = &e, .job_id = job.id, .act_at = 2, .die = 1};
    o.checkpoint_every = 5;
    o.checkpoint_ms = -1;
    o.worker = "worker-that-dies";
    o.before_checkpoint = at_checkpoint;
    o.seam_user = &dies;
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&o, &err), 1);
    REQUIRE(bl_replay_job_get(e.f.pool, NULL, job.id, &after, &err) == 1);
    CHECK_EQ_STR(after.status, "running");
    CHECK_EQ_INT((int)after.counts.enqueued, 5);
    CHECK_EQ_INT((int)deliveries_of(&e, job.id), 10);
    /* while its heartbeat is fresh, nobody takes it over */
    bl_webhook_replay_jobs_opts next = jobs_opts(&e, topics);
    next.checkpoint_every = 5;
    next.checkpoint_ms = -1;
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&next, &err), 0);

    /* 2: after stale_after_s another worker resumes it, and is stopped (the
     * role shutting down) at its second checkpoint: the job is given back */
    sleep(2);
    atomic_int stop;
    atomic_init(&stop, 0);
    seam stops = {.e = &e, .job_id = job.id, .act_at = 2, .stop = &stop};
    next.stale_after_s = 1;
    next.stop = &stop;
    next.before_checkpoint = at_checkpoint;
    next.seam_user = &stops;
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&next, &err), 1);
    REQUIRE(bl_replay_job_get(e.f.pool, NULL, job.id, &after, &err) == 1);
    CHECK_EQ_STR(after.status, "queued");
    CHECK_EQ_INT(after.attempts, 2);
    CHECK(after.counts.enqueued > 5 && after.counts.enqueued < RESUMED_EVENTS);

    /* 3: the next worker takes the given-back job at once and finishes it */
    bl_webhook_replay_jobs_opts last = jobs_opts(&e, topics);
    CHECK_EQ_INT(bl_webhook_replay_jobs_run_one(&last, &err), 1);
    REQUIRE(bl_replay_job_get(e.f.pool, NULL, job.id, &after, &err) == 1);
    CHECK_EQ_STR(after.status, "completed");
    CHECK_EQ_INT(after.attempts, 3);
    CHECK_EQ_INT((int)after.counts.scanned, RESUMED_EVENTS);
    CHECK_EQ_INT((int)after.counts.matched, RESUMED_EVENTS);
    CHECK_EQ_INT((int)after.counts.enqueued, RESUMED_EVENTS);
    /* each event was enqueued once, and delivered once */
    CHECK_EQ_INT((int)deliveries_of(&e, job.id), RESUMED_EVENTS);
    check_hits(&sink, "/a", RESUMED_EVENTS, "\"reason\":\"keep-");
done:
    free(a);
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

/* Runs `busline webhooks args` on the test's database. */
static int run_cli(wh_e2e *e, const char *args, char *out, size_t len)
{
    char env[700];
    snprintf(env, sizeof env, "BUSLINE_PG_URL='%s'", e->f.pg_url);
    return bl_test_run_busline(env, args, out, len);
}

static void cli_queues_shows_and_cancels_a_replay(void)
{
    wh_e2e e = {0};
    char *a = NULL;
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    REQUIRE((a = wh_e2e_endpoint(&e, ORG, "http://127.0.0.1:9/x", "webhook.*", NULL, NULL, NULL)) != NULL);
    char args[256], out[4096], id[24] = "", want[96];
    CHECK_EQ_INT(run_cli(&e, "webhooks replay --since 1h --until 2h --org " ORG, out, sizeof out), 2);
    CHECK(strstr(out, "until: must be later than since") != NULL);
    CHECK_EQ_INT(run_cli(&e, "webhooks replay --since 2099-01-01T00:00:00Z --org " ORG, out, sizeof out), 2);
    CHECK(strstr(out, "since: must be in the past") != NULL);
    CHECK_EQ_INT(run_cli(&e, "webhooks replay --since 1h --endpoint no-such-endpoint", out, sizeof out), 1);
    CHECK(strstr(out, "not found") != NULL);
    snprintf(args, sizeof args, "webhooks replay --since 2h --until 1h --endpoint %s", a);
    CHECK_EQ_INT(run_cli(&e, args, out, sizeof out), 0);
    const char *at = strstr(out, "replay job ");
    CHECK(at && sscanf(at, "replay job %23s queued", id) == 1);
    snprintf(args, sizeof args, "webhooks replay-status %s", id);
    CHECK_EQ_INT(run_cli(&e, args, out, sizeof out), 0);
    CHECK(strstr(out, "status: queued") != NULL);
    snprintf(want, sizeof want, "endpoint: %s", a);
    CHECK(strstr(out, want) != NULL);
    snprintf(args, sizeof args, "webhooks replay-cancel %s", id);
    CHECK_EQ_INT(run_cli(&e, args, out, sizeof out), 0);
    snprintf(want, sizeof want, "cancelled replay job %s", id);
    CHECK(strstr(out, want) != NULL);
    CHECK_EQ_INT(run_cli(&e, args, out, sizeof out), 1); /* it has ended */
    CHECK_EQ_INT(run_cli(&e, "webhooks replay-status --org " ORG, out, sizeof out), 0);
    snprintf(want, sizeof want, "%s\tcancelled\t" ORG "\t%s\t", id, a);
    CHECK(strstr(out, want) != NULL);
done:
    free(a);
    wh_e2e_close(&e);
}

int main(void)
{
    BL_RUN(job_to_all_endpoints_redelivers_only_the_window);
    BL_RUN(cancel_stops_a_running_job_at_its_next_checkpoint);
    BL_RUN(job_resumes_after_its_worker_dies_or_stops_without_enqueuing_twice);
    BL_RUN(cli_queues_shows_and_cancels_a_replay);
    return bl_test_summary();
}
