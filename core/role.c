#include "core/role.h"

#include "core/log.h"
#include "core/signals.h"

#include <stdio.h>

bl_config *bl_role_start(const char *role, const bl_setting *extra, int argc, char **argv,
                         int *exit_code)
{
    bl_err err = {0};
    bl_config *cfg = bl_config_new();
    if (!cfg) {
        fprintf(stderr, "busline %s: out of memory\n", role);
        *exit_code = 1;
        return NULL;
    }
    if (bl_config_add(cfg, bl_config_common, &err) != 0 ||
        (extra && bl_config_add(cfg, extra, &err) != 0))
        goto fail;
    int loaded = bl_config_load(cfg, argc, argv, &err);
    if (loaded == BL_CONFIG_HELP) {
        bl_config_free(cfg);
        *exit_code = 0;
        return NULL;
    }
    if (loaded != 0)
        goto fail;
    bl_log_level level = BL_LOG_INFO;
    bl_log_level_parse(bl_config_str(cfg, BL_CFG_LOG_LEVEL), &level);
    bl_log_init(role, level);
    if (bl_signals_install(&err) != 0)
        goto fail;
    return cfg;
fail:
    fprintf(stderr, "busline %s: %s\n", role, err.msg);
    bl_config_free(cfg);
    *exit_code = 2;
    return NULL;
}
