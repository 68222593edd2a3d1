/* Custom endpoints in integration tests: the API fixture (its database, two
 * organizations and their keys) plus API replicas of its own on the same
 * database (each may have its clock pinned), the organization's slug, and a
 * small fake outside service (a JSON answer and a request counter). */
#ifndef BUSLINE_TEST_CUSTOM_API_FIXTURE_H
#define BUSLINE_TEST_CUSTOM_API_FIXTURE_H

#include "core/http_server.h"
#include "tests/support/api_fixture.h"

#include <stdatomic.h>
#include <time.h>

typedef struct bl_test_custom {
    bl_test_api api;
    char slug[112];          /* of api.org */
    time_t clock;            /* what the replicas made with pinned = 1 read */
    bl_api_server *replicas[2];
} bl_test_custom;

/* Starts the fixture (with_kafka as bl_test_api_start), then replicas
 * servers (0..2) over its database; pinned: their clock reads t->clock.
 * Returns 0, or -1 after printing why. */
int bl_test_custom_start(bl_test_custom *t, int with_kafka, int replicas, int pinned);

/* Frees the replicas, then the fixture. */
void bl_test_custom_stop(bl_test_custom *t);

/* POSTs def (JSON text) to /v1/custom-apis with the admin key; id (40
 * bytes, may be NULL) gets its id. Returns the status. */
long bl_test_custom_create(bl_test_custom *t, const char *def, char *id);

/* Calls /custom/<slug><path> on server s (NULL = the fixture's own) with
 * token (may be NULL) and extra_header (may be NULL). Returns the status. */
long bl_test_custom_call(bl_test_custom *t, bl_api_server *s, const char *method, const char *path,
                         const char *token, const char *extra_header, bl_test_reply *r);

/* Calls path on s until it answers want (at most 20 s). Returns 1 when it did. */
int bl_test_custom_await(bl_test_custom *t, bl_api_server *s, const char *path, long want);

/* A fake outside service on 127.0.0.1: every request to any path answers
 * status with body (the last set), counts, and keeps the last request's
 * body, path and Authorization header. */
typedef struct bl_test_fake {
    bl_http_server *server;
    unsigned short port;
    atomic_int hits;
    int status;
    char body[4096];
    char last_body[4096];
    char last_authz[512];
    char last_path[512];
    char url[128]; /* http://127.0.0.1:<port> */
} bl_test_fake;

int bl_test_fake_start(bl_test_fake *f, int status, const char *body);
void bl_test_fake_stop(bl_test_fake *f);

#endif
