/* A command sent from a documented surface's route (api/fieldservice/,
 * api/attendance/) with a bounded wait for the domain's outcome: one path
 * (Idempotency-Key honoured, the bus's failures as 503, a pending outcome
 * as 202 with a status URL, a refusal as the surface's error), each
 * surface giving its own words through bl_api_wait_answers. */
#ifndef BUSLINE_API_COMMAND_WAIT_H
#define BUSLINE_API_COMMAND_WAIT_H

#include "api/command_send.h"
#include "api/server.h"

#include <jansson.h>

/* How one surface answers what is not a success. */
typedef struct bl_api_wait_answers {
    bl_api_surface surface;       /* its prefix starts the status URL */
    const char *in_progress_code; /* the 409's code (NULL: named after the status) */
    const char *log_msg;          /* what an unexpected failure is logged as */
    /* Adds message under field to *errors (an object made on first use). */
    void (*field_error)(json_t **errors, const char *field, const char *message);
    /* Answers 202 for a command not answered within the bound (Location is
     * set already): subject its aggregate, status_url <prefix>/commands/<id>. */
    int (*pending)(bl_http_response *resp, const char *subject, const char *command_id, const char *status_url);
    /* Answers a refusal: why is the domain's reason without its "<type>:
     * <subject>: " head; error_class the outcome's ("not_found", ...);
     * refused_field as the route gave it (may be NULL). */
    int (*refused)(const bl_api_request *req, bl_http_response *resp, const char *type, const char *why,
                   const char *error_class, const char *refused_field);
} bl_api_wait_answers;

/* What a command's outcome came to. */
typedef enum bl_api_wait_result {
    BL_API_WAIT_ANSWERED = 0, /* resp already holds the answer (an error, or the 202) */
    BL_API_WAIT_APPLIED,      /* the domain applied it: the route answers with the resource */
    BL_API_WAIT_FAILED,       /* unexpected failure: the handler returns -1 */
} bl_api_wait_result;

/* Sends command type with data (borrowed) about aggregate subject for the
 * caller's organization, honouring Idempotency-Key (a bad one, or one used
 * for another request: 422 VALIDATION_ERROR under "Idempotency-Key"; one
 * still in progress: 409; a replay answers about the first request's
 * aggregate, which applied_id gets, else subject; applied_len bytes), waits
 * at most the server's command_wait_ms for the outcome and answers what is
 * not a success through a: 503 when the bus cannot take it, a->pending past
 * the bound, a->refused for a refusal. */
bl_api_wait_result bl_api_command_send_wait(bl_api_commands *commands, const bl_api_request *req,
                                            bl_http_response *resp, const bl_api_wait_answers *a,
                                            const char *type, const char *subject, const json_t *data,
                                            const char *refused_field, char *applied_id, size_t applied_len);

#endif
