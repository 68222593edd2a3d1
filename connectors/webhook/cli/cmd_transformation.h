/* --transformation FILE of `busline webhooks create|update`: the endpoint's
 * payload transformation (connectors/webhook/policy/transformation.h) read
 * from a JSON file, or "none" to remove it. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_TRANSFORMATION_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_TRANSFORMATION_H

#include "core/err.h"

#include <jansson.h>

/* Reads the TransformationRule in the file at path into *out (a new
 * reference; NULL for "none") and checks it as a save does, printing every
 * problem to stderr. Returns 0, or -1 with err (BL_EINVAL: unreadable, not
 * JSON, too large, or the number of problems). */
int bl_cli_transformation_read(const char *path, json_t **out, bl_err *err);

#endif
