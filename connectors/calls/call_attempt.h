/* One attempt of a call and what it says, shared by the run loop
 * (call_run.c) and the attempt makers (call_request.c, call_bus.c). */
#ifndef BUSLINE_CONNECTORS_CALLS_CALL_ATTEMPT_H
#define BUSLINE_CONNECTORS_CALLS_CALL_ATTEMPT_H

#include "connectors/calls/call_runner_internal.h"
#include "core/uuid.h"

typedef enum bl_call_attempt_kind {
    BL_CALL_ANSWERED = 0, /* 2xx (bus: acknowledged) */
    BL_CALL_RETRYABLE,    /* transport error, 408, 429, 5xx, bus failure */
    BL_CALL_FAILED,       /* another 4xx, GraphQL errors, answer too large */
} bl_call_attempt_kind;

typedef struct bl_call_outcome {
    bl_call_attempt_kind kind;
    bool service_failure;    /* the service (not the request) failed: breaker and fallback */
    bool unreported;
    bool connection_reused;  /* http: the exchange reused an open connection */         /* bus: no report yet for the produce, which may still land */
    int status;
    json_t *body;            /* new reference or NULL */
    char retry_after[BL_HTTP_HEADER_VALUE_MAX];
    int err_code;            /* for a failure: BL_EHTTP, BL_ETIMEOUT, BL_EKAFKA */
    char error[BL_ERR_MSG_MAX];
} bl_call_outcome;

/* One exchange of c (http, graphql, webhook) with the URL template
 * url_template (the endpoint or the alternative). key: the idempotency key
 * (webhook-id; required for a webhook). Returns 0 with *out filled, or -1
 * with err when the attempt could not be made (a placeholder without a
 * value, an address the guard now refuses). */
int bl_call_attempt_http(bl_call_runner *r, const bl_call *c, const char *url_template, const json_t *input,
                         const char *key, bl_call_outcome *out, bl_err *err);

/* A bus message of c for input, prepared once for all its attempts. */
typedef struct bl_call_bus_msg {
    char id[BL_UUID_SIZE];
    char subject[256];
    const char *topic;   /* deployed, borrowed from the runner's codec */
    uint8_t *bytes;
    size_t len;
    bl_kafka_header headers[BL_KAFKA_MAX_HEADERS];
    size_t n_headers;
    char time_text[32];
} bl_call_bus_msg;

/* Builds and encodes the envelope (id derived from c and key, see
 * call_bus.c). Returns 0 or -1 with err (BL_EINVAL: the data does not fit
 * the schema, naming its JSON path). Clear with bl_call_bus_msg_clear. */
int bl_call_bus_prepare(bl_call_runner *r, const bl_call *c, const json_t *input, const char *key,
                        bl_call_bus_msg *m, bl_err *err);
void bl_call_bus_msg_clear(bl_call_bus_msg *m);

/* The answer body of a produced message: {"id","topic","partition","offset"}. */
json_t *bl_call_bus_answer(const bl_call_bus_msg *m, int32_t partition, int64_t offset);

/* The produced-cache key of c and key (malloc'd) or NULL. */
char *bl_call_bus_produced_key(const bl_call *c, const char *key);

/* Frees what out holds. */
void bl_call_outcome_clear(bl_call_outcome *out);

#endif
