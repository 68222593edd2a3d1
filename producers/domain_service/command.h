/* What a domain service loop (producers/domain_service/service.h) hands a
 * domain, and what the domain hands back: the decoded command, the events it
 * derived, and the rules that name the domain (its catalog name, its
 * processed-commands table, its apply function). */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_COMMAND_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_COMMAND_H

#include "core/err.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* A command as the domain sees it. Every pointer is borrowed. */
typedef struct bl_domain_command {
    const char *id;              /* command id (UUID) */
    const char *type;            /* e.g. "risk.create" */
    const char *organization_id; /* tenant */
    const char *actor;           /* who asked; may be NULL */
    int64_t time_ms;             /* when it was accepted */
    const json_t *data;          /* the command record, a JSON object */
    const char *api_prefix;      /* where the domain's API surface is mounted ("/api"),
                                    for links in events; NULL: the domain's default */
} bl_domain_command;

/* One derived event: its type (e.g. "risk.escalated"), the aggregate id it
 * is about (becomes subject and Kafka key) and its data record (owned).
 * A timer's event (bl_domain_timers_fn) also names its organization and the
 * seed its id is derived from, since no command id is there to derive it;
 * both NULL for a command's events. */
typedef struct bl_domain_event {
    char *type;
    char *subject;
    json_t *data;
    char *organization_id;
    char *id_seed;
} bl_domain_event;

/* The events one command caused, in order. Zero-initialise; free with
 * bl_domain_events_clear. */
typedef struct bl_domain_events {
    bl_domain_event *items;
    size_t count;
    size_t cap;
} bl_domain_events;

/* Appends an event; data is stolen (decref'd even on failure). Returns 0, or
 * -1 with err (BL_ENOMEM). */
int bl_domain_events_add(bl_domain_events *ev, const char *type, const char *subject, json_t *data,
                         bl_err *err);

/* Appends a timer's event (see bl_domain_event): as bl_domain_events_add,
 * with organization_id and id_seed (the same seed on a retry derives the
 * same event id, so consumers drop a repeat) copied. */
int bl_domain_events_add_timed(bl_domain_events *ev, const char *type, const char *subject,
                               const char *organization_id, const char *id_seed, json_t *data,
                               bl_err *err);

/* Frees every event and empties the list (reusable afterwards). */
void bl_domain_events_clear(bl_domain_events *ev);

/* Applies cmd on conn (inside the loop's open transaction) and appends its
 * events to out. Returns 0, or -1 with err: BL_EINVAL, BL_ENOTFOUND,
 * BL_ECONFLICT for the command's fault, BL_EPG for PostgreSQL's. */
typedef int (*bl_domain_apply_fn)(PGconn *conn_in_tx, const bl_domain_command *cmd,
                                  bl_domain_events *out, bl_err *err);

/* One aggregate of a domain: the entity a command type starts with
 * ("risk" in "risk.create") and the function applying its verbs (verb:
 * "create"...; same contract as bl_domain_apply_fn). */
typedef struct bl_domain_aggregate {
    const char *entity;
    int (*apply)(PGconn *conn_in_tx, const bl_domain_command *cmd, const char *verb,
                 bl_domain_events *out, bl_err *err);
} bl_domain_aggregate;

/* Checks cmd's envelope (type, organization_id, data an object) and hands it
 * to the aggregate of aggs (n of them) its type names. Returns what that
 * returns, or -1 with err (BL_EINVAL) for a bad envelope or an unknown type;
 * messages start with domain. */
int bl_domain_dispatch(const char *domain, const bl_domain_aggregate *aggs, size_t n,
                       PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                       bl_err *err);

/* A domain's durable timers (e.g. a reminder due before an event starts),
 * kept in its own tables: claims at most limit of those due now with FOR
 * UPDATE SKIP LOCKED (so replicas share them and none fires twice), marks
 * them fired, and appends their events with bl_domain_events_add_timed, all
 * on conn inside the loop's open transaction (committed with the outbox
 * rows, rolled back on failure so nothing is lost). Returns how many timers
 * fired, or -1 with err. */
typedef int (*bl_domain_timers_fn)(PGconn *conn_in_tx, int limit, bl_domain_events *out, bl_err *err);

/* What names a domain to the shared loop. Static data of the domain. */
typedef struct bl_domain_rules {
    const char *domain;          /* catalog domain, e.g. "pmo": commands.<domain> */
    const char *processed_table; /* its processed-commands table (command_id,
                                    organization_id, command_type,
                                    idempotency_key, events) */
    bl_domain_apply_fn apply;
    bl_domain_timers_fn fire_due; /* NULL: the domain has no timers */
    const char *api_prefix_setting; /* the role setting naming where its API surface is
                                       mounted (commands carry it as api_prefix); NULL: none */
} bl_domain_rules;

/* Whether an error from an apply function is the command's fault (it will
 * fail the same way again: send it to the dead-letter topic) rather than the
 * infrastructure's (retry). PostgreSQL data errors (SQLSTATE classes 22 and
 * 23) count as the command's. Returns 1 or 0; *error_class gets a short
 * name for the DLQ header: "invalid", "not_found", "conflict" or "infra". */
int bl_domain_error_is_permanent(const bl_err *err, const char **error_class);

#endif
