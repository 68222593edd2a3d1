/* Runs one built-in connector the way the connector runtime does, for the
 * SaaS connector tests: a memory state store, the real host (HTTP over
 * core/http_client.h), a token source whose refresh swaps in the next
 * token, and handle with one refresh + retry after AUTH_EXPIRED. */
#ifndef BUSLINE_TEST_SAAS_HARNESS_H
#define BUSLINE_TEST_SAAS_HARNESS_H

#include "connectors/host.h"
#include "connectors/state_store.h"

typedef struct bl_saas_harness {
    bl_state_store *state;
    bl_connector_host_impl *host;
    const bl_connector_table *table;
    void *instance;
    char token[128];      /* the bearer token handed out */
    char next_token[128]; /* what a refresh turns it into */
    int refreshes;
} bl_saas_harness;

/* Creates the instance of table with settings and credentials (JSON texts;
 * credentials may be NULL). Returns 0, or -1 after printing why. */
int bl_saas_harness_open(bl_saas_harness *h, const bl_connector_table *table, const char *settings,
                         const char *credentials);

void bl_saas_harness_close(bl_saas_harness *h);

/* Handles one event (id, aggregate subject, action, NULL-terminated
 * name/value pairs of rendered fields) with the runtime's one refresh and
 * retry after AUTH_EXPIRED. Returns the final result. */
bl_connector_result bl_saas_harness_run(bl_saas_harness *h, const char *event_id, const char *subject,
                                        const char *action, const char *const *fields);

#endif
