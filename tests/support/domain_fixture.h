/* A domain service under test (pmo, fieldservice, ...): an in-process schema
 * registry on a fresh database, a fresh commands topic and its DLQ under a
 * unique prefix, the service stepped by the test, a producer and the test's
 * own codec to send commands, a connection to read rows, and an
 * organization id per test. */
#ifndef BUSLINE_TEST_DOMAIN_FIXTURE_H
#define BUSLINE_TEST_DOMAIN_FIXTURE_H

#include "core/kafka_admin.h"
#include "core/kafka_producer.h"
#include "core/uuid.h"
#include "producers/domain_service/send.h"
#include "producers/domain_service/service.h"
#include "tests/support/registry_fixture.h"

#include <libpq-fe.h>

typedef struct bl_test_domain {
    bl_test_registry reg;
    char prefix[64], commands_topic[128], dlq_topic[160], group[96];
    bl_kafka_admin *admin;
    bl_kafka_producer *producer;
    bl_domain_codec *codec; /* the test's own, for sending and decoding */
    bl_domain_service *svc;
    PGconn *db;
    char org[64]; /* the current test's organization (bl_test_domain_new_org) */
    const char *api_prefix; /* set before start: the service's api_prefix (NULL: none) */
} bl_test_domain;

/* Starts the fixture for domain ("pmo") applied by rules (borrowed).
 * Returns 0, or -1 after printing why; stop it either way. */
int bl_test_domain_start(bl_test_domain *d, const char *domain, const bl_domain_rules *rules);

/* Frees the service, deletes the topics, stops the registry. */
void bl_test_domain_stop(bl_test_domain *d);

/* A fresh organization id for the next test. */
void bl_test_domain_new_org(bl_test_domain *d);

/* Steps the service until it handled n more commands (applied, duplicate or
 * dead-lettered). Returns 0, or -1 after printing why. */
int bl_test_domain_run(bl_test_domain *d, long n);

/* Produces value (len bytes) keyed by key to the commands topic and waits
 * for the ack. Returns 0, or -1 after printing why. */
int bl_test_domain_produce(bl_test_domain *d, const char *key, const void *value, size_t len);

/* Prepares the plain-JSON command fmt (printf-style: each %s or %1$s is the
 * organization id) and produces it; id_out (may be NULL) gets its id.
 * Returns 0, or -1 after printing why. */
int bl_test_domain_send(bl_test_domain *d, const char *fmt, char id_out[BL_UUID_SIZE]);

/* Runs sql with one text parameter (NULL: none) on the fixture's connection.
 * Returns the result (PQclear it), or NULL after printing why. */
PGresult *bl_test_domain_query(bl_test_domain *d, const char *sql, const char *param);

/* The integer in the first column of sql's first row, or -1. */
long bl_test_domain_count(bl_test_domain *d, const char *sql, const char *param);

/* Headers of a dead-lettered command. */
typedef struct bl_test_dlq_seen {
    char error_class[32];
    char error[256];
    char original_topic[160];
    char original_offset[24];
} bl_test_dlq_seen;

/* Reads up to n messages of the DLQ from its start into seen. Returns how
 * many were read (fewer after a minute), or -1 after printing why. */
int bl_test_domain_read_dlq(bl_test_domain *d, bl_test_dlq_seen *seen, int n);

#endif
