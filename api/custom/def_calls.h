/* An endpoint's integrations[] (document 002's IntegrationConfig), compiled
 * by connectors/calls and run in order for each request. */
#ifndef BUSLINE_API_CUSTOM_DEF_CALLS_H
#define BUSLINE_API_CUSTOM_DEF_CALLS_H

#include "api/custom/custom.h"
#include "connectors/calls/call.h"

typedef struct bl_custom_calls bl_custom_calls;

/* Compiles integrations (borrowed; NULL or [] = none) for organization
 * org_id; ids must be unique. Every problem is added to problems
 * ("integrations[1].endpoint": ...). Returns the calls, or NULL after a
 * problem (or with no integrations at all: NULL is then a valid none). */
bl_custom_calls *bl_custom_calls_compile(const json_t *integrations, const char *org_id, const bl_custom_env *env,
                                         json_t *problems);

void bl_custom_calls_free(bl_custom_calls *c);

/* Runs every call in order in the caller's thread (blocking), each with
 * input (an object, borrowed) whose "integrations" member holds the
 * earlier calls' answers by id; request_id makes their idempotency keys.
 * Adds each answer to input's "integrations". Returns 0, or -1 with err and
 * *failed (new reference) describing the call that failed:
 * {integration, status, error, attempts}. c may be NULL (no calls). */
int bl_custom_calls_run(const bl_custom_calls *c, bl_call_runner *runner, json_t *input, const char *request_id,
                        json_t **failed, bl_err *err);

#endif
