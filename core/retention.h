/* Retention of the tables that only grow (delivery log, request log, call
 * log, idempotency records, rate counters, used OAuth states, expired
 * refresh tokens, finished replay requests, connector "done" marks): rows
 * older than each table's keep period are deleted in small batches, each
 * its own statement, so no long lock and no long transaction. `busline
 * prune` runs it (a Kubernetes CronJob in production). */
#ifndef BUSLINE_CORE_RETENTION_H
#define BUSLINE_CORE_RETENTION_H

#include "core/err.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* One table's rule: rows whose time_column is older than keep_ms (and that
 * match condition, when given) go. Strings are SQL fixed at build time. */
typedef struct bl_retention_rule {
    const char *name;        /* setting name, e.g. "deliveries" */
    const char *flag;        /* "keep-deliveries" */
    const char *env;         /* "BUSLINE_KEEP_DELIVERIES" */
    const char *table;
    const char *time_column;
    const char *condition;   /* extra SQL condition, or NULL */
    const char *default_keep; /* duration text, e.g. "30d" */
    const char *what;        /* for --help */
} bl_retention_rule;

/* The rules busline applies, in order, ending with a zeroed entry. */
const bl_retention_rule *bl_retention_rules(void);

/* Deletes rule's expired rows from conn in batches of batch rows (>= 1);
 * with dry_run, only counts them. Returns how many rows went (or would go),
 * or -1 with err naming the table. */
int64_t bl_retention_prune(PGconn *conn, const bl_retention_rule *rule, int64_t keep_ms, int batch, int dry_run,
                           bl_err *err);

#endif
