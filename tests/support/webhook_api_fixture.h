/* What the /v1/webhooks tests share (test_api_webhooks.c,
 * test_api_webhook_deliveries.c): a fresh migrated database with five
 * organizations (pro, other, demo plan, enterprise "stats", pro "list"), an
 * admin key of pro and of other, a local sink answering sink_status (202
 * unless a test changes it), and the API in-process. */
#ifndef BUSLINE_TEST_WEBHOOK_API_FIXTURE_H
#define BUSLINE_TEST_WEBHOOK_API_FIXTURE_H

#include "api/auth/keys.h"
#include "api/server.h"
#include "connectors/webhook/policy/signature.h"
#include "tests/support/api_fixture.h"
#include "tests/support/webhook_sink.h"

#include <stdatomic.h>

typedef struct bl_test_wh_fixture {
    char pg_url[512];
    bl_pg_pool *pool;
    bl_api_server *srv;
    char org_pro[BL_API_ID_MAX], org_other[BL_API_ID_MAX], org_demo[BL_API_ID_MAX], org_stats[BL_API_ID_MAX],
        org_list[BL_API_ID_MAX];
    char admin[BL_API_TOKEN_SIZE], other_admin[BL_API_TOKEN_SIZE];
    webhook_sink sink;
    atomic_int sink_status; /* what the sink answers */
} bl_test_wh_fixture;

/* The one fixture of the test executable. */
extern bl_test_wh_fixture bl_test_wh;

/* Sets the fixture up (environment, database, organizations, keys, sink,
 * API). Returns 0, or -1 after printing why. */
int bl_test_wh_setup(void);

/* Stops the API and the sink, drops the database. */
void bl_test_wh_teardown(void);

/* Calls the API with token (may be NULL) and an optional JSON body; fills r
 * (cleared with bl_test_reply_clear) and returns the status. */
long bl_test_wh_call(const char *method, const char *path, const char *token, const char *body, bl_test_reply *r);

/* The /v1 error's field_errors of r (borrowed), or NULL. */
const json_t *bl_test_wh_field_errors(const bl_test_reply *r);

/* The string member key of o, or "" (borrowed). */
const char *bl_test_wh_str(const json_t *o, const char *key);

/* The sink's "/hook" URL into out (len bytes). */
void bl_test_wh_sink_url(char *out, size_t len);

/* Creates an endpoint on the sink through the API as token (risk.* and
 * project.created, a header, a condition); writes its id and, when secret
 * is not NULL, its secret. Returns the status. */
long bl_test_wh_create(const char *token, const char *name, char id[64], char secret[BL_WEBHOOK_SECRET_TEXT_MAX]);

/* POSTs body to /v1/webhooks as the pro admin and checks a 422
 * validation_failed naming field (its message holding needle, unless NULL);
 * a miss counts as a failure of the running test. */
void bl_test_wh_expect_field_error(const char *body, const char *field, const char *needle);

/* A new key of org with perm (100,000 an hour) into token. */
void bl_test_wh_key_of(const char *org, bl_api_perm perm, char token[BL_API_TOKEN_SIZE]);

#endif
