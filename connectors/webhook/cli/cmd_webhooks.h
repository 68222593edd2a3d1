/* Entry point of `busline webhooks`: sign, verify, new-secret, and the
 * endpoint actions of cmd_endpoints.h (create, list, show, ...). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_WEBHOOKS_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_WEBHOOKS_H

/* argv[0] is "webhooks", argv[1] the action; returns the exit code: 0 done
 * or verified, 1 failed (verification or signing), 2 usage error. */
int bl_cmd_webhooks(int argc, char **argv);

#endif
