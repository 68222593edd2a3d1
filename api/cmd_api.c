#include "api/cmd_api.h"

#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "api/server.h"
#include "core/log.h"
#include "core/role.h"
#include "core/signals.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

static const char *const plans[] = {"demo", "pro", "enterprise", NULL};
static const char *const perms[] = {"read", "write", "admin", NULL};

static const bl_setting serve_settings[] = {
    {.name = "api_port", .env = "BUSLINE_API_PORT", .flag = "port", .type = BL_SETTING_INT, .def = "8080",
     .min = 0, .max = 65535, .help = "port of the HTTP API (0 = any free port)"},
    {.name = "api_host", .env = "BUSLINE_API_HOST", .flag = "host", .type = BL_SETTING_STRING,
     .def = "127.0.0.1", .help = "address to listen on (0.0.0.0 in a container)"},
    {.name = "api_pg_pool", .env = "BUSLINE_API_PG_POOL", .flag = "pg-pool", .type = BL_SETTING_INT,
     .def = "16", .min = 1, .max = 256, .help = "PostgreSQL connections"},
    {.name = "jwt_secret", .env = "BUSLINE_JWT_SECRET", .type = BL_SETTING_STRING, .secret = true,
     .help = "HS256 key for access tokens (32+ bytes); unset = no JWT sessions"},
    {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url",
     .type = BL_SETTING_URL, .def = "http://127.0.0.1:8081",
     .choices = (const char *const[]){"http", "https", NULL}, .help = "schema registry base URL"},
    {.name = "schemas_dir", .env = "BUSLINE_SCHEMAS_DIR", .flag = "schemas-dir",
     .type = BL_SETTING_STRING, .help = "folder of .avsc files (default: the source tree's schemas/)"},
    {.name = "command_wait_ms", .env = "BUSLINE_API_COMMAND_WAIT_MS", .flag = "command-wait-ms",
     .type = BL_SETTING_INT, .def = "5000", .min = -1, .max = 60000,
     .help = "how long a create waits for the domain's outcome before answering 202 (-1 = never waits)"},
    {.name = "upload_max_bytes", .env = "BUSLINE_API_UPLOAD_MAX_BYTES", .flag = "upload-max-bytes",
     .type = BL_SETTING_INT, .def = "26214400", .min = 1024, .max = 4294967296LL,
     .help = "largest media upload accepted, in bytes, else 413 (default 25 MiB)"},
    {.name = "upload_concurrency", .env = "BUSLINE_API_UPLOAD_CONCURRENCY", .flag = "upload-concurrency",
     .type = BL_SETTING_INT, .def = "4", .min = 1, .max = 256,
     .help = "media uploads at once, each holding a PostgreSQL connection (keep it below --pg-pool); "
             "more answer 503"},
    {.name = "topic_prefix", .env = "BUSLINE_API_TOPIC_PREFIX", .flag = "topic-prefix",
     .type = BL_SETTING_STRING, .help = "prefix of the commands.<domain> topics (default: none)"},
    {.name = "field_service_prefix", .env = "BUSLINE_API_FIELD_SERVICE_PREFIX", .flag = "field-service-prefix",
     .type = BL_SETTING_STRING, .def = "/api",
     .help = "path where the SmartLeakPro field-service API is served (e.g. /fieldservice/api)"},
    {.name = "attendance_prefix", .env = "BUSLINE_API_ATTENDANCE_PREFIX", .flag = "attendance-prefix",
     .type = BL_SETTING_STRING, .def = "/attendance/api",
     .help = "path where the Attendance-X API (its events, the integrations document) is served "
             "(e.g. /api when the field-service surface is moved elsewhere)"},
    {.name = "alert_interval", .env = "BUSLINE_API_ALERT_INTERVAL", .flag = "alert-interval",
     .type = BL_SETTING_DURATION, .def = "10s", .min = 1000, .max = 3600000,
     .help = "how often this replica evaluates the alert rules of /v1/alert-rules (1s to 1h; replicas take "
             "turns under an advisory lock)"},
    {0},
};

static const bl_setting org_settings[] = {
    {.name = "name", .flag = "name", .type = BL_SETTING_STRING, .required = true, .help = "organization name"},
    {.name = "plan", .flag = "plan", .type = BL_SETTING_ENUM, .def = "demo", .choices = plans,
     .help = "demo|pro|enterprise"},
    {0},
};

static const bl_setting key_settings[] = {
    {.name = "org", .flag = "org", .type = BL_SETTING_STRING, .required = true, .help = "organization id"},
    {.name = "name", .flag = "name", .type = BL_SETTING_STRING, .def = "admin", .help = "key name"},
    {0},
};

static const bl_setting user_settings[] = {
    {.name = "org", .flag = "org", .type = BL_SETTING_STRING, .required = true, .help = "organization id"},
    {.name = "email", .flag = "email", .type = BL_SETTING_STRING, .required = true, .help = "login email"},
    {.name = "password_file", .flag = "password-file", .type = BL_SETTING_STRING, .required = true,
     .help = "file whose first line is the password"},
    {.name = "permission", .flag = "permission", .type = BL_SETTING_ENUM, .def = "admin", .choices = perms,
     .help = "read|write|admin"},
    {0},
};

