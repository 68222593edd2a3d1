/* Sending one command of the schema catalog and learning its outcome, for
 * every route that puts commands on the bus (/v1's command routes, the
 * field-service surface): the envelope, the Idempotency-Key claim in
 * api_commands (one command per key; a retry replays the first answer; a
 * key left 'sending' is taken over; a command without a key gets its row
 * once, after the ack), the produce with Kafka's ack, and the
 * bounded wait for the domain service's outcome (api/command_outcomes.h).
 * One per server, made by the first route file that asks. */
#ifndef BUSLINE_API_COMMAND_SEND_H
#define BUSLINE_API_COMMAND_SEND_H

#include "api/command_bus.h"
#include "api/command_outcomes.h"
#include "api/server.h"
#include "core/crypto.h"
#include "core/uuid.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct bl_api_commands bl_api_commands;

/* The server's sender: its command bus from s's config (topics, registry,
 * brokers) and, when it can send, the outcome listener on the pool's
 * database. Made on the first call (route installation, one thread), freed
 * with s. Returns it (borrowed) or NULL with err. */
bl_api_commands *bl_api_server_commands(bl_api_server *s, bl_err *err);

/* The bus (borrowed), for validation and documentation. */
bl_api_command_bus *bl_api_commands_bus(const bl_api_commands *c);

/* Whether commands can be sent (brokers and registry configured). */
bool bl_api_commands_can_send(const bl_api_commands *c);

/* The fingerprint of a request for its Idempotency-Key (SHA-256 hex of
 * method, path and body). Returns 0 or -1 with err. */
int bl_api_request_fingerprint(const bl_http_request *req, char out[BL_SHA256_HEX_SIZE], bl_err *err);

/* Whether k is an acceptable Idempotency-Key (1 to 255 printable ASCII). */
bool bl_api_idempotency_key_ok(const char *k);

typedef struct bl_api_command_spec {
    const char *type;            /* catalog command type, "client.create" */
    const char *organization_id;
    const char *actor;           /* key or user id; may be NULL */
    const char *subject;         /* the aggregate id: Kafka key and aggregate_id */
    const json_t *data;          /* the command's data record (borrowed) */
    const char *idempotency_key; /* NULL: none */
    const char *fingerprint;     /* the request's (bl_api_request_fingerprint) */
    bool wait;                   /* register for the outcome before producing */
} bl_api_command_spec;

typedef enum bl_api_send_status {
    BL_API_SENT = 0,          /* produced and acknowledged now */
    BL_API_SENT_BEFORE,       /* the key's first request sent it: answer replayed */
    BL_API_KEY_MISMATCH,      /* the key was used for a different request */
    BL_API_KEY_IN_PROGRESS,   /* the key's first request is still sending */
} bl_api_send_status;

/* What a send did. Zero-initialised by bl_api_command_send; cleared with
 * bl_api_sent_command_clear. */
typedef struct bl_api_sent_command {
    bl_api_send_status status;
    char command_id[BL_UUID_SIZE];
    char status_url[96];              /* "/v1/commands/<id>" */
    char aggregate_id[256];           /* the command's subject: spec->subject, or the
                                         first request's for a replay */
    char *answer;                     /* the 202 body (JSON text), new or replayed */
    bool resent;                      /* sent again after a take-over or replayed: an
                                         outcome may exist already */
    bl_api_outcome_waiter *waiter;    /* with spec->wait; bl_api_command_await uses it */
} bl_api_sent_command;

/* Sends spec's command. Returns 0 with *out filled (status says which
 * case), or -1 with err: BL_EINVAL when the data does not fit the schema
 * (the message starts with its JSON path, "$.data.name: ..."),
 * BL_ENOTFOUND for an unknown type, BL_EKAFKA or BL_ETIMEOUT when the bus
 * cannot send or did not acknowledge (retry later), other codes for
 * PostgreSQL's failures. */
int bl_api_command_send(bl_api_commands *c, const bl_api_command_spec *spec, bl_api_sent_command *out,
                        bl_err *err);

/* Waits, at most the server's command_wait_ms, for the outcome of sent (a
 * send with spec->wait); for one sent before, reads the recorded outcome
 * first. Fills *out (kind PENDING when the bound passed) and releases the
 * waiter. Returns 0, or -1 with err when reading the record failed. */
int bl_api_command_await(bl_api_commands *c, bl_api_sent_command *sent, const char *organization_id,
                         bl_api_command_outcome *out, bl_err *err);

/* Releases what sent holds (waiter, answer). Accepts a zeroed one. */
void bl_api_sent_command_clear(bl_api_commands *c, bl_api_sent_command *sent);

/* The status of command_id in organization_id as recorded: a new JSON
 * object {command_id, type, aggregate_id, status: "sending" | "accepted" |
 * "processed" | "refused", accepted_at, processed_at, events, and for a
 * refused one error_class and reason}; the domain's processed-commands
 * table is named by the command's topic. Returns it, or NULL with err
 * (BL_ENOTFOUND: no such command in the organization). */
json_t *bl_api_command_status(bl_api_commands *c, const char *command_id, const char *organization_id,
                              bl_err *err);

#endif
