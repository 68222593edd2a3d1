/* busline prune: deletes the rows of the growing tables past their keep
 * period (core/retention.h); one line per table on stdout. Run it daily (the
 * k8s CronJob busline-prune does). */
#include "cli/commands.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/retention.h"
#include "core/role.h"

#include <inttypes.h>
#include <stdio.h>

#define MAX_RULES 32

int bl_cmd_prune(int argc, char **argv)
{
    const bl_retention_rule *rules = bl_retention_rules();
    static bl_setting settings[MAX_RULES + 3];
    static char help[MAX_RULES][160];
    size_t n = 0;
    for (; rules[n].name && n < MAX_RULES; n++) {
        snprintf(help[n], sizeof help[n], "keep %s this long (%s)", rules[n].what, rules[n].table);
        settings[n] = (bl_setting){.name = rules[n].name, .env = rules[n].env, .flag = rules[n].flag,
                                   .type = BL_SETTING_DURATION, .def = rules[n].default_keep, .min = 0,
                                   .max = 3650LL * 86400000, .help = help[n]};
    }
    settings[n] = (bl_setting){.name = "batch", .env = "BUSLINE_PRUNE_BATCH", .flag = "batch",
                               .type = BL_SETTING_INT, .def = "5000", .min = 1, .max = 1000000,
                               .help = "rows deleted per statement"};
    settings[n + 1] = (bl_setting){.name = "dry_run", .flag = "dry-run", .type = BL_SETTING_BOOL, .def = "false",
                                   .help = "count what would go, delete nothing"};
    settings[n + 2] = (bl_setting){0};
    int code = 0;
    bl_config *cfg = bl_role_start("prune", settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    int dry_run = bl_config_bool(cfg, "dry_run");
    PGconn *conn = bl_pg_connect(bl_config_str(cfg, BL_CFG_PG_URL), &err);
    if (!conn) {
        fprintf(stderr, "busline prune: %s\n", err.msg);
        bl_config_free(cfg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t keep = bl_config_duration_ms(cfg, rules[i].name);
        int64_t gone = bl_retention_prune(conn, &rules[i], keep, (int)bl_config_int(cfg, "batch"), dry_run, &err);
        if (gone < 0) {
            /* the other tables are still worth trimming */
            fprintf(stderr, "busline prune: %s\n", err.msg);
            code = 1;
            continue;
        }
        printf("%s\t%" PRId64 "%s\n", rules[i].table, gone, dry_run ? " (dry run)" : "");
        bl_log_info(dry_run ? "prune: would delete" : "prune: deleted", BL_FS("table", rules[i].table),
                    BL_FI("rows", gone));
    }
    PQfinish(conn);
    bl_config_free(cfg);
    return code;
}
