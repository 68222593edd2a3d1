/* An endpoint's delivery order, as the API, the CLI and the console name it:
 * "none" (the default: deliveries in parallel, retries through the tier
 * topics, no order promised) or "fifo" (strict order: one delivery of the
 * endpoint in flight at a time, in the order the fan-out enqueued them; a
 * failing head is retried in place and holds the rest back until it is
 * delivered or dead-lettered). Stored as webhook_endpoints.strict_order
 * (bl_webhook_spec.strict_order), the older boolean spelling of the same
 * setting. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_ORDERING_H
#define BUSLINE_CONNECTORS_WEBHOOK_STORE_ENDPOINT_ORDERING_H

#include <stdbool.h>

#define BL_WEBHOOK_ORDERING_CHOICES "\"none\" (parallel, the default) or \"fifo\" (strict order)"

/* Reads name ("none" or "fifo"; NULL or anything else: -1) into *strict.
 * Returns 0 or -1; *strict untouched on -1. */
int bl_webhook_ordering_parse(const char *name, bool *strict);

/* "fifo" when strict, else "none" (static strings). */
const char *bl_webhook_ordering_name(bool strict);

#endif
