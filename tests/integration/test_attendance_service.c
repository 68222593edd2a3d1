/* The attendance service end to end on the real broker, PostgreSQL and an
 * in-process schema registry: a redelivered command applied once (its row
 * version and its events counted), and `busline attendance` killed with
 * SIGKILL twice while it works through creates and updates of events whose
 * reminders are due, then run to the end: nothing lost, nothing applied
 * twice, every reminder announced exactly once across the processes. */
#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "producers/attendance/domain.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_EVENTS 200
#define N_COMMANDS (2 * N_EVENTS)
#define KILLS 2
#define WAIT_S 180
#define MINUTE INT64_C(60000)

static bl_test_domain fx;
static char group[128]; /* not the fixture's: its in-process service never polls then */

static int produce_twice(const char *text)
{
    json_t *input = json_loads(text, 0, NULL);
    bl_domain_sender sender = {.source = "test", .actor = "tester"};
    bl_domain_prepared cmd;
    bl_err err = {0};
    int rc = input && bl_domain_command_prepare(fx.codec, input, &sender, &cmd, &err) == 0 ? 0 : -1;
    json_decref(input);
    if (rc != 0) {
        fprintf(stderr, "  prepare: %s\n", err.msg);
        return -1;
    }
    rc = bl_test_domain_produce(&fx, cmd.subject, cmd.wire.bytes, cmd.wire.len) == 0 &&
                 bl_test_domain_produce(&fx, cmd.subject, cmd.wire.bytes, cmd.wire.len) == 0
             ? 0
             : -1;
    bl_domain_prepared_clear(&cmd);
    return rc;
}

static void redelivered_commands_are_applied_once(void)
{
    bl_test_domain_new_org(&fx);
    int64_t starts = bl_clock_wall_ms() + 24 * 60 * MINUTE;
    char text[2048];
    snprintf(text, sizeof text,
             "{\"type\":\"event.create\",\"organization_id\":\"%s\",\"data\":{\"event_id\":\"%s-E1\","
             "\"title\":\"Kick-off\",\"event_type\":\"meeting\",\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64 ","
             "\"timezone\":\"Europe/Paris\",\"organizer\":{\"email\":\"lead@example.fr\",\"name\":null},"
             "\"attendees\":[],\"is_private\":true}}",
             fx.org, fx.org, starts, starts + 30 * MINUTE);
    REQUIRE(produce_twice(text) == 0);
    snprintf(text, sizeof text,
             "{\"type\":\"event.update\",\"organization_id\":\"%s\",\"data\":{\"event_id\":\"%s-E1\","
             "\"title\":\"Kick-off 2027\"}}", fx.org, fx.org);
    REQUIRE(produce_twice(text) == 0);
    snprintf(text, sizeof text,
             "{\"type\":\"event.record_attendance\",\"organization_id\":\"%s\",\"subject\":\"%s-E1\",\"data\":{"
             "\"event_id\":\"%s-E1\",\"person_id\":\"p1\",\"status\":\"EXCUSED\"}}", fx.org, fx.org, fx.org);
    REQUIRE(produce_twice(text) == 0);
    bl_domain_service_stats before = bl_domain_service_stats_get(fx.svc);
    REQUIRE(bl_test_domain_run(&fx, 6) == 0);
    bl_domain_service_stats after = bl_domain_service_stats_get(fx.svc);
    CHECK_EQ_INT(after.applied - before.applied, 3);
    CHECK_EQ_INT(after.duplicates - before.duplicates, 3);
    CHECK_EQ_INT(after.dead_letters - before.dead_letters, 0);
    char id[128];
    snprintf(id, sizeof id, "%s-E1", fx.org);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT version FROM attendance_events WHERE event_id = $1", id), 2);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox WHERE aggregate_id = $1", id), 3);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_processed_commands"
                                           " WHERE organization_id = $1", fx.org), 3);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_records WHERE event_id = $1", id), 1);
}

static long processed(void)
{
    return bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_processed_commands WHERE organization_id = $1",
                                fx.org);
}

static pid_t spawn_service(void)
{
    char port[8];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    const char *const args[] = {"attendance",           "run",
                                "--pg-url",             fx.reg.pg_url,
                                "--kafka-brokers",      bl_test_kafka_brokers(),
                                "--registry-url",       fx.reg.base_url,
                                "--commands-topic",     fx.commands_topic,
                                "--dlq-topic",          fx.dlq_topic,
                                "--events-topic-prefix", fx.prefix,
                                "--group",              group,
                                "--session-timeout",    "6s", /* a killed one's partition moves on soon */
                                "--metrics-port",       port,
                                NULL};
    return bl_test_spawn_busline(args, NULL);
}

