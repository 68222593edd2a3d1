/* What the field-service surface's tests against the real bus share
 * (test_api_fieldservice.c, test_api_fieldservice_waits.c): the API
 * in-process on fresh topics (tests/support/api_fixture.h) as two servers,
 * one whose bound for a command's outcome is never reached while the
 * service runs (patient) and one whose bound passes (hasty), and the
 * field-service domain service stepped on a thread of the test. */
#ifndef BUSLINE_TEST_FS_API_FIXTURE_H
#define BUSLINE_TEST_FS_API_FIXTURE_H

#include "api/server.h"
#include "producers/domain_service/service.h"
#include "tests/support/api_fixture.h"

#include <pthread.h>
#include <stdatomic.h>

#define PATIENT_WAIT_MS 60000 /* the bound when the service runs: never reached */
#define HASTY_WAIT_MS 200     /* the bound when it does not: passes */

typedef struct bl_test_fs_fixture {
    bl_test_api api;
    bl_api_server *patient, *hasty;
    bl_domain_service *svc;
    pthread_t service_thread;
    atomic_int service_running;
    char dlq_topic[200];
} bl_test_fs_fixture;

/* The one fixture of the test executable. */
extern bl_test_fs_fixture bl_test_fs;

/* Sets it up with the service running and assigned its partition.
 * Returns 0, or -1 after printing why. */
int bl_test_fs_setup(void);

/* Stops the service and the servers, deletes the topics. */
void bl_test_fs_teardown(void);

/* Starts stepping the domain service on its thread / stops and joins it. */
void bl_test_fs_service_resume(void);
void bl_test_fs_service_pause(void);

/* Calls server s (DELETE with the admin key, the rest with the write key)
 * with an optional JSON body; fills r and returns the status. */
long bl_test_fs_call(bl_api_server *s, const char *method, const char *path, const char *body, bl_test_reply *r);

/* The string member key of j, or "" (borrowed). */
const char *bl_test_fs_str(const json_t *j, const char *key);

/* Checks r is the document's error object with status and code: detail,
 * error_code, field_errors, request_id. */
void bl_test_fs_check_error(const bl_test_reply *r, long status, const char *code);

/* Creates a client / an intervention through the patient server (201
 * expected); id gets its id. */
void bl_test_fs_make_client(const char *nom, const char *statut, const char *adresse, char id[64]);
void bl_test_fs_make_intervention(const char *client, const char *date, const char *type, char id[64]);

#endif
