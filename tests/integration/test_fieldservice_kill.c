/* `busline fieldservice` killed with SIGKILL three times while it works
 * through 2,000 commands (1,000 client creates, then an update of each),
 * then run to the end: nothing is lost (every client exists with its
 * update), nothing is applied twice (one processed-command row per command,
 * exactly one outbox event per command, every outbox event id once), and
 * every command announced its outcome at least once. */
#include "core/clock.h"
#include "core/pg_pool.h"
#include "producers/fieldservice/domain.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_CLIENTS 1000
#define N_COMMANDS (2 * N_CLIENTS)
#define KILLS 3
#define WAIT_S 180

static bl_test_domain fx;
static char group[128]; /* not the fixture's: its in-process service never polls */
static PGconn *listener; /* LISTENs on the outcome channel from the start */

static long processed(void)
{
    return bl_test_domain_count(&fx,
                                "SELECT count(*) FROM fieldservice_processed_commands WHERE organization_id = $1",
                                fx.org);
}

static pid_t spawn_service(void)
{
    char port[8];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    const char *const args[] = {"fieldservice",         "run",
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

/* Runs the service until it processed more than `beyond` commands of the
 * organization (or all of them), then ends it with sig. Returns how many it
 * had processed when the signal was sent, or -1. */
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

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How many distinct commands of the organization announced an outcome. */
static long announced_commands(void)
{
    char **ids = calloc(8 * N_COMMANDS, sizeof *ids);
    size_t n = 0, before;
    PGnotify *note;
    bl_err err = {0};
    if (!ids)
        return -1;
    do { /* a query reads every notification sent before its answer */
        before = n;
        if (bl_pg_exec_cmd(listener, "SELECT 1", 0, NULL, &err) != 0)
            break;
        while ((note = PQnotifies(listener)) != NULL) {
            json_t *j = json_loads(note->extra, 0, NULL);
            const char *id = json_string_value(json_object_get(j, "command_id"));
            const char *org = json_string_value(json_object_get(j, "organization_id"));
            if (id && org && strcmp(org, fx.org) == 0 && n < 8 * N_COMMANDS)
                ids[n++] = strdup(id);
            json_decref(j);
            PQfreemem(note);
        }
    } while (n > before);
    qsort(ids, n, sizeof *ids, compare_ids);
    long distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return distinct;
}

static void killed_three_times_in_2000_commands_loses_nothing_applies_nothing_twice(void)
{
    bl_err err = {0};
    REQUIRE((listener = bl_pg_connect(fx.reg.pg_url, &err)) != NULL);
    REQUIRE(bl_pg_exec_cmd(listener, "LISTEN busline_command_outcome", 0, NULL, &err) == 0);
    for (int i = 0; i < N_CLIENTS; i++) {
        char fmt[512];
        snprintf(fmt, sizeof fmt,
                 "{\"type\":\"client.create\",\"organization_id\":\"%%1$s\",\"data\":{\"client_id\":\"%%1$s-K%d\","
                 "\"name\":\"Client %d\",\"address\":{\"street\":\"%d rue du Test\",\"postal_code\":\"75001\","
                 "\"city\":\"Paris\",\"country\":\"FR\"}}}",
                 i, i, i);
        REQUIRE(bl_test_domain_send(&fx, fmt, NULL) == 0);
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        char fmt[512];
        snprintf(fmt, sizeof fmt,
                 "{\"type\":\"client.update\",\"organization_id\":\"%%1$s\",\"data\":{\"client_id\":\"%%1$s-K%d\","
                 "\"phone\":\"+3310000%04d\"}}",
                 i, i);
        REQUIRE(bl_test_domain_send(&fx, fmt, NULL) == 0);
    }
    long at[KILLS];
    for (int k = 0; k < KILLS; k++) {
        long before = processed();
        at[k] = run_until(before + (N_COMMANDS - before) / (KILLS + 1 - k) / 2, SIGKILL);
        REQUIRE(at[k] >= 0);
        fprintf(stderr, "  kill %d after %ld of %d commands\n", k + 1, at[k], N_COMMANDS);
    }
    CHECK(at[0] < N_COMMANDS); /* the first kill at least came mid-way */
    REQUIRE(run_until(N_COMMANDS - 1, SIGTERM) == N_COMMANDS);
    const char *org = fx.org;
    CHECK_EQ_INT(processed(), N_COMMANDS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM fieldservice_clients WHERE organization_id = $1"
                                           " AND phone LIKE '+3310000%'", org),
                 N_CLIENTS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox WHERE aggregate_id LIKE $1 || '-K%'"
                                           " AND event_type = 'client.created'", org),
                 N_CLIENTS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM busline_outbox WHERE aggregate_id LIKE $1 || '-K%'"
                                           " AND event_type = 'client.updated'", org),
                 N_CLIENTS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(DISTINCT ce_id) FROM busline_outbox"
                                           " WHERE aggregate_id LIKE $1 || '-K%'", org),
                 N_COMMANDS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT sum(events) FROM fieldservice_processed_commands"
                                           " WHERE organization_id = $1", org),
                 N_COMMANDS);
    CHECK_EQ_INT(bl_test_domain_count(&fx, "SELECT count(*) FROM domain_command_refusals WHERE organization_id = $1",
                                      org),
                 0);
    CHECK_EQ_INT(announced_commands(), N_COMMANDS);
    PQfinish(listener);
}

int main(void)
{
    if (bl_test_domain_start(&fx, BL_FIELDSERVICE_DOMAIN, &bl_fieldservice_rules) == 0) {
        bl_test_domain_new_org(&fx);
        snprintf(group, sizeof group, "%s-process", fx.group);
        BL_RUN(killed_three_times_in_2000_commands_loses_nothing_applies_nothing_twice);
    } else {
        bl_test_failures++;
    }
    bl_test_domain_stop(&fx);
    return bl_test_summary();
}
