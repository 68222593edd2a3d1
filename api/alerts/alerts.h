/* Alerts on custom endpoints and webhook deliveries (seed document 002's
 * PerformanceAlert/APIAlert, the SmartLeakPro document's thresholds): the
 * rules and alerts live in PostgreSQL (migrations/151_alerts.sql,
 * 180_alert_rules_api.sql); each organization's rules, its copies of the
 * defaults among them, are edited at /v1/alert-rules (route_alert_rules.c)
 * and read by the evaluator at every tick, which opens, updates and
 * resolves the alerts; each opening and
 * resolution is an event on events.ops.alert (alert.opened,
 * alert.resolved) appended to the outbox in the same transaction as the
 * alert's row, so the relay publishes it and nothing is lost.
 *
 * Where the evaluator runs: a thread of every API replica (a ticker), not
 * a role of its own. The API already writes the metrics it reads and holds
 * the pool; a tick is one transaction that first takes
 * pg_try_advisory_xact_lock, so with any number of replicas one evaluates
 * at a time and the others skip that tick (no coordination beyond
 * PostgreSQL, no extra Deployment); and the partial unique index of open
 * alerts makes a second opening impossible even so. */
#ifndef BUSLINE_API_ALERTS_ALERTS_H
#define BUSLINE_API_ALERTS_ALERTS_H

#include "core/err.h"
#include "core/pg_pool.h"

#include <stdint.h>

#define BL_ALERTS_DOMAIN "ops"
#define BL_ALERTS_SOURCE "busline/alerts"
#define BL_ALERTS_LOCK_KEY 0x616c657274LL /* "alert": the tick's advisory lock */

typedef struct bl_alert_evaluator bl_alert_evaluator;

/* What one tick did. */
typedef struct bl_alert_tick {
    int skipped;  /* 1: another evaluator held the lock; nothing done */
    int opened, updated, resolved;
} bl_alert_tick;

/* Returns an evaluator over pool (borrowed, outlives it) whose events go to
 * <topic_prefix>events.ops.alert (prefix may be NULL), their schema loaded
 * from schemas_dir (NULL: the default) and registered through pool; or NULL
 * with err. No thread yet. */
bl_alert_evaluator *bl_alert_evaluator_new(bl_pg_pool *pool, const char *schemas_dir, const char *topic_prefix,
                                           bl_err *err);

/* Starts a thread running a tick every period_ms. Returns 0 or -1 with err. */
int bl_alert_evaluator_start(bl_alert_evaluator *ev, unsigned period_ms, bl_err *err);

/* One evaluation of every rule now, in one transaction; out (may be NULL)
 * says what changed. Returns 0, or -1 with err (nothing changed). */
int bl_alert_evaluate(bl_alert_evaluator *ev, bl_alert_tick *out, bl_err *err);

/* The topic the events go to (borrowed). */
const char *bl_alert_evaluator_topic(const bl_alert_evaluator *ev);

/* Stops the thread (if started) and frees. Accepts NULL. */
void bl_alert_evaluator_free(bl_alert_evaluator *ev);

#endif
