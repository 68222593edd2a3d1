/* The Attendance-X integrations API (design document 001) in-process for
 * tests/integration/test_attendance_integrations_api*.c: a fresh database,
 * three servers (ax_srv waits 30 s for a cleanup run, ax_srv_nowait answers
 * a DELETE at once, ax_srv_moved has the surface under /ax/v2), a fake of
 * Google's OAuth endpoints (Slack, Microsoft and Zoom point at a closed
 * loopback port: nothing leaves the machine), two organizations and their
 * keys: ax_admin (admin), ax_manager (write: the document's Manager),
 * ax_reader (read), ax_slow (write, one request an hour), ax_other_admin
 * (the other organization's admin). */
#ifndef BUSLINE_TEST_AX_INTEGRATIONS_FIXTURE_H
#define BUSLINE_TEST_AX_INTEGRATIONS_FIXTURE_H

#include "api/server.h"
#include "tests/support/api_fixture.h"
#include "tests/support/fake_oauth.h"

#include <jansson.h>
#include <stdbool.h>

#define REDIRECT "https://app.attendance-x.com/integrations/callback"
#define KEYS "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define BASE "/attendance/api/integrations"

extern char ax_pg_url[512];
extern bl_pg_pool *ax_pool;
extern bl_api_server *ax_srv, *ax_srv_nowait, *ax_srv_moved;
extern fake_oauth ax_fake;
extern char ax_org[BL_API_ID_MAX], ax_other_org[BL_API_ID_MAX];
extern char ax_admin[BL_API_TOKEN_SIZE], ax_manager[BL_API_TOKEN_SIZE], ax_reader[BL_API_TOKEN_SIZE];
extern char ax_other_admin[BL_API_TOKEN_SIZE], ax_slow[BL_API_TOKEN_SIZE];
extern char ax_manager_id[BL_API_ID_MAX]; /* ax_manager's key id */

/* Starts everything; returns 0, or -1 after printing why (then teardown). */
int ax_setup(void);
void ax_teardown(void);

/* Calls s (ax_call: ax_srv) with token as Bearer and a JSON body (may be
 * NULL); returns the status. Clear r with bl_test_reply_clear. */
long ax_call_on(bl_api_server *s, const char *method, const char *path, const char *token, const char *body,
                bl_test_reply *r);
long ax_call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r);
/* PUT BASE/<id>/settings as ax_manager. */
long ax_put_settings(const char *id, const char *body, bl_test_reply *r);

/* The answer's "data" (borrowed); whether it is {"success": true, "data"}. */
const json_t *ax_data(const bl_test_reply *r);
bool ax_enveloped(const bl_test_reply *r);
/* Whether r is status in the surface's error shape with code (printing
 * what came otherwise). */
bool ax_fails_with(const bl_test_reply *r, long status, const char *code);
/* error.details[path] of r, or NULL. */
const char *ax_detail(const bl_test_reply *r, const char *path);

/* Whether o[k] is present with that type (printing k otherwise). */
bool ax_is_str(const json_t *o, const char *k);
bool ax_is_int(const json_t *o, const char *k);
bool ax_is_bool(const json_t *o, const char *k);
bool ax_is_obj(const json_t *o, const char *k);
bool ax_is_arr(const json_t *o, const char *k);
bool ax_is_str_or_null(const json_t *o, const char *k);

/* The one number of a query with one optional text parameter, or -1. */
long ax_sql_long(const char *sql, const char *param);

/* Connects Google through connect and callback with the document's
 * bodies (as ax_manager); id gets the integration id; callback_reply (may
 * be NULL) keeps the callback's answer. Returns 0 or -1. */
int ax_connect_google(char id[64], bl_test_reply *callback_reply);
/* An integration of provider and type in organization o made in the
 * database, with a sealed token. Returns 0 or -1. */
int ax_make_integration(const char *provider, const char *type, const char *o, char id[64]);
/* Ends the queued or running run of integration id as the sync worker
 * does: status, statistics (JSON text), 1.5 s. Returns 0 or -1. */
int ax_end_run(const char *id, const char *status, const char *statistics);

#endif
