/* A small domain service publishing through busline's outbox: it marks an
 * order shipped in its own table and, in the SAME transaction, appends the
 * event order.shipped to the outbox (bl_outbox_append, busline/outbox.h).
 * `busline relay` then publishes it to Kafka topic events.shop.order, keyed
 * by the order id. Built against the installed SDK (see README.md):
 *
 *   cc order_service.c $(pkg-config --cflags --libs busline) -o order_service
 *   ./order_service postgresql://... O-1001 [SCHEMA_ID]
 *
 * SCHEMA_ID (default 1) is the id the schema registry gave the topic's value
 * schema; a real service registers its schema at start and keeps the id. */
#include <busline/outbox.h>

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_MAX 1024

/* The service's own state. A real service creates it with a migration. */
#define ORDERS_TABLE_SQL                                                  \
    "CREATE TABLE IF NOT EXISTS example_orders ("                         \
    " id text PRIMARY KEY, status text NOT NULL,"                         \
    " updated_at timestamptz NOT NULL DEFAULT now())"
#define SHIP_SQL                                                          \
    "INSERT INTO example_orders (id, status) VALUES ($1, 'shipped')"      \
    " ON CONFLICT (id) DO UPDATE SET status = 'shipped', updated_at = now()"

/* Appends an Avro string (zig-zag varint length, then the bytes) at out + at.
 * Returns the new length, or 0 when it does not fit in cap bytes. */
static size_t avro_put_string(uint8_t *out, size_t at, size_t cap, const char *s)
{
    size_t len = strlen(s);
    uint64_t zigzag = (uint64_t)len << 1; /* a length is never negative */
    do {
        if (at >= cap)
            return 0;
        uint8_t byte = zigzag & 0x7f;
        zigzag >>= 7;
        out[at++] = byte | (zigzag ? 0x80 : 0);
    } while (zigzag);
    if (cap - at < len)
        return 0;
    memcpy(out + at, s, len);
    return at + len;
}

/* The event's value in the Confluent wire format: magic byte 0, the schema
 * id (4 bytes, big-endian), then the Avro binary of the record
 * {"order_id": string, "status": string}. Returns its length, 0 if too big. */
static size_t encode_order_shipped(uint8_t out[EVENT_MAX], int32_t schema_id, const char *order_id)
{
    out[0] = 0;
    out[1] = (uint8_t)(schema_id >> 24);
    out[2] = (uint8_t)(schema_id >> 16);
    out[3] = (uint8_t)(schema_id >> 8);
    out[4] = (uint8_t)schema_id;
    size_t len = avro_put_string(out, 5, EVENT_MAX, order_id);
    return len ? avro_put_string(out, len, EVENT_MAX, "shipped") : 0;
}

/* Runs sql (no rows expected); returns 0, or -1 after printing the error. */
static int exec_ok(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "order_service: %s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Marks order_id shipped and appends its event, both or neither. */
static int ship_order(PGconn *conn, const char *order_id, int32_t schema_id)
{
    uint8_t payload[EVENT_MAX];
    size_t payload_len = encode_order_shipped(payload, schema_id, order_id);
    if (payload_len == 0) {
        fprintf(stderr, "order_service: order id too long\n");
        return -1;
    }
    if (exec_ok(conn, "BEGIN") != 0)
        return -1;
    const char *params[1] = {order_id};
    PGresult *r = PQexecParams(conn, SHIP_SQL, 1, NULL, params, NULL, NULL, 0);
    int updated = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!updated)
        fprintf(stderr, "order_service: update: %s", PQerrorMessage(conn));
    PQclear(r);
    char subject[EVENT_MAX];
    snprintf(subject, sizeof subject, "orders/%s", order_id);
    bl_outbox_event ev = {
        .aggregate_type = "order",
        .aggregate_id = order_id,
        .event_type = "order.shipped",
        .topic = "events.shop.order",
        .schema_id = schema_id,
        .payload = payload,
        .payload_len = payload_len,
        .source = "//shop.example.com/orders",
        .subject = subject,
    };
    bl_err err = {0};
    if (!updated || bl_outbox_append(conn, &ev, &err) != 0) {
        if (updated)
            fprintf(stderr, "order_service: %s\n", err.msg);
        exec_ok(conn, "ROLLBACK");
        return -1;
    }
    return exec_ok(conn, "COMMIT"); /* from here the relay will publish it */
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: order_service POSTGRES_URL ORDER_ID [SCHEMA_ID]\n");
        return 2;
    }
    int32_t schema_id = argc == 4 ? (int32_t)atoi(argv[3]) : 1;
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "order_service: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    int rc = exec_ok(conn, ORDERS_TABLE_SQL) == 0 && ship_order(conn, argv[2], schema_id) == 0 ? 0 : 1;
    if (rc == 0)
        printf("order %s shipped; order.shipped is in the outbox\n", argv[2]);
    PQfinish(conn);
    return rc;
}
