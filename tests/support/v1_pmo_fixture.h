/* The PMO domain service (producers/pmo) beside the in-process API of
 * api_fixture.h, on the API's database and command topic, with its own
 * consumer group and dead-letter topic: what the /v1 tests need to see a
 * command applied (test_v1_conformance_pmo*.c). */
#ifndef BUSLINE_TEST_V1_PMO_FIXTURE_H
#define BUSLINE_TEST_V1_PMO_FIXTURE_H

#include "core/kafka_admin.h"
#include "producers/domain_service/service.h"
#include "tests/support/api_fixture.h"

typedef struct bl_v1_pmo {
    bl_test_api *api;            /* borrowed */
    bl_domain_service *service;
    char dlq[200];
    bl_kafka_admin *admin;       /* for the DLQ topic */
    int dlq_made;
} bl_v1_pmo;

/* Starts the PMO service on api (already started with Kafka). Returns 0,
 * or -1 after printing why (then call bl_v1_pmo_stop). */
int bl_v1_pmo_start(bl_v1_pmo *p, bl_test_api *api);

/* Frees the service and deletes its dead-letter topic. */
void bl_v1_pmo_stop(bl_v1_pmo *p);

/* Calls the API (bl_test_api_call without an extra header) while the
 * service runs beside it on a thread, so a command's outcome can be waited
 * for. Returns the status. */
long bl_v1_pmo_call(bl_v1_pmo *p, const char *method, const char *path, const char *token, const char *body,
                    bl_test_reply *r);

/* Steps the service until GET path with token answers want_status and,
 * when field is not NULL, its data.<field> is the JSON text want (a string
 * value compared bare: "RED"), or the test's bound of steps passes.
 * Returns 1 when it did, else 0 (the last answer is named on stderr). */
int bl_v1_pmo_step_until(bl_v1_pmo *p, const char *path, const char *token, long want_status, const char *field,
                         const char *want);

#endif
