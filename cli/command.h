/* The subcommands of the one `busline` binary. Each role adds one entry to
 * the table in cli/main.c and implements its run function in its own folder. */
#ifndef BUSLINE_CLI_COMMAND_H
#define BUSLINE_CLI_COMMAND_H

typedef struct bl_command {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand's name; returns the process exit code. */
    int (*run)(int argc, char **argv);
} bl_command;

#endif
