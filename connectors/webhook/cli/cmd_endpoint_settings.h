/* The settings (flags and environment variables) every endpoint action of
 * `busline webhooks` reads, kept apart from the actions that use them. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_SETTINGS_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_SETTINGS_H

#include "core/config.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

/* The table for bl_config_add, ended by a zeroed entry. Static data, borrowed. */
extern const bl_setting bl_endpoint_settings[];

/* Whether setting name of cfg was given (a flag or the environment), not a
 * default. */
bool bl_cli_setting_given(const bl_config *cfg, const char *name);

/* Parses the JSON text of --flag into *out (a new reference, the
 * caller's). Returns 0, or -1 with err naming the flag and where the JSON
 * breaks. */
int bl_cli_json_flag(const char *flag, const char *text, json_t **out, bl_err *err);

#endif
