/* Operator tools over a connector's dead-letter topic `<connector>.dlq`
 * (retry_tier.h): list what was given up, with why, and replay it to where
 * it was first read with its busline-* headers removed, so the runtime
 * takes it as a new message (attempts start again from 1). */
#ifndef BUSLINE_CONSUMERS_DLQ_H
#define BUSLINE_CONSUMERS_DLQ_H

#include "consumers/retry_tier.h"
#include "core/err.h"
#include "core/kafka_consumer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_dlq_opts {
    const char *brokers;     /* required */
    const char *connector;   /* required: "webhook" reads webhook.dlq */
    int64_t since_ms;        /* dead-lettered at or after (message time, unix ms); 0: any */
    int64_t until_ms;        /* ... at or before; 0: any */
    const char *key;         /* only messages with this key (a webhook endpoint id); NULL: all */
    int timeout_ms;          /* longest the scan may take; 0: 60000 */
} bl_dlq_opts;

/* One dead letter as listed; everything borrowed for the callback. */
typedef struct bl_dlq_entry {
    const bl_kafka_msg *msg;
    const bl_retry_headers *headers; /* NULL when its busline-* headers do not parse */
    const char *key;                 /* NUL-terminated copy of the key ("" when none) */
} bl_dlq_entry;

typedef void (*bl_dlq_entry_fn)(const bl_dlq_entry *e, void *user);

/* Calls fn for each dead letter matching o. Returns how many, or -1 with err. */
long bl_dlq_list(const bl_dlq_opts *o, bl_dlq_entry_fn fn, void *user, bl_err *err);

/* Re-produces each dead letter matching o to its busline-original-topic
 * (same key, value and other headers; busline-* removed) and waits for the
 * broker's acks. Entries whose headers do not parse are skipped and counted
 * in *skipped (may be NULL). Returns how many were replayed, or -1 with err
 * (some may have been replayed: running it again only duplicates, and the
 * message ids let consumers drop those). */
long bl_dlq_replay(const bl_dlq_opts *o, size_t *skipped, bl_err *err);

#endif
