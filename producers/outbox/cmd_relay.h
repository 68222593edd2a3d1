/* The `busline relay` subcommand (producers/outbox/cmd_relay.c). */
#ifndef BUSLINE_PRODUCERS_CMD_RELAY_H
#define BUSLINE_PRODUCERS_CMD_RELAY_H

/* argv[0] is "relay"; flags as --help lists them. Returns the exit code:
 * 0 after a SIGTERM/SIGINT stop, 2 for bad settings, 1 for a setup failure. */
int bl_cmd_relay(int argc, char **argv);

#endif
