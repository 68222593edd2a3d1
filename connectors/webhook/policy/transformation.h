/* A webhook endpoint's payload transformation (its `transformation`
 * setting): one TransformationRule of the custom-API document (seeds/002,
 * connectors/transform/transform.h), checked whole when the endpoint is
 * saved (it compiles and every test case passes), then applied by the
 * delivery worker to the JSON body before it is signed, so v1, v1a and the
 * legacy signatures cover the bytes sent. The test route of the API runs it
 * on a sample event. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_POLICY_TRANSFORMATION_H
#define BUSLINE_CONNECTORS_WEBHOOK_POLICY_TRANSFORMATION_H

#include "connectors/transform/transform.h"
#include "core/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BL_WEBHOOK_TRANSFORMATION_TEXT_MAX (256 * 1024) /* the rule, as compact JSON bytes */

/* Checks rule (borrowed): a JSON object of at most
 * BL_WEBHOOK_TRANSFORMATION_TEXT_MAX bytes that compiles and whose test
 * cases all pass. Every problem goes into problems (borrowed object) as
 * field -> message, the field being prefix ("transformation") or, for a
 * failed test case, "<prefix>.testCases[i]". Returns 0 when there was
 * none, -1 when problems got an entry. */
int bl_webhook_transformation_check(const json_t *rule, const char *prefix, json_t *problems);

/* bl_webhook_transformation_check with the first problem in err (BL_EINVAL,
 * "transformation: ..."); then compiles rule for use. Returns the compiled
 * rule (free with bl_transform_free), or NULL with err. */
bl_transform *bl_webhook_transformation_compile(const json_t *rule, bl_err *err);

/* Applies t to body (JSON text of body_len bytes, borrowed), lending now_ms
 * to now(). The output must not be null (a filter that dropped the event);
 * the engine bounds it to BL_TRANSFORM_OUTPUT_MAX bytes (the 1 MiB of
 * BL_WEBHOOK_PAYLOAD_MAX). Returns
 * the new body (NUL-terminated; caller frees with free) with *out_len set,
 * or NULL with err ("transformation: ...") and, when problems is non-NULL,
 * *problems as bl_transform_apply_ex gives it (a new reference or NULL). */
char *bl_webhook_transformation_apply(const bl_transform *t, const char *body, size_t body_len, int64_t now_ms,
                                      size_t *out_len, json_t **problems, bl_err *err);

#endif
