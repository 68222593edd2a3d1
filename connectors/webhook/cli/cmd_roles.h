/* The long-running webhook roles: `busline webhooks fanout` (event topics
 * -> deliveries.webhook) and `busline webhooks deliver` (deliveries and
 * retry tiers -> endpoints), each serving /healthz, /readyz and /metrics. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ROLES_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ROLES_H

/* argv[0] is the role's display name. Return the exit code (0 after a
 * clean stop, 1 on a runtime failure, 2 on a bad setting). */
int bl_cmd_webhooks_fanout(int argc, char **argv);
int bl_cmd_webhooks_deliver(int argc, char **argv);

#endif
