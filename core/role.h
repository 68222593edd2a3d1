/* What every subcommand does first: load the common settings plus its own,
 * answer --help, set up logging and signal handling. */
#ifndef BUSLINE_CORE_ROLE_H
#define BUSLINE_CORE_ROLE_H

#include "core/config.h"

/* Loads bl_config_common plus extra (may be NULL; borrowed, ended by {0})
 * from argv (argv[0] = subcommand name), initialises logs with role as the
 * role name and installs SIGTERM/SIGINT handling. Returns the config (caller
 * frees with bl_config_free) and leaves *exit_code untouched; or NULL with
 * *exit_code set: 0 after --help, 2 after a bad setting (message on stderr). */
bl_config *bl_role_start(const char *role, const bl_setting *extra, int argc, char **argv,
                         int *exit_code);

#endif
