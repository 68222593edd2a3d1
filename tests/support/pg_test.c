#include "tests/support/pg_test.h"

#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/test.h"

/* Runs "<verb> <quoted db><suffix>" on the server's main database. */
static int run_on_server(const char *verb, const char *db, const char *suffix, bl_err *err)
{
    PGconn *conn = bl_pg_connect(bl_test_pg_url(), err);
    if (!conn)
        return -1;
    int rc = -1;
    char *quoted = PQescapeIdentifier(conn, db, strlen(db));
    if (!quoted) {
        bl_err_set(err, BL_EPG, "pg test: quote %s: %s", db, PQerrorMessage(conn));
        goto done;
    }
    char sql[512];
    snprintf(sql, sizeof sql, "%s %s%s", verb, quoted, suffix);
    rc = bl_pg_exec_cmd(conn, sql, 0, NULL, err);
done:
    PQfreemem(quoted);
    PQfinish(conn);
    return rc;
}

/* Writes base with its database name replaced by db into out. */
static int url_with_db(const char *base, const char *db, char *out, size_t len, bl_err *err)
{
    const char *scheme_end = strstr(base, "://");
    if (!scheme_end)
        return bl_err_set(err, BL_EINVAL, "pg test: BUSLINE_PG_URL is not a postgresql:// URL");
    const char *auth = scheme_end + 3;
    size_t prefix_len = (size_t)(auth - base) + strcspn(auth, "/?");
    const char *query = strchr(auth, '?');
    int n = snprintf(out, len, "%.*s/%s%s", (int)prefix_len, base, db, query ? query : "");
    if (n < 0 || (size_t)n >= len)
        return bl_err_set(err, BL_EINVAL, "pg test: URL buffer of %zu bytes too small", len);
    return 0;
}

int bl_test_pg_fresh_db(char *url_out, size_t len, bl_err *err)
{
    char db[64];
    bl_test_unique_name(db, sizeof db, "bltest");
    if (url_with_db(bl_test_pg_url(), db, url_out, len, err) != 0)
        return -1;
    if (run_on_server("CREATE DATABASE", db, "", err) != 0)
        return bl_err_wrap(err, "pg test: create database %s", db);
    return 0;
}

int bl_test_pg_drop_db(const char *url)
{
    bl_err err = {0};
    char *parse_msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &parse_msg);
    if (!opts) {
        fprintf(stderr, "pg test: drop: cannot parse URL: %s\n", parse_msg ? parse_msg : "out of memory");
        PQfreemem(parse_msg);
        return -1;
    }
    const char *db = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    int rc = -1;
    if (!db || strncmp(db, "bltest_", 7) != 0) {
        /* Only what bl_test_pg_fresh_db made: never the shared database. */
        fprintf(stderr, "pg test: drop: refusing to drop %s\n", db ? db : "(no dbname)");
        goto done;
    }
    rc = run_on_server("DROP DATABASE IF EXISTS", db, " WITH (FORCE)", &err);
    if (rc != 0)
        fprintf(stderr, "pg test: drop database %s: %s\n", db, err.msg);
done:
    PQconninfoFree(opts);
    return rc;
}

int bl_test_pg_migrated_db(char *url_out, size_t len, bl_err *err)
{
    if (bl_test_pg_fresh_db(url_out, len, err) != 0)
        return -1;
    PGconn *conn = bl_pg_connect(url_out, err);
    if (!conn)
        return -1;
    int rc = bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", err) < 0 ? -1 : 0;
    PQfinish(conn);
    return rc;
}
