/* Carrying out webhook replay requests (see replay_requests.h); their rows
 * are claimed and marked through store/replay_request_rows.h. */
#include "connectors/webhook/workers/replay_requests.h"

#include "connectors/webhook/store/replay_request_rows.h"
#include "core/log.h"
#include "core/ticker.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STALE_S 600
#define DEFAULT_INTERVAL_MS 2000

/* Checks the request's organization against the endpoint's: a row names
 * both, and an endpoint id of another organization is never replayed. */
static int same_organization(const bl_webhook_replay_requests_opts *o, const bl_replay_request_row *c,
                             bl_err *err)
{
    bl_webhook_endpoint *e = bl_webhook_store_get(o->replay.store, c->endpoint_id, err);
    if (!e)
        return -1;
    int ok = strcmp(e->organization_id, c->organization_id) == 0;
    bl_webhook_endpoint_free(e);
    return ok ? 0 : bl_err_set(err, BL_EINVAL, "endpoint %s is not of organization %s", c->endpoint_id,
                               c->organization_id);
}

int bl_webhook_replay_requests_run_one(const bl_webhook_replay_requests_opts *o, bl_err *err)
{
    if (!o->pool)
        return bl_err_set(err, BL_EINVAL, "replay requests: a pool is required");
    bl_replay_request_row c;
    int got = bl_replay_request_claim(o->pool, o->stale_after_s > 0 ? o->stale_after_s : DEFAULT_STALE_S, &c, err);
    if (got <= 0)
        return got;
    bl_webhook_replay_counts n = {0};
    bl_err rerr = {0};
    int rc = same_organization(o, &c, &rerr);
    if (rc == 0)
        rc = bl_webhook_replay(&o->replay, c.endpoint_id, c.since_ms, &n, &rerr);
    bl_log_info("replay request handled", BL_FS("request_id", c.id), BL_FS("endpoint_id", c.endpoint_id),
                BL_FS("status", rc == 0 ? "done" : "failed"), BL_FI("replayed", n.produced),
                BL_FS("error", rc == 0 ? "" : rerr.msg));
    int marked = bl_replay_request_finish(o->pool, &c, rc == 0 ? NULL : rerr.msg, n.scanned, n.produced, err);
    return marked == 0 ? 1 : -1;
}

long bl_webhook_replay_requests_run(const bl_webhook_replay_requests_opts *o, long max, bl_err *err)
{
    long handled = 0;
    while (max <= 0 || handled < max) {
        int rc = bl_webhook_replay_requests_run_one(o, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        handled++;
    }
    return handled;
}

struct bl_webhook_replay_poller {
    bl_webhook_replay_requests_opts o;
    bl_ticker *ticker;
};

static void poll_requests(void *arg)
{
    bl_webhook_replay_poller *p = arg;
    bl_err err = {0};
    if (bl_webhook_replay_requests_run(&p->o, 0, &err) < 0)
        bl_log_warn("replay requests: not handled", BL_FS("error", err.msg));
}

bl_webhook_replay_poller *bl_webhook_replay_poller_start(const bl_webhook_replay_requests_opts *o,
                                                         int interval_ms, bl_err *err)
{
    if (!o->pool) {
        bl_err_set(err, BL_EINVAL, "replay poller: a pool is required");
        return NULL;
    }
    bl_webhook_replay_poller *p = calloc(1, sizeof *p);
    if (!p) {
        bl_err_set(err, BL_ENOMEM, "replay poller: out of memory");
        return NULL;
    }
    p->o = *o;
    p->ticker = bl_ticker_start(interval_ms > 0 ? (unsigned)interval_ms : DEFAULT_INTERVAL_MS, BL_TICKER_AT_ONCE,
                                poll_requests, p, "replay poller", err);
    if (!p->ticker) {
        free(p);
        return NULL;
    }
    return p;
}

void bl_webhook_replay_poller_stop(bl_webhook_replay_poller *p)
{
    if (!p)
        return;
    bl_ticker_stop(p->ticker);
    free(p);
}
