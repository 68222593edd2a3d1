/* What the chaos run counts: every event it had accepted (by the API's
 * 2xx or the outbox's commit) and what the sink received of it, with a
 * valid signature or not, once or more, in order or not. */
#ifndef BUSLINE_TESTS_CHAOS_LEDGER_H
#define BUSLINE_TESTS_CHAOS_LEDGER_H

#include "connectors/webhook/policy/signature.h"
#include "tests/support/webhook_sink.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* One event the run produced: index i of the API's risks ("R-api-<i>",
 * risk.created) or of the outbox's events (risk.escalated with reason
 * "ob-<i>", two per aggregate "R-ob-<i/2>", in order). */
typedef struct chaos_event {
    atomic_int accepted;
    int deliveries;      /* 2xx requests with a valid signature */
    size_t first_arrival; /* sink request index of the first of them */
    char *webhook_id;    /* its webhook-id */
    int other_ids;       /* 2xx deliveries under another webhook-id (the event sent twice) */
} chaos_event;

typedef struct chaos_ledger {
    size_t n_api, n_outbox;
    chaos_event *api, *outbox;
    bl_webhook_secret secret;
    size_t seen;          /* sink requests read so far */
    size_t bad_signatures, unknown, failed_requests;
} chaos_ledger;

/* Allocates the ledger for n_api + n_outbox events. Returns 0 or -1. */
int chaos_ledger_init(chaos_ledger *l, size_t n_api, size_t n_outbox);

/* Reads the sink's requests since the last call into the ledger. */
void chaos_ledger_read(chaos_ledger *l, webhook_sink *sink);

/* Accepted events without a valid 2xx delivery yet. */
size_t chaos_ledger_missing(const chaos_ledger *l);

/* Prints up to max missing events (which side, index, whether the sink saw
 * failed requests at all is not known per event: the index is what the
 * operator looks up in the logs). */
void chaos_ledger_print_missing(const chaos_ledger *l, size_t max);

/* Accepted events (API, outbox). */
size_t chaos_ledger_accepted(const chaos_ledger *l, int outbox);

/* 2xx deliveries beyond the first of an event, with its webhook-id (and,
 * in *other, those under another id). */
size_t chaos_ledger_duplicates(const chaos_ledger *l, size_t *other);

/* Aggregates of the outbox whose second event arrived before its first. */
size_t chaos_ledger_order_violations(const chaos_ledger *l);

void chaos_ledger_free(chaos_ledger *l);

#endif
