#include "core/migrations.h"
#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

/* Each test gets a fresh database and an empty directory of migrations. */
struct fixture {
    char url[512];
    char dir[64];
    PGconn *conn;
};

static int fixture_open(struct fixture *f)
{
    bl_err err = {0};
    memset(f, 0, sizeof *f);
    if (bl_test_pg_fresh_db(f->url, sizeof f->url, &err) != 0) {
        fprintf(stderr, "  %s\n", err.msg);
        return -1;
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/bl_migrations_XXXXXX");
    if (!mkdtemp(f->dir)) {
        bl_test_pg_drop_db(f->url);
        return -1;
    }
    f->conn = bl_pg_connect(f->url, &err);
    if (!f->conn)
        fprintf(stderr, "  %s\n", err.msg);
    return f->conn ? 0 : -1;
}

static void fixture_close(struct fixture *f)
{
    PQfinish(f->conn);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    bl_test_pg_drop_db(f->url);
}

static void write_file(const struct fixture *f, const char *name, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *out = fopen(path, "w");
    if (out) {
        fputs(sql, out);
        fclose(out);
    }
}

static void remove_file(const struct fixture *f, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    unlink(path);
}

/* The first column of the first row of sql, as text ("" when no row or on
 * error) into out. */
static const char *query_text(PGconn *conn, const char *sql, char *out, size_t len)
{
    bl_err err = {0};
    out[0] = '\0';
    PGresult *res = bl_pg_exec(conn, sql, 0, NULL, &err);
    if (res && PQntuples(res) > 0)
        snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
    else if (!res)
        snprintf(out, len, "error: %.200s", err.msg);
    PQclear(res);
    return out;
}

static void migrations_applied_twice_are_applied_once(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    write_file(&f, "001_create_items.sql", "CREATE TABLE items (id int);\n");
    write_file(&f, "002_seed_items.sql", "INSERT INTO items VALUES (1);\nINSERT INTO items VALUES (2);\n");
    write_file(&f, "README.md", "Not a migration.\n");
    bl_err err = {0};
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), 2);
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), 0);
    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT count(*) FROM items", buf, sizeof buf), "2");
    CHECK_EQ_STR(query_text(f.conn,
                            "SELECT string_agg(version || ':' || name || ':' || length(checksum), ',' "
                            "ORDER BY version) FROM busline_schema_migrations WHERE applied_at <= now()",
                            buf, sizeof buf),
                 "1:001_create_items.sql:64,2:002_seed_items.sql:64");
    fixture_close(&f);
}

static void migrations_run_in_numeric_order_not_name_order(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    /* By name "10_" sorts before "1_" and "2_": only numeric order works. */
    write_file(&f, "1_create_trail.sql", "CREATE TABLE trail (seq serial, v int);\n");
    write_file(&f, "10_tenth.sql", "INSERT INTO trail (v) VALUES (10);\n");
    write_file(&f, "2_second.sql", "INSERT INTO trail (v) VALUES (2);\n");
    bl_err err = {0};
    int applied = bl_migrations_apply(f.conn, f.dir, &err);
    CHECK_EQ_INT(applied, 3);
    if (applied < 0)
        fprintf(stderr, "  %s\n", err.msg);
    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT string_agg(v::text, ',' ORDER BY seq) FROM trail", buf, sizeof buf),
                 "2,10");
    fixture_close(&f);
}

static void changed_applied_file_is_refused_naming_it(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    write_file(&f, "001_create_items.sql", "CREATE TABLE items (id int);\n");
    write_file(&f, "002_seed_items.sql", "INSERT INTO items VALUES (1);\n");
    bl_err err = {0};
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), 2);

    write_file(&f, "002_seed_items.sql", "INSERT INTO items VALUES (1), (2);\n");
    write_file(&f, "003_more_items.sql", "INSERT INTO items VALUES (3);\n");
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(strstr(err.msg, "002_seed_items.sql") != NULL && strstr(err.msg, "changed") != NULL);
    /* Nothing else ran: the check comes before any new file. */
    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT count(*) FROM items", buf, sizeof buf), "1");

    /* Reusing an applied version under another name is refused as well. */
    remove_file(&f, "002_seed_items.sql");
    write_file(&f, "002_other.sql", "INSERT INTO items VALUES (1);\n");
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), -1);
    CHECK(strstr(err.msg, "002_other.sql") != NULL && strstr(err.msg, "002_seed_items.sql") != NULL);
    fixture_close(&f);
}

