/* The calendar sync under test (tests/integration/test_calendar_sync*.c):
 * the real attendance domain service (producers/attendance, in process,
 * stepped by the test, on the domain fixture's registry, database and
 * commands topic), a fake calendar (Google or Microsoft Graph, stateful),
 * the real OAuth store connected through a fake of the provider's OAuth
 * endpoints, and helpers to queue and execute runs and to change
 * Attendance-X through the domain's own commands. */
#ifndef BUSLINE_TEST_CALSYNC_FIXTURE_H
#define BUSLINE_TEST_CALSYNC_FIXTURE_H

#include "connectors/calendar_sync/worker.h"
#include "tests/support/domain_fixture.h"
#include "tests/support/fake_oauth.h"
#include "tests/support/fake_saas.h"

typedef struct bl_calsync_fx {
    const char *provider;  /* "google_calendar" or "microsoft_365" */
    bl_test_domain dom;    /* dom.org is the organization of the integration */
    fake_oauth oauth;
    bl_fake_saas cal;      /* the calendar's fake */
    bl_keyring *keyring;
    bl_oauth_store *store;
    char integration_id[64];
} bl_calsync_fx;

/* Starts everything for provider and connects one integration. Returns 0,
 * or -1 after printing why; stop it either way. */
int bl_calsync_fx_start(bl_calsync_fx *fx, const char *provider);
void bl_calsync_fx_stop(bl_calsync_fx *fx);

/* Connects a new integration (the OAuth code flow) and points the fake at
 * its access token. Returns 0, or -1 after printing why. */
int bl_calsync_fx_connect(bl_calsync_fx *fx);

/* Adds a connected integration of provider (type, one scope, account name,
 * settings JSON text) to the organization with access token sealed as the
 * connect flow seals it, valid a day; its id into id (64 bytes). Returns 0,
 * or -1 after printing why. */
int bl_calsync_fx_add_connected(bl_calsync_fx *fx, const char *provider, const char *type, const char *scope,
                                const char *account, const char *settings, const char *token, char id[64]);

/* Replaces the integration's settings (JSON text) and forgets its links,
 * cursors and the organization's events. */
void bl_calsync_fx_reset(bl_calsync_fx *fx, const char *settings);

/* Runs sql on the pool (NULL after printing why); count: the first value or -1. */
PGresult *bl_calsync_fx_sql(bl_calsync_fx *fx, const char *sql, int n, const char *const *params);
long bl_calsync_fx_count(bl_calsync_fx *fx, const char *sql, const char *param);

/* The worker's options for in-process runs. */
bl_calsync_worker_opts bl_calsync_fx_worker_opts(bl_calsync_fx *fx);

/* Queues a run of type ("manual", "cleanup"; direction NULL: bidirectional). */
int bl_calsync_fx_queue(bl_calsync_fx *fx, const char *type, const char *direction, int dry, int force,
                        char run_id[40]);
/* The run's row {"status","type","statistics","errors","conflicts","finished"} (new), or NULL. */
json_t *bl_calsync_fx_run_row(bl_calsync_fx *fx, const char *run_id);
/* Queues a manual run, executes it in process, returns its row (new). */
json_t *bl_calsync_fx_sync(bl_calsync_fx *fx, const char *direction, int dry, int force);
long bl_calsync_fx_stat(const json_t *run, const char *key);

/* Applies the commands on the topic not handled yet with the attendance
 * service; returns how many (-1 on failure). Dead-lettered ones are
 * printed and make it fail. */
long bl_calsync_fx_apply(bl_calsync_fx *fx);

/* Attendance-X changes, as the domain's commands applied by the service:
 * an event of type starting hours from now (90 minutes long, Europe/Paris,
 * room 4, a 15 minute reminder); a new title; a cancellation. Return 0 or -1. */
int bl_calsync_fx_create_event(bl_calsync_fx *fx, const char *id, const char *title, int hours, const char *type,
                               int is_private);
int bl_calsync_fx_retitle_event(bl_calsync_fx *fx, const char *id, const char *title);
int bl_calsync_fx_cancel_event(bl_calsync_fx *fx, const char *id);

#endif
