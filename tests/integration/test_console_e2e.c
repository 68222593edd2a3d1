/* The web console end to end: runs tests/console/e2e.mjs (playwright-core
 * driving Debian's headless Chromium) against `busline api` of this build on
 * a fresh migrated database, so ctest covers the browser test in both the
 * normal and the sanitizer build. Screenshots land in
 * <build>/console-screenshots/. Fails with a message saying what to install
 * when Chromium, node or the test's node_modules are missing. */
#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHROMIUM "/usr/bin/chromium"

static char pg_url[512];

/* Whether the tools the browser test needs are here; says what is missing. */
static int tools_present(const char *src)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/console/node_modules/playwright-core/package.json", src);
    if (access(CHROMIUM, X_OK) != 0) {
        fprintf(stderr, "console e2e: %s is missing: install Debian's chromium package "
                        "(apt-get install chromium; scripts/setup does it)\n", CHROMIUM);
        return 0;
    }
    if (system("node --version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "console e2e: node is missing: install nodejs (scripts/setup does it)\n");
        return 0;
    }
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "console e2e: playwright-core is not installed: run `npm ci` in "
                        "tests/console (scripts/setup does it)\n");
        return 0;
    }
    return 1;
}

static void console_pages_work_end_to_end_in_chromium(void)
{
    const char *src = getenv("BUSLINE_SOURCE_DIR");
    const char *bin = getenv("BUSLINE_BIN");
    REQUIRE(src && bin);
    REQUIRE(tools_present(src));

    bl_err err = {0};
    REQUIRE(bl_test_pg_fresh_db(pg_url, sizeof pg_url, &err) == 0);
    PGconn *conn = bl_pg_connect(pg_url, &err);
    int applied = conn ? bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) : -1;
    PQfinish(conn);
    if (applied < 0)
        fprintf(stderr, "  migrations: %s\n", err.msg);
    REQUIRE(applied >= 0);

    char cwd[512], shots[600];
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(shots, sizeof shots, "%s/console-screenshots", cwd);
    /* on the command line, not setenv: bl_test_pg_url() must keep naming
     * the server's default database for the drop at the end */
    char cmd[2400];
    snprintf(cmd, sizeof cmd,
             "cd '%s/tests/console' && BUSLINE_PG_URL='%s' CONSOLE_SHOTS='%s' node e2e.mjs 2>&1", src,
             pg_url, shots);
    FILE *p = popen(cmd, "r");
    REQUIRE(p != NULL);
    char line[2048];
    int passed_line = 0;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        if (strstr(line, "console e2e: ") && strstr(line, "checks passed"))
            passed_line = 1;
    }
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(passed_line);
}

int main(void)
{
    BL_RUN(console_pages_work_end_to_end_in_chromium);
    if (pg_url[0])
        bl_test_pg_drop_db(pg_url);
    return bl_test_summary();
}
