/* `busline webhooks sink`: a local webhook endpoint for demos and for
 * subscribers debugging their verification: prints each request received
 * (one JSON line: path, webhook-* headers, verdict, body) and, given the
 * endpoint's secret, verifies its signature. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_SINK_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_SINK_H

/* argv[0] is the display name. Runs until SIGTERM/SIGINT; returns the exit
 * code (2 on a bad setting, 1 when it cannot listen). */
int bl_cmd_webhooks_sink(int argc, char **argv);

#endif
