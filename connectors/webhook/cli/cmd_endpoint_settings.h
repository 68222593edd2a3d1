/* The settings (flags and environment variables) every endpoint action of
 * `busline webhooks` reads, kept apart from the actions that use them. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_SETTINGS_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_SETTINGS_H

#include "core/config.h"

/* The table for bl_config_add, ended by a zeroed entry. Static data, borrowed. */
extern const bl_setting bl_endpoint_settings[];

#endif
