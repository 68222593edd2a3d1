/* busline outbox: publish domain events from your own PostgreSQL transaction.
 *
 * A domain service that changes its state and must tell the rest of the
 * company about it appends the event to the outbox table in the SAME
 * transaction as the change. If the transaction commits, the event is
 * published to Kafka by the relay (`busline relay`) at least once, in commit
 * order per aggregate; if it rolls back, nothing is published. There is no
 * window in which the state changed but the event got lost, or the reverse.
 *
 * What the relay sends for each event (CloudEvents Kafka binding, binary mode):
 *   topic   = ev->topic (must exist; busline never auto-creates topics)
 *   key     = ev->aggregate_id (one aggregate's events stay in order)
 *   value   = ev->payload, unchanged: the Confluent wire format (magic byte 0,
 *             4-byte big-endian ev->schema_id, Avro binary)
 *   headers = ce_id, ce_source, ce_specversion ("1.0"), ce_type
 *             (= ev->event_type), ce_time, ce_subject (when given),
 *             content-type ("application/avro" unless given)
 * A relay restart may send an event twice; both copies carry the same ce_id,
 * which consumers use to drop duplicates.
 *
 * Requirements: the migrations of busline's migrations/ folder applied to the
 * database (`busline migrate`); compile and link with
 * `pkg-config --cflags --libs busline` (the installed SDK: this header, the
 * busline libraries, libpq and the rest they need).
 *
 * Example, inside a service that already holds a libpq connection:
 *
 *     #include <busline/outbox.h>       // cflags: pkg-config --cflags busline
 *
 *     PQclear(PQexec(conn, "BEGIN"));
 *     ... UPDATE risks SET level = 'high' WHERE id = 'R-17' ...
 *     bl_outbox_event ev = {
 *         .aggregate_type = "project",
 *         .aggregate_id = "P-42",
 *         .event_type = "risk.escalated",
 *         .topic = "events.pmo.risk",
 *         .schema_id = 7,
 *         .payload = wire, .payload_len = wire_len,   // magic 0, id 7, Avro
 *         .source = "//pmo.example.com/projects",
 *         .subject = "risks/R-17",
 *     };
 *     bl_err err = {0};
 *     if (bl_outbox_append(conn, &ev, &err) != 0) {
 *         log_error(err.msg);                          // e.g. "outbox: ..."
 *         PQclear(PQexec(conn, "ROLLBACK"));
 *     } else {
 *         PQclear(PQexec(conn, "COMMIT"));             // the event is now due
 *     }
 *
 * Concurrency: appends for one aggregate are serialised (a row lock on the
 * aggregate, held until your transaction ends), so keep transactions that
 * append short. A transaction appending for several aggregates should do so
 * in a stable order (e.g. sorted ids), as with any row lock, to avoid
 * deadlocks with another transaction touching the same aggregates.
 */
#ifndef BUSLINE_OUTBOX_H
#define BUSLINE_OUTBOX_H

#include "busline/err.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text field accepted (aggregate ids, topic, types, source...). */
#define BL_OUTBOX_TEXT_MAX 1024
/* Largest payload accepted: Kafka's default message.max.bytes, minus room
 * for key and headers. */
#define BL_OUTBOX_PAYLOAD_MAX (1000 * 1000)

/* One event to append. Every pointer is borrowed for the call only. */
typedef struct bl_outbox_event {
    const char *aggregate_type; /* required, e.g. "project" */
    const char *aggregate_id;   /* required; the Kafka key */
    const char *event_type;     /* required; ce_type, e.g. "risk.escalated" */
    const char *topic;          /* required, e.g. "events.pmo.risk" */
    int32_t schema_id;          /* required, > 0; must match the payload's */
    const void *payload;        /* required; Confluent wire format */
    size_t payload_len;         /* 5 .. BL_OUTBOX_PAYLOAD_MAX */
    const char *source;         /* required; ce_source, a URI reference */
    const char *id;             /* ce_id; NULL = a generated UUID. Unique. */
    const char *subject;        /* ce_subject; NULL = none */
    const char *time;           /* ce_time (RFC 3339); NULL = now, in UTC */
    const char *content_type;   /* NULL = "application/avro" */
} bl_outbox_event;

/* Appends ev to the outbox inside the transaction open on conn (borrowed;
 * the caller commits or rolls back). Refuses (BL_EINVAL) when conn has no
 * open transaction, when a required field is missing or too long, or when
 * the payload is not Confluent wire format for ev->schema_id. Returns 0, or
 * -1 with err ("outbox: ..."; BL_EPG with the SQLSTATE from PostgreSQL, e.g.
 * 23505 for a ce_id already used). After a BL_EPG failure the transaction is
 * aborted: roll it back. */
int bl_outbox_append(PGconn *conn_in_open_tx, const bl_outbox_event *ev, bl_err *err);

#endif
