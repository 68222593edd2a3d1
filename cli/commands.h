/* Entry points of the subcommands that live in cli/ (cross-role tools).
 * Each takes argv with argv[0] = the subcommand's name and returns the exit code. */
#ifndef BUSLINE_CLI_COMMANDS_H
#define BUSLINE_CLI_COMMANDS_H

int bl_cmd_dlq(int argc, char **argv);
int bl_cmd_groups(int argc, char **argv);
int bl_cmd_migrate(int argc, char **argv);
int bl_cmd_pmo(int argc, char **argv);
int bl_cmd_fieldservice(int argc, char **argv);
int bl_cmd_attendance(int argc, char **argv);
int bl_cmd_prune(int argc, char **argv);
int bl_cmd_registry(int argc, char **argv);
int bl_cmd_schemas(int argc, char **argv);
int bl_cmd_smoke(int argc, char **argv);
int bl_cmd_sync(int argc, char **argv);
int bl_cmd_topics(int argc, char **argv);

#endif
