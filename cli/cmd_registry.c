/* busline registry: the schema registry server (Confluent REST API, stored
 * in PostgreSQL) until SIGTERM/SIGINT. Expects `busline migrate` to have run. */
#include "cli/commands.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/role.h"
#include "core/signals.h"
#include "schemas/registry_server.h"
#include "schemas/registry_store.h"

#include <poll.h>
#include <stdio.h>

static const bl_setting registry_settings[] = {
    {.name = "registry_port", .env = "BUSLINE_REGISTRY_PORT", .flag = "port", .type = BL_SETTING_INT,
     .def = "8081", .min = 0, .max = 65535, .help = "port of the registry's REST API (0 = any free port)"},
    {.name = "registry_host", .env = "BUSLINE_REGISTRY_HOST", .flag = "host", .type = BL_SETTING_STRING,
     .def = "127.0.0.1", .help = "address to listen on (0.0.0.0 in a container)"},
    {.name = "registry_pg_pool", .env = "BUSLINE_REGISTRY_PG_POOL", .flag = "pg-pool",
     .type = BL_SETTING_INT, .def = "8", .min = 1, .max = 256, .help = "PostgreSQL connections"},
    {0},
};

int bl_cmd_registry(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("registry", registry_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    bl_registry_store *store = NULL;
    bl_registry_server *srv = NULL;
    bl_pg_pool *pool = bl_pg_pool_new(bl_config_str(cfg, BL_CFG_PG_URL),
                                      (int)bl_config_int(cfg, "registry_pg_pool"), &err);
    if (!pool || !(store = bl_registry_store_new(pool, 0, &err)) ||
        !(srv = bl_registry_server_new(store, bl_config_str(cfg, "registry_host"),
                                       (unsigned short)bl_config_int(cfg, "registry_port"), &err)) ||
        bl_registry_server_start(srv, &err) != 0) {
        fprintf(stderr, "busline registry: %s\n", err.msg);
        code = 1;
        goto done;
    }
    bl_log_info("registry listening", BL_FS("host", bl_config_str(cfg, "registry_host")),
                BL_FI("port", bl_registry_server_port(srv)));
    struct pollfd wake = {.fd = bl_signals_wake_fd(), .events = POLLIN};
    while (!bl_signals_stop_requested())
        poll(&wake, 1, 1000);
    bl_log_info("registry stopping", BL_FI("port", bl_registry_server_port(srv)));
done:
    bl_registry_server_free(srv);
    bl_registry_store_free(store);
    bl_pg_pool_free(pool);
    bl_config_free(cfg);
    return code;
}
