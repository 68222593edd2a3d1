/* /v1/webhooks/replays: replay jobs of the caller's organization (store/
 * replay_job_rows.h, carried out by the webhook fan-out role): start one
 * over a window to one webhook or to all, see its progress, list them,
 * cancel one. What route_webhooks.c's enable-with-replay shares with them. */
#ifndef BUSLINE_API_ROUTES_WEBHOOK_REPLAY_API_H
#define BUSLINE_API_ROUTES_WEBHOOK_REPLAY_API_H

#include "api/server.h"
#include "connectors/webhook/store/replay_job_rows.h"

#include <jansson.h>

/* Records a job of req's organization as req's caller over [since_ms,
 * until_ms] (until 0: now) to endpoint_id (NULL: every active webhook) via
 * st (borrowed). Returns 0, or -1 with err as bl_replay_job_request. */
int bl_api_replay_job_request(const bl_api_request *req, bl_webhook_store *st, const char *endpoint_id,
                              int64_t since_ms, int64_t until_ms, bl_replay_job *out, bl_err *err);

/* j as the API shows it (new reference, or NULL when out of memory). */
json_t *bl_api_replay_job_json(const bl_replay_job *j);

/* The replay routes, registered by bl_api_routes_webhooks before
 * /v1/webhooks/:id. */
extern const bl_api_route bl_api_webhook_replay_routes[];
extern const size_t bl_api_webhook_replay_route_count;

#endif
