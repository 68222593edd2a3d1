/* Replay of what one webhook endpoint missed: after it was disabled (by
 * its health or by hand) and enabled again, its owner may ask for the
 * events since a time. The event topics are read once from that time to
 * their current end (consumers/topic_scan.h, no group commits), each event
 * is decoded and matched against this endpoint alone with the fan-out's own
 * rule (endpoint_match.h), and each match is produced to deliveries.webhook
 * exactly as the fan-out would (delivery.h: same body, webhook-id = the
 * event id), so a receiver that already had one drops the duplicate.
 *
 * The endpoint must be active: the delivery workers drop deliveries of a
 * disabled endpoint, so replaying to one would lose the events again. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_REPLAY_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/err.h"
#include "schemas/codec.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bl_webhook_replay_opts {
    const char *brokers;              /* required */
    bl_webhook_store *store;          /* required: reads the endpoint; borrowed */
    bl_schema_cache *schemas;         /* required: decodes events; borrowed */
    const char *const *topics;        /* event topics; NULL: every events.* topic on the broker */
    size_t n_topics;
    const char *deliveries_topic;     /* NULL: deliveries.webhook */
    int timeout_ms;                   /* longest the scan may take; 0: 60000 */
} bl_webhook_replay_opts;

/* What a replay did. */
typedef struct bl_webhook_replay_counts {
    long scanned;   /* events read in the window */
    long matched;   /* events this endpoint takes */
    long produced;  /* deliveries the broker acknowledged (== matched on success) */
    long skipped;   /* unreadable events (bad bytes, unknown schema): logged, not replayed */
} bl_webhook_replay_counts;

/* Replays to endpoint_id every event of o's topics with a timestamp at or
 * after since_ms (unix ms, > 0) that the endpoint takes. out (may be NULL)
 * gets the counts, also on failure (what was done before it). Returns 0, or
 * -1 with err: BL_ENOTFOUND (no such endpoint), BL_ECONFLICT (disabled
 * endpoint), BL_EINVAL (bad since), a Kafka or registry error (a registry
 * that does not answer fails the replay rather than skipping events). */
int bl_webhook_replay(const bl_webhook_replay_opts *o, const char *endpoint_id, int64_t since_ms,
                      bl_webhook_replay_counts *out, bl_err *err);

#endif