static int serve(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("api", serve_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    bl_api_server *srv = NULL;
    bl_pg_pool *pool = bl_pg_pool_new(bl_config_str(cfg, BL_CFG_PG_URL), (int)bl_config_int(cfg, "api_pg_pool"), &err);
    const char *secret = bl_config_str(cfg, "jwt_secret");
    bl_api_config ac = {.host = bl_config_str(cfg, "api_host"), .port = (unsigned short)bl_config_int(cfg, "api_port"),
                        .jwt_secret = secret && *secret ? secret : NULL,
                        .kafka_brokers = bl_config_str(cfg, BL_CFG_KAFKA_BROKERS),
                        .registry_url = bl_config_str(cfg, "registry_url"),
                        .schemas_dir = bl_config_str(cfg, "schemas_dir"),
                        .topic_prefix = bl_config_str(cfg, "topic_prefix"),
                        .field_service_prefix = bl_config_str(cfg, "field_service_prefix"),
                        .attendance_prefix = bl_config_str(cfg, "attendance_prefix"),
                        .command_wait_ms = (int)bl_config_int(cfg, "command_wait_ms"),
                        .alert_eval_ms = (int)bl_config_duration_ms(cfg, "alert_interval"),
                        .upload_cap = (size_t)bl_config_int(cfg, "upload_max_bytes"),
                        .upload_concurrency = (unsigned)bl_config_int(cfg, "upload_concurrency")};
    if (!pool || !(srv = bl_api_server_new(&ac, pool, &err)) || bl_api_server_start(srv, &err) != 0) {
        fprintf(stderr, "busline api: %s\n", err.msg);
        code = 1;
        goto done;
    }
    bl_log_info("api listening", BL_FS("host", ac.host), BL_FI("port", bl_api_server_port(srv)));
    struct pollfd wake = {.fd = bl_signals_wake_fd(), .events = POLLIN};
    while (!bl_signals_stop_requested())
        poll(&wake, 1, 1000);
    bl_log_info("api stopping", BL_FI("port", bl_api_server_port(srv)));
done:
    bl_api_server_free(srv);
    bl_pg_pool_free(pool);
    bl_config_free(cfg);
    return code;
}

/* Reads the first line of path into out. Returns 0 or -1. */
static int read_password(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int operator_action(const char *action, const bl_setting *table, int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("api", table, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    char id[BL_API_ID_MAX], token[BL_API_TOKEN_SIZE];
    PGconn *conn = bl_pg_connect(bl_config_str(cfg, BL_CFG_PG_URL), &err);
    int rc = conn ? 0 : -1;
    if (rc == 0 && strcmp(action, "create-org") == 0) {
        bl_api_plan plan = BL_API_PLAN_DEMO;
        bl_api_plan_parse(bl_config_str(cfg, "plan"), &plan);
        rc = bl_api_org_create(conn, bl_config_str(cfg, "name"), plan, id, &err);
        if (rc == 0)
            printf("%s\n", id);
    } else if (rc == 0 && strcmp(action, "create-admin-key") == 0) {
        bl_api_key_spec spec = {.org_id = bl_config_str(cfg, "org"), .name = bl_config_str(cfg, "name"),
                                .perm = BL_API_PERM_ADMIN};
        rc = bl_api_key_create(conn, &spec, token, id, &err);
        if (rc == 0)
            printf("key id: %s\ntoken (shown once): %s\n", id, token);
        memset(token, 0, sizeof token);
    } else if (rc == 0) {
        char password[1100];
        rc = read_password(bl_config_str(cfg, "password_file"), password, sizeof password);
        if (rc != 0)
            bl_err_set(&err, BL_EIO, "cannot read the password file");
        else
            rc = bl_api_user_create(conn, bl_config_str(cfg, "org"), bl_config_str(cfg, "email"), password,
                                    bl_api_perm_parse(bl_config_str(cfg, "permission")), NULL, id, &err);
        memset(password, 0, sizeof password);
        if (rc == 0)
            printf("%s\n", id);
    }
    if (rc != 0) {
        fprintf(stderr, "busline api %s: %s\n", action, err.msg);
        code = 1;
    }
    PQfinish(conn);
    bl_config_free(cfg);
    return code;
}

int bl_cmd_api(int argc, char **argv)
{
    static const struct {
        const char *name;
        const bl_setting *table;
    } actions[] = {{"create-org", org_settings}, {"create-admin-key", key_settings}, {"create-user", user_settings}};
    if (argc > 1)
        for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
            if (strcmp(argv[1], actions[i].name) == 0)
                return operator_action(actions[i].name, actions[i].table, argc - 1, argv + 1);
    return serve(argc, argv);
}
