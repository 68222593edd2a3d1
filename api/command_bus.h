/* The API's way onto the bus: the command topics of the schema catalog (one
 * per domain, commands.<domain>), each with its deployed name (an optional
 * prefix, for tests), its assembled schema parsed once and its schema id
 * registered in the schema registry, and one idempotent Kafka producer.
 * Without a registry URL or brokers the bus still validates and encodes
 * (schema id 0) but cannot send: that is what the fuzz target uses. */
#ifndef BUSLINE_API_COMMAND_BUS_H
#define BUSLINE_API_COMMAND_BUS_H

#include "core/err.h"
#include "core/kafka_producer.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_api_command_bus bl_api_command_bus;

typedef struct bl_api_command_bus_opts {
    const char *schemas_dir;  /* NULL = bl_catalog_default_dir() */
    const char *registry_url; /* NULL = not registered, cannot send */
    const char *brokers;      /* NULL = cannot send */
    const char *topic_prefix; /* prepended to commands.<domain>; NULL = none */
    int ack_timeout_ms;       /* 0 = 10000 */
} bl_api_command_bus_opts;

/* Loads the catalog, parses every command topic's schema and, when a
 * registry URL is given, registers it under "<deployed topic>-value"; makes
 * the producer when brokers are given. Returns NULL with err. */
bl_api_command_bus *bl_api_command_bus_new(const bl_api_command_bus_opts *opts, bl_err *err);

/* Flushes the producer and frees. Accepts NULL. */
void bl_api_command_bus_free(bl_api_command_bus *b);

/* The catalog, borrowed for b's life. */
const bl_catalog *bl_api_command_bus_catalog(const bl_api_command_bus *b);

/* Whether commands can be sent (registry and brokers configured). */
bool bl_api_command_bus_can_send(const bl_api_command_bus *b);

/* The deployed topic of msg's command topic (borrowed), or NULL. */
const char *bl_api_command_bus_topic(const bl_api_command_bus *b, const bl_catalog_msg *msg);

/* The assembled schema (Avro JSON) of msg's command topic, borrowed, or NULL. */
const json_t *bl_api_command_bus_schema_json(const bl_api_command_bus *b, const bl_catalog_msg *msg);

/* Validates and encodes envelope (plain JSON, see producers/commands/command_envelope.h)
 * of command msg in the Confluent wire format into *bytes (caller free()s).
 * A value the schema refuses fails with BL_EINVAL and a message starting
 * with its JSON path ("$.data.severity: ..."). Returns 0 or -1 with err. */
int bl_api_command_bus_encode(bl_api_command_bus *b, const bl_catalog_msg *msg,
                              const json_t *envelope, uint8_t **bytes, size_t *len, bl_err *err);

/* Produces one encoded command to msg's topic keyed by key and waits for the
 * broker's ack. Returns 0, or -1 with err (BL_ETIMEOUT: it may still land). */
int bl_api_command_bus_send(bl_api_command_bus *b, const bl_catalog_msg *msg, const char *key,
                            const uint8_t *bytes, size_t len, const bl_kafka_header *headers,
                            size_t n_headers, bl_err *err);

#endif
