/* bl_outbox_append: checks the event, then calls the SQL function
 * busline_outbox_append (migrations/010_outbox.sql), which serialises
 * appenders per aggregate and notifies the relay. */
#include "busline/outbox.h"

#include "core/crypto.h"
#include "core/pg_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APPEND_SQL                                                                     \
    "SELECT busline_outbox_append($1, $2, $3, $4, $5::integer, $6::bytea, $7, $8, $9, " \
    "$10, $11)"

static int check_text(const char *value, const char *name, int required, bl_err *err)
{
    if (!value) {
        if (required)
            return bl_err_set(err, BL_EINVAL, "outbox: %s is required", name);
        return 0;
    }
    size_t len = strnlen(value, BL_OUTBOX_TEXT_MAX + 1);
    if (required && len == 0)
        return bl_err_set(err, BL_EINVAL, "outbox: %s is empty", name);
    if (len > BL_OUTBOX_TEXT_MAX)
        return bl_err_set(err, BL_EINVAL, "outbox: %s is longer than %d bytes", name,
                          BL_OUTBOX_TEXT_MAX);
    return 0;
}

/* The payload must already be in the Confluent wire format for schema_id,
 * so that any Confluent consumer can decode what the relay sends. */
static int check_payload(const bl_outbox_event *ev, bl_err *err)
{
    if (ev->schema_id <= 0)
        return bl_err_set(err, BL_EINVAL, "outbox: schema_id %d is not a registry id",
                          (int)ev->schema_id);
    if (!ev->payload || ev->payload_len < 5)
        return bl_err_set(err, BL_EINVAL,
                          "outbox: payload of %zu bytes is not Confluent wire format "
                          "(magic byte and schema id)", ev->payload ? ev->payload_len : 0);
    if (ev->payload_len > BL_OUTBOX_PAYLOAD_MAX)
        return bl_err_set(err, BL_EINVAL, "outbox: payload of %zu bytes is over %d",
                          ev->payload_len, BL_OUTBOX_PAYLOAD_MAX);
    const unsigned char *p = ev->payload;
    if (p[0] != 0)
        return bl_err_set(err, BL_EINVAL, "outbox: payload magic byte is %u, not 0", p[0]);
    uint32_t id = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
    if (id != (uint32_t)ev->schema_id)
        return bl_err_set(err, BL_EINVAL, "outbox: payload carries schema id %u, event says %d",
                          id, (int)ev->schema_id);
    return 0;
}

static int check_event(const bl_outbox_event *ev, bl_err *err)
{
    if (!ev)
        return bl_err_set(err, BL_EINVAL, "outbox: no event");
    if (check_text(ev->aggregate_type, "aggregate_type", 1, err) != 0 ||
        check_text(ev->aggregate_id, "aggregate_id", 1, err) != 0 ||
        check_text(ev->event_type, "event_type", 1, err) != 0 ||
        check_text(ev->topic, "topic", 1, err) != 0 ||
        check_text(ev->source, "source", 1, err) != 0 ||
        check_text(ev->id, "id", 0, err) != 0 || check_text(ev->subject, "subject", 0, err) != 0 ||
        check_text(ev->time, "time", 0, err) != 0 ||
        check_text(ev->content_type, "content_type", 0, err) != 0)
        return -1;
    if (ev->id && ev->id[0] == '\0')
        return bl_err_set(err, BL_EINVAL, "outbox: id is empty (NULL generates one)");
    return check_payload(ev, err);
}

/* Writes bytes as a bytea hex literal ("\x0a1b...") into a new string. */
static char *bytea_hex(const void *data, size_t len)
{
    char *out = malloc(2 * len + 3);
    if (!out)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    bl_hex_encode(data, len, out + 2);
    return out;
}

int bl_outbox_append(PGconn *conn, const bl_outbox_event *ev, bl_err *err)
{
    if (!conn)
        return bl_err_set(err, BL_EINVAL, "outbox: no connection");
    /* Outside a transaction the event would be committed on its own, apart
     * from the state change it describes: exactly what the outbox prevents. */
    PGTransactionStatusType tx = PQtransactionStatus(conn);
    if (tx == PQTRANS_IDLE)
        return bl_err_set(err, BL_EINVAL,
                          "outbox: append needs an open transaction (BEGIN first), so the "
                          "event commits with the change it describes");
    if (tx == PQTRANS_INERROR)
        return bl_err_set(err, BL_EINVAL, "outbox: the transaction has failed; roll it back");
    if (tx != PQTRANS_INTRANS)
        return bl_err_set(err, BL_EINVAL, "outbox: connection is busy or broken");
    if (check_event(ev, err) != 0)
        return -1;

    char schema_id[16];
    snprintf(schema_id, sizeof schema_id, "%d", (int)ev->schema_id);
    char *payload = bytea_hex(ev->payload, ev->payload_len);
    if (!payload)
        return bl_err_set(err, BL_ENOMEM, "outbox: out of memory for a %zu-byte payload",
                          ev->payload_len);
    const char *params[11] = {ev->aggregate_type, ev->aggregate_id, ev->event_type, ev->topic,
                              schema_id, payload, ev->id, ev->source, ev->time, ev->subject,
                              ev->content_type};
    int rc = bl_pg_exec_cmd(conn, APPEND_SQL, 11, params, err);
    free(payload);
    if (rc != 0)
        return bl_err_wrap(err, "outbox: append %s/%s", ev->aggregate_type, ev->aggregate_id);
    return 0;
}