static void failing_file_rolls_back_itself_and_keeps_earlier_ones(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    write_file(&f, "001_create_items.sql", "CREATE TABLE items (id int);\n");
    write_file(&f, "002_broken.sql",
               "CREATE TABLE half_done (id int);\n"
               "INSERT INTO no_such_table VALUES (1);\n");
    write_file(&f, "003_after.sql", "CREATE TABLE after_broken (id int);\n");
    bl_err err = {0};
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), -1);
    CHECK_EQ_INT(err.code, BL_EPG);
    CHECK(strstr(err.msg, "002_broken.sql") != NULL);
    CHECK(strstr(err.msg, "no_such_table") != NULL && strstr(err.msg, "(line 2)") != NULL);
    char state[6] = "";
    CHECK(bl_pg_err_sqlstate(&err, state) == 0);
    CHECK_EQ_STR(state, "42P01");

    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT string_agg(version::text, ',') FROM busline_schema_migrations",
                            buf, sizeof buf), "1");
    CHECK_EQ_STR(query_text(f.conn,
                            "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class "
                            "WHERE relname IN ('items', 'half_done', 'after_broken')",
                            buf, sizeof buf), "items");

    /* An unapplied file may still be fixed; the run then goes on. */
    write_file(&f, "002_broken.sql", "CREATE TABLE half_done (id int);\n");
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), 2);
    fixture_close(&f);
}

static void bad_file_names_and_duplicate_versions_are_refused(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    write_file(&f, "001_create_items.sql", "CREATE TABLE items (id int);\n");
    const char *bad[] = {"1.sql", "abc_x.sql", "001-x.sql", "001_x.txt", "001_.sql",
                         "001_x y.sql", "0000000001_ten_digits.sql", "notes"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(&f, bad[i], "SELECT 1;\n");
        bl_err err = {0};
        CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), -1);
        CHECK_EQ_INT(err.code, BL_EINVAL);
        if (!strstr(err.msg, bad[i]))
            fprintf(stderr, "  %s not named in: %s\n", bad[i], err.msg);
        CHECK(strstr(err.msg, bad[i]) != NULL);
        remove_file(&f, bad[i]);
    }
    write_file(&f, "1_same_version.sql", "SELECT 1;\n");
    bl_err err = {0};
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), -1);
    CHECK(strstr(err.msg, "001_create_items.sql") != NULL && strstr(err.msg, "1_same_version.sql") != NULL);
    remove_file(&f, "1_same_version.sql");

    /* Nothing ran while the directory was bad. */
    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT count(*) FROM pg_class WHERE relname = 'items'", buf, sizeof buf),
                 "0");
    CHECK_EQ_INT(bl_migrations_apply(f.conn, f.dir, &err), 1);
    fixture_close(&f);
}

struct runner {
    const struct fixture *f;
    pthread_barrier_t *start;
    int applied;
    bl_err err;
};

static void *run_migrations(void *arg)
{
    struct runner *r = arg;
    PGconn *conn = bl_pg_connect(r->f->url, &r->err);
    pthread_barrier_wait(r->start);
    r->applied = conn ? bl_migrations_apply(conn, r->f->dir, &r->err) : -1;
    PQfinish(conn);
    return NULL;
}

static void two_concurrent_runners_apply_each_file_exactly_once(void)
{
    struct fixture f;
    REQUIRE(fixture_open(&f) == 0);
    enum { FILES = 6 };
    write_file(&f, "001_create_hits.sql", "CREATE TABLE hits (version int);\n");
    for (int v = 2; v <= FILES; v++) {
        char name[64], sql[128];
        snprintf(name, sizeof name, "%03d_hit.sql", v);
        /* The sleep widens the window in which the runners overlap. */
        snprintf(sql, sizeof sql, "SELECT pg_sleep(0.05);\nINSERT INTO hits VALUES (%d);\n", v);
        write_file(&f, name, sql);
    }
    pthread_barrier_t start;
    REQUIRE(pthread_barrier_init(&start, NULL, 2) == 0);
    struct runner runners[2] = {{.f = &f, .start = &start}, {.f = &f, .start = &start}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&threads[i], NULL, run_migrations, &runners[i]) == 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        CHECK(runners[i].applied >= 0);
        if (runners[i].applied < 0)
            fprintf(stderr, "  runner %d: %s\n", i, runners[i].err.msg);
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(runners[0].applied + runners[1].applied, FILES);
    char buf[256];
    CHECK_EQ_STR(query_text(f.conn, "SELECT count(*) || '/' || count(DISTINCT version) FROM hits",
                            buf, sizeof buf), "5/5");
    fixture_close(&f);
}

int main(void)
{
    BL_RUN(migrations_applied_twice_are_applied_once);
    BL_RUN(migrations_run_in_numeric_order_not_name_order);
    BL_RUN(changed_applied_file_is_refused_naming_it);
    BL_RUN(failing_file_rolls_back_itself_and_keeps_earlier_ones);
    BL_RUN(bad_file_names_and_duplicate_versions_are_refused);
    BL_RUN(two_concurrent_runners_apply_each_file_exactly_once);
    return bl_test_summary();
}
