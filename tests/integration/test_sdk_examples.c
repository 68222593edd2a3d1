/* The SDK as an outsider gets it: `cmake --install` of this build into a
 * temporary prefix, then both examples built with nothing but pkg-config
 * (PKG_CONFIG_PATH=<prefix>/lib/pkgconfig) and their Makefiles. The connector
 * plugin must load; the domain service must run against a fresh database and
 * leave its state change and its outbox row, in the wire format, behind. */
#include "connectors/loader.h"
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <libgen.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[128], prefix[192];

/* Runs cmd through the shell, echoing its output; returns its exit status. */
static int run(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    char line[512];
    while (fgets(line, sizeof line, p))
        fprintf(stderr, "  | %s", line);
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *source_dir(void)
{
    return getenv("BUSLINE_SOURCE_DIR") ? getenv("BUSLINE_SOURCE_DIR") : BUSLINE_SOURCE_DIR;
}

/* make in examples/<example>, output into base. */
static int build_example(const char *example)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "make --no-print-directory -C %s/examples/%s OUT=%s", source_dir(), example, base);
    return run(cmd);
}

static void install_puts_headers_libraries_and_pc_file_in_place(void)
{
    const char *bin = getenv("BUSLINE_BIN");
    REQUIRE(bin != NULL);
    char build_dir[512], cmd[1024];
    snprintf(build_dir, sizeof build_dir, "%s", bin);
    snprintf(cmd, sizeof cmd, "cmake --install %s --prefix %s", dirname(build_dir), prefix);
    REQUIRE(run(cmd) == 0);
    const char *files[] = {"include/busline/connector.h", "include/busline/outbox.h", "include/busline/err.h",
                           "lib/pkgconfig/busline.pc", "lib/libbusline_producers.a", "lib/libbusline_core.a"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        if (access(path, R_OK) != 0)
            fprintf(stderr, "  missing %s\n", path);
        CHECK(access(path, R_OK) == 0);
    }
    CHECK(run("pkg-config --exists busline") == 0);
}

static void connector_plugin_builds_from_the_sdk_and_loads(void)
{
    REQUIRE(build_example("connector_plugin") == 0);
    bl_err err = {0};
    bl_connector_lib *lib = bl_connector_open("sample", base, &err);
    if (!lib)
        fprintf(stderr, "  %s\n", err.msg);
    CHECK(lib != NULL);
    bl_connector_lib_close(lib);
}

static void domain_service_builds_from_the_sdk_and_publishes_through_the_outbox(void)
{
    REQUIRE(build_example("domain_service") == 0);
    bl_err err = {0};
    char url[512];
    REQUIRE(bl_test_pg_fresh_db(url, sizeof url, &err) == 0);
    PGconn *conn = bl_pg_connect(url, &err);
    REQUIRE(conn && bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) >= 0);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/order_service '%s' O-1001 7", base, url);
    CHECK_EQ_INT(run(cmd), 0);
    /* the state change and the event committed together */
    PGresult *r = PQexec(conn, "SELECT status FROM example_orders WHERE id = 'O-1001'");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
    if (PQntuples(r) == 1)
        CHECK_EQ_STR(PQgetvalue(r, 0, 0), "shipped");
    PQclear(r);
    r = PQexec(conn, "SELECT aggregate_type, event_type, topic, schema_id, encode(substring(payload from 1 for 5), "
                     "'hex'), headers->>'ce_type', headers->>'ce_subject', sent_at IS NULL "
                     "FROM busline_outbox WHERE aggregate_id = 'O-1001'");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
    if (PQntuples(r) == 1) {
        CHECK_EQ_STR(PQgetvalue(r, 0, 0), "order");
        CHECK_EQ_STR(PQgetvalue(r, 0, 1), "order.shipped");
        CHECK_EQ_STR(PQgetvalue(r, 0, 2), "events.shop.order");
        CHECK_EQ_STR(PQgetvalue(r, 0, 3), "7");
        CHECK_EQ_STR(PQgetvalue(r, 0, 4), "0000000007"); /* magic byte 0, schema id 7 */
        CHECK_EQ_STR(PQgetvalue(r, 0, 5), "order.shipped");
        CHECK_EQ_STR(PQgetvalue(r, 0, 6), "orders/O-1001");
        CHECK_EQ_STR(PQgetvalue(r, 0, 7), "t"); /* due for the relay */
    }
    PQclear(r);
    /* a refused append (schema id 0) rolls the state change back too */
    snprintf(cmd, sizeof cmd, "%s/order_service '%s' O-1002 0", base, url);
    CHECK(run(cmd) != 0);
    r = PQexec(conn, "SELECT (SELECT count(*) FROM example_orders WHERE id = 'O-1002') + "
                     "(SELECT count(*) FROM busline_outbox WHERE aggregate_id = 'O-1002')");
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
    if (PQntuples(r) == 1)
        CHECK_EQ_STR(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    PQfinish(conn);
    bl_test_pg_drop_db(url);
}

int main(void)
{
    bl_test_unique_name(base, sizeof base, "/tmp/busline-sdk");
    snprintf(prefix, sizeof prefix, "%s/prefix", base);
    char pc_path[256];
    snprintf(pc_path, sizeof pc_path, "%s/lib/pkgconfig", prefix);
    setenv("PKG_CONFIG_PATH", pc_path, 1); /* the installed busline.pc, nothing else of this tree */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", base);
    if (run(cmd) != 0)
        return 1;
    BL_RUN(install_puts_headers_libraries_and_pc_file_in_place);
    BL_RUN(connector_plugin_builds_from_the_sdk_and_loads);
    BL_RUN(domain_service_builds_from_the_sdk_and_publishes_through_the_outbox);
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    if (run(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    return bl_test_summary();
}
