/* The command envelope every sender builds (busline pmo send, the HTTP API):
 * the plain-JSON envelope of schemas/envelope.command.avsc around a
 * command's data, and its CloudEvents Kafka headers (binary mode). */
#ifndef BUSLINE_PRODUCERS_COMMAND_ENVELOPE_H
#define BUSLINE_PRODUCERS_COMMAND_ENVELOPE_H

#include "core/err.h"
#include "core/kafka_producer.h"
#include "core/uuid.h"

#include <jansson.h>
#include <stdint.h>

#define BL_COMMAND_HEADER_COUNT 7

/* What goes around the data. Borrowed strings; idempotency_key may be NULL. */
typedef struct bl_command_meta {
    const char *type;            /* "risk.create" */
    const char *organization_id;
    const char *subject;         /* aggregate id, also the Kafka key */
    const char *source;          /* "busline-api", "busline-cli" */
    const char *actor;           /* key id or user id */
    const char *idempotency_key;
} bl_command_meta;

/* The data field holding a command's aggregate id: "<entity>_id" for type
 * "<entity>.<verb>" (risk.create -> risk_id) into out (len bytes).
 * Returns 0, or -1 when type has no entity part or out is too small. */
int bl_command_id_field(const char *type, char *out, size_t len);

/* Builds the envelope of data (borrowed) with id (a new UUID is written
 * into id when id[0] is NUL) and *time_ms set to now. Returns a new
 * reference, or NULL with err. */
json_t *bl_command_envelope_new(const bl_command_meta *meta, const json_t *data,
                                char id[BL_UUID_SIZE], int64_t *time_ms, bl_err *err);

/* Fills out with the CloudEvents headers of a command (ce_id, ce_source,
 * ce_specversion, ce_type, ce_time, ce_subject, content-type). Values are
 * borrowed from meta, id and time_text (a caller buffer of 32 bytes that
 * gets the RFC 3339 time). Returns the header count. */
size_t bl_command_headers(const bl_command_meta *meta, const char *id, int64_t time_ms,
                          char time_text[32], bl_kafka_header out[BL_COMMAND_HEADER_COUNT]);

#endif
