/* The `busline workflows` subcommand (connectors/workflows/cmd_workflows.c). */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_CMD_WORKFLOWS_H
#define BUSLINE_CONNECTORS_WORKFLOWS_CMD_WORKFLOWS_H

/* argv[0] is "workflows"; flags as --help lists them. Runs the orchestrator
 * until SIGTERM/SIGINT. Returns the exit code: 0 after a stop, 2 for bad
 * settings, 1 for a setup failure. */
int bl_cmd_workflows(int argc, char **argv);

#endif
