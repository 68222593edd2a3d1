/* The tenant a whole-path run sends through a chaos cluster (the chaos test,
 * the end-to-end bench): an organization on the pro plan, its admin key
 * without rate limits, a webhook endpoint on risk.* to the run's sink, and
 * the project P-chaos its risks belong to, applied by the PMO service. */
#ifndef BUSLINE_TESTS_CHAOS_PROVISION_H
#define BUSLINE_TESTS_CHAOS_PROVISION_H

#include "chaos_cluster.h"

#include "connectors/webhook/policy/signature.h"

typedef struct chaos_tenant {
    char org[64], token[256];
    bl_webhook_secret secret; /* the endpoint's, to verify deliveries */
} chaos_tenant;

/* Provisions the tenant on c's running roles, its endpoint to sink_url with
 * webhook_options (extra `busline webhooks create` arguments, NULL
 * terminated; may be NULL). Returns 0, or -1 after printing why. */
int chaos_provision(chaos_cluster *c, const char *sink_url, const char *const *webhook_options,
                    chaos_tenant *out);

#endif
