/* busline migrate: applies the numbered SQL files of migrations/ once each. */
#include "cli/commands.h"
#include "core/log.h"
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "core/role.h"

#include <stdio.h>

static const bl_setting migrate_settings[] = {
    {.name = "migrations_dir", .env = "BUSLINE_MIGRATIONS_DIR", .flag = "dir",
     .type = BL_SETTING_STRING, .def = BUSLINE_SOURCE_DIR "/migrations",
     .help = "folder of NNN_name.sql migrations"},
    {0},
};

int bl_cmd_migrate(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("migrate", migrate_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    const char *dir = bl_config_str(cfg, "migrations_dir");
    PGconn *conn = bl_pg_connect(bl_config_str(cfg, BL_CFG_PG_URL), &err);
    int applied = conn ? bl_migrations_apply(conn, dir, &err) : -1;
    if (applied < 0) {
        fprintf(stderr, "busline migrate: %s\n", err.msg);
        code = 1;
    } else {
        bl_log_info("migrations applied", BL_FS("dir", dir), BL_FI("applied", applied));
    }
    PQfinish(conn);
    bl_config_free(cfg);
    return code;
}
