/* `busline webhooks create|list|show|update|delete|enable|disable|rotate|stats|
 * test|replay-requests`: endpoint management on PostgreSQL (BUSLINE_PG_URL);
 * the replays read Kafka too (cmd_replay.h). */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINTS_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINTS_H

#include <stdbool.h>
#include <stdio.h>

/* True when action is one of the endpoint actions above. */
bool bl_cmd_endpoints_knows(const char *action);

/* Runs action (argv[0] is its display name, the rest its options and
 * arguments). Returns the exit code: 0 done, 1 failed, 2 usage error. */
int bl_cmd_endpoints(const char *action, int argc, char **argv);

/* Prints the endpoint actions' lines for `busline webhooks --help`. */
void bl_cmd_endpoints_usage(FILE *out);

#endif
