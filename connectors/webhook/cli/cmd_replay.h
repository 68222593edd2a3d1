/* The replay parts of `busline webhooks`:
 *   enable ID --replay-since T   enables, then replays what ID missed since T
 *   replay-requests              carries out the waiting replay jobs once
 * Both read events from Kafka (BUSLINE_KAFKA_BROKERS; --topics, default
 * every events.* topic) and their schemas from the registry tables of the
 * same PostgreSQL (no registry server needed). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_REPLAY_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_REPLAY_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/config.h"
#include "core/pg_pool.h"

/* Settings the replay actions read (ended by {0}); add them to the
 * endpoint actions' config. */
extern const bl_setting bl_cmd_replay_settings[];

/* The --replay-since time of cfg into *since_ms (0 when not given).
 * Returns 0, or -1 after printing why (not an RFC 3339 time in the past). */
int bl_cmd_replay_since(const bl_config *cfg, int64_t *since_ms);

/* Replays endpoint id since since_ms and prints the counts. Returns the
 * exit code (0 done, 1 failed). */
int bl_cmd_replay_endpoint(const bl_config *cfg, bl_pg_pool *pool, bl_webhook_store *store, const char *id,
                           int64_t since_ms);

/* Carries out every waiting replay job (workers/replay_jobs.h) and prints
 * how many. Returns the exit code. */
int bl_cmd_replay_requests(const bl_config *cfg, bl_pg_pool *pool, bl_webhook_store *store);

#endif
