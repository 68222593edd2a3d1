/* What the Google calendar sync tests share (test_calendar_sync.c and
 * test_calendar_sync_runs.c): the calsync fixture on the fake Google
 * Calendar with the real attendance service, a fresh calendar per test,
 * Attendance-X changes made through the domain, runs queued and run, and
 * the check that both sides converged. */
#ifndef BUSLINE_TEST_CALSYNC_GOOGLE_FIXTURE_H
#define BUSLINE_TEST_CALSYNC_GOOGLE_FIXTURE_H

#include "connectors/calendar_sync/worker.h"
#include "tests/support/calsync_fixture.h"

#include <jansson.h>
#include <libpq-fe.h>

#define WAIT_MS 60000
#define PREFIX "[AX] " /* the titlePrefix of every test's settings */

typedef struct gsync_state {
    bl_calsync_fx fx;
    char name[96];          /* unique per run: the worker group */
    char events_topic[160]; /* events.attendance.event of this run */
    char log_path[256];     /* the `busline sync` children's log */
    char calendar[32];      /* this test's calendar (gsync_reset) */
} gsync_state;

extern gsync_state gsync;

/* The fixture's parts by the names the tests use. */
#define gcal gsync.fx.cal
#define oauth gsync.fx.oauth
#define org gsync.fx.dom.org
#define integration_id gsync.fx.integration_id
#define commands_topic gsync.fx.dom.commands_topic

/* Starts the fixture on google_calendar and the run's events topic.
 * Returns 0, or -1. */
int gsync_setup(void);

/* Prints the workers' log when a test failed, deletes the topic, stops the
 * fixture. */
void gsync_teardown(void);

/* Runs q with params on the fixture database; the result (PQclear) or NULL (printed). */
PGresult *gsync_sql(const char *q, int n, const char *const *p);

/* The first column of q with one param as a number, or -1. */
long gsync_count1(const char *q, const char *param);

/* A fresh calendar and a clean slate for the next test. */
void gsync_reset(const char *settings_extra);

/* Attendance-X changes: the domain's commands, applied. */
void gsync_put_event(const char *id, const char *title, int hours, const char *type, int is_private);

/* Retitles Attendance-X event id through the domain (printed when refused). */
void gsync_change_event(const char *id, const char *title);

/* Cancels Attendance-X event id through the domain (printed when refused). */
void gsync_cancel_event(const char *id);

/* A person's event in the calendar (hours from now). */
void gsync_put_item(const char *id, const char *summary, int hours);

/* Worker options on the fixture (its store, fake Google, registry, topics). */
bl_calsync_worker_opts gsync_worker_opts(void);

/* Queues a manual run (direction, dry, force); its id into run_id. Returns 0 or -1. */
int gsync_queue_run(const char *direction, int dry, int force, char run_id[40]);

/* The sync run row run_id as JSON (new reference), or NULL. */
json_t *gsync_run_row(const char *run_id);

/* One counter of a run row's stats, or -1. */
long gsync_stat_of(const json_t *run, const char *key);

/* Queues a manual run and runs it to its end in this thread; its row (new reference) or NULL. */
json_t *gsync_sync_now(const char *direction, int dry, int force);

/* The commands the sync sent and the service applies. */
long gsync_apply_commands(void);

/* Every command on the topic (new array of envelopes). */
json_t *gsync_all_commands(void);

/* Both sides hold the same set: every scheduled event has exactly one live
 * copy with its title, and the calendar holds nothing else. */
int gsync_converged(void);

#endif
