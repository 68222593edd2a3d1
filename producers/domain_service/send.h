/* Sending a domain's commands: turns a command written by a person or a script in
 * plain JSON into a full envelope on commands.<domain> (what `busline <domain> send`
 * does). */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_SEND_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_SEND_H

#include "core/err.h"
#include "core/kafka_producer.h"
#include "producers/domain_service/codec.h"
#include "core/uuid.h"

#include <jansson.h>

/* Largest command file read, in bytes. */
#define BL_DOMAIN_COMMAND_FILE_MAX (1024 * 1024)

/* Who sends, for the fields the input may leave out. Borrowed strings. */
typedef struct bl_domain_sender {
    const char *source; /* envelope source, e.g. "busline-cli" */
    const char *actor;  /* actor when the input names none */
} bl_domain_sender;

/* A prepared command: its id, aggregate id (the Kafka key), time and bytes.
 * Free the bytes with bl_domain_prepared_clear. */
typedef struct bl_domain_prepared {
    char id[BL_UUID_SIZE];
    char subject[256];
    int64_t time_ms;
    bl_domain_wire wire;
} bl_domain_prepared;

/* Builds and encodes the envelope of input, a plain-JSON command
 * {"type", "organization_id", "data"; optionally "subject", "actor",
 * "idempotency_key"}: id is a new UUID, time now, source and actor from
 * sender, subject data.<entity>_id (e.g. data.risk_id for risk.create) unless
 * given. The data is validated against the command's schema. Returns 0 with
 * *out filled, or -1 with err (BL_EINVAL naming the bad field). */
int bl_domain_command_prepare(bl_domain_codec *c, const json_t *input, const bl_domain_sender *sender,
                           bl_domain_prepared *out, bl_err *err);

/* Frees the bytes of p. */
void bl_domain_prepared_clear(bl_domain_prepared *p);

/* Reads the command file at path (at most BL_DOMAIN_COMMAND_FILE_MAX bytes),
 * prepares it and produces it to the codec's commands topic with CloudEvents headers, waiting up
 * to timeout_ms for the broker's ack. id_out gets the command id. Returns 0,
 * or -1 with err naming the file and what is wrong with it. */
int bl_domain_send_file(bl_domain_codec *c, bl_kafka_producer *producer, const char *path, const bl_domain_sender *sender, int timeout_ms,
                     char id_out[BL_UUID_SIZE], bl_err *err);

#endif