/* Runs the service until it processed more than beyond commands of the
 * organization (or all), then ends it with sig. Returns how many it had
 * processed when the signal was sent, or -1. */
static long run_until(long beyond, int sig)
{
    pid_t pid = spawn_service();
    if (pid <= 0)
        return -1;
    long seen = -1;
    for (int64_t give_up = bl_clock_mono_ms() + WAIT_S * 1000; bl_clock_mono_ms() < give_up;) {
        seen = processed();
        if (seen < 0 || seen > beyond || seen == N_COMMANDS)
            break;
        usleep(2000);
    }
    int code = bl_outbox_test_reap(pid, sig, NULL);
    if (sig == SIGKILL && code != 128 + SIGKILL)
        fprintf(stderr, "  the service exited with %d before its kill\n", code);
    return seen;
}

static void killed_twice_loses_nothing_and_reminds_once(void)
{
    bl_test_domain_new_org(&fx);
    snprintf(group, sizeof group, "%s-process", fx.group);
    int64_t starts = bl_clock_wall_ms() + 10 * MINUTE; /* reminders 30 min before: due at once */
    for (int i = 0; i < N_EVENTS; i++) {
        char fmt[1024];
        snprintf(fmt, sizeof fmt,
                 "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%%1$s-K%d\","
                 "\"title\":\"Session %d\",\"event_type\":\"workshop\",\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64
                 ",\"timezone\":\"UTC\",\"organizer\":{\"email\":\"lead@example.fr\",\"name\":\"Lead\"},"
                 "\"attendees\":[],\"is_private\":false,\"reminder_minutes\":30}}",
                 i, i, starts, starts + 60 * MINUTE);
        REQUIRE(bl_test_domain_send(&fx, fmt, NULL) == 0);
    }
    for (int i = 0; i < N_EVENTS; i++) {
        char fmt[512];
        snprintf(fmt, sizeof fmt,
                 "{\"type\":\"event.update\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%%1$s-K%d\","
                 "\"description\":\"agenda %d\"}}", i, i);
        REQUIRE(bl_test_domain_send(&fx, fmt, NULL) == 0);
    }
    long at[KILLS];
    for (int k = 0; k < KILLS; k++) {
        long before = processed();
        at[k] = run_until(before + (N_COMMANDS - before) / (KILLS + 1 - k) / 2, SIGKILL);
        REQUIRE(at[k] >= 0);
        fprintf(stderr, "  kill %d after %ld of %d commands\n", k + 1, at[k], N_COMMANDS);
    }
    CHECK(at[0] < N_COMMANDS);
    REQUIRE(run_until(N_COMMANDS - 1, SIGTERM) == N_COMMANDS);
    /* What the processes left due is fired here, by another instance. */
    bl_err err = {0};
    int n;
    while ((n = bl_domain_service_fire_due(fx.svc, 50, &err)) > 0)
        ;
    CHECK(n == 0);
    const char *org = fx.org;
    CHECK_EQ_INT(processed(), N_COMMANDS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_events WHERE organization_id = $1"
                                           " AND version = 2 AND description LIKE 'agenda %'", org),
                 N_EVENTS);
    static const char *const types[] = {"event.created", "event.updated", "event.reminder_due"};
    for (size_t t = 0; t < 3; t++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM busline_outbox WHERE aggregate_id LIKE $1 || '-K%%'"
                                  " AND event_type = '%s'", types[t]);
        CHECK_EQ_INT(bl_test_domain_count(&fx, sql, org), N_EVENTS);
    }
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(DISTINCT ce_id) FROM busline_outbox"
                                           " WHERE aggregate_id LIKE $1 || '-K%'", org),
                 3 * N_EVENTS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM attendance_events WHERE organization_id = $1"
                                           " AND reminder_sent_at IS NULL", org),
                 0);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM domain_command_refusals WHERE organization_id = $1",
                                      org),
                 0);
}

int main(void)
{
    bl_log_init("test_attendance_service", BL_LOG_WARN);
    if (bl_test_domain_start(&fx, BL_ATTENDANCE_DOMAIN, &bl_attendance_rules) == 0) {
        BL_RUN(redelivered_commands_are_applied_once);
        BL_RUN(killed_twice_loses_nothing_and_reminds_once);
    } else {
        bl_test_failures++;
    }
    bl_test_domain_stop(&fx);
    return bl_test_summary();
}
