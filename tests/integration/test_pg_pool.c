#include "core/pg_pool.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define WAIT_MS 30000 /* generous: only reached when something is wrong */

static char db_url[512];

static void pool_round_trip_keeps_params_null_and_quotes(void)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 2, &err);
    REQUIRE(pool);
    PGconn *conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    CHECK(bl_pg_exec_cmd(conn, "CREATE TABLE notes (id int PRIMARY KEY, body text, extra text)",
                         0, NULL, &err) == 0);
    const char *tricky = "it's \"quoted\"; DROP TABLE notes; -- \\ done";
    const char *row[] = {"1", tricky, NULL};
    CHECK(bl_pg_exec_cmd(conn, "INSERT INTO notes VALUES ($1, $2, $3)", 3, row, &err) == 0);

    const char *id[] = {"1"};
    PGresult *res = bl_pg_exec(conn, "SELECT body, extra FROM notes WHERE id = $1", 1, id, &err);
    CHECK(res != NULL);
    if (res) {
        CHECK_EQ_INT(PQntuples(res), 1);
        CHECK_EQ_STR(PQgetvalue(res, 0, 0), tricky);
        CHECK(PQgetisnull(res, 0, 1));
        PQclear(res);
    }

    /* A failed statement reports Postgres' message and SQLSTATE. */
    CHECK(bl_pg_exec_cmd(conn, "INSERT INTO notes VALUES ($1, $2, $3)", 3, row, &err) == -1);
    char state[6] = "";
    CHECK_EQ_INT(err.code, BL_EPG);
    CHECK(bl_pg_err_sqlstate(&err, state) == 0);
    CHECK_EQ_STR(state, "23505");
    CHECK(strstr(err.msg, "duplicate key") != NULL);
    bl_pg_pool_release(pool, conn);
    bl_pg_pool_free(pool);
}

static int insert_then(PGconn *conn, void *arg, bl_err *err)
{
    const char *params[] = {"7"};
    if (bl_pg_exec_cmd(conn, "INSERT INTO tx_rows VALUES ($1)", 1, params, err) != 0)
        return -1;
    return *(int *)arg ? bl_err_set(err, BL_EINVAL, "asked to fail") : 0;
}

static long count_rows(PGconn *conn, const char *sql)
{
    bl_err err = {0};
    PGresult *res = bl_pg_exec(conn, sql, 0, NULL, &err);
    if (!res)
        return -1;
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static void transaction_commits_on_success_and_rolls_back_on_failure(void)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_connect(db_url, &err);
    REQUIRE(conn);
    CHECK(bl_pg_exec_cmd(conn, "CREATE TABLE tx_rows (v int)", 0, NULL, &err) == 0);
    int fail = 1;
    CHECK(bl_pg_transaction(conn, insert_then, &fail, &err) == -1);
    CHECK_EQ_STR(err.msg, "asked to fail");
    CHECK_EQ_INT(count_rows(conn, "SELECT count(*) FROM tx_rows"), 0);
    fail = 0;
    CHECK(bl_pg_transaction(conn, insert_then, &fail, &err) == 0);
    CHECK_EQ_INT(count_rows(conn, "SELECT count(*) FROM tx_rows"), 1);
    CHECK(PQtransactionStatus(conn) == PQTRANS_IDLE);

    /* A COMMIT after a failed statement is really a rollback: refused. */
    CHECK(bl_pg_begin(conn, &err) == 0);
    CHECK(bl_pg_exec_cmd(conn, "INSERT INTO tx_rows VALUES (1)", 0, NULL, &err) == 0);
    CHECK(bl_pg_exec_cmd(conn, "SELECT 1/0", 0, NULL, &err) == -1);
    CHECK(bl_pg_commit(conn, &err) == -1);
    CHECK(strstr(err.msg, "rolled back") != NULL);
    CHECK_EQ_INT(count_rows(conn, "SELECT count(*) FROM tx_rows"), 1);
    PQfinish(conn);
}

static void connection_released_inside_transaction_comes_back_rolled_back(void)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 1, &err);
    REQUIRE(pool);
    PGconn *conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    CHECK(bl_pg_exec_cmd(conn, "CREATE TABLE left_open (v int)", 0, NULL, &err) == 0);
    CHECK(bl_pg_begin(conn, &err) == 0);
    CHECK(bl_pg_exec_cmd(conn, "INSERT INTO left_open VALUES (1)", 0, NULL, &err) == 0);
    bl_pg_pool_release(pool, conn);

    conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    CHECK(PQtransactionStatus(conn) == PQTRANS_IDLE);
    CHECK_EQ_INT(count_rows(conn, "SELECT count(*) FROM left_open"), 0);
    bl_pg_pool_release(pool, conn);
    bl_pg_pool_free(pool);
}

struct waiter {
    bl_pg_pool *pool;
    atomic_int got;
    bl_err err;
};

static void *acquire_and_release(void *arg)
{
    struct waiter *w = arg;
    PGconn *conn = bl_pg_pool_acquire(w->pool, WAIT_MS, &w->err);
    if (conn) {
        atomic_store(&w->got, 1);
        bl_pg_pool_release(w->pool, conn);
    } else {
        atomic_store(&w->got, -1);
    }
    return NULL;
}

static void pool_exhaustion_waits_then_times_out(void)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 1, &err);
    REQUIRE(pool);
    PGconn *held = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(held);

    CHECK(bl_pg_pool_acquire(pool, 150, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ETIMEOUT);
    CHECK(strstr(err.msg, "busy") != NULL && strstr(err.msg, "150 ms") != NULL);

    /* A waiter blocks while the only connection is held, and gets it once
     * it is released. */
    struct waiter w = {.pool = pool};
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, acquire_and_release, &w) == 0);
    usleep(100 * 1000);
    CHECK_EQ_INT(atomic_load(&w.got), 0);
    bl_pg_pool_release(pool, held);
    pthread_join(t, NULL);
    CHECK_EQ_INT(atomic_load(&w.got), 1);
    bl_pg_pool_free(pool);
}

#define THREADS 8
#define QUERIES_PER_THREAD 200

struct worker {
    bl_pg_pool *pool;
    int id;
    int ok;
    bl_err err;
};

static void *run_queries(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < QUERIES_PER_THREAD; i++) {
        PGconn *conn = bl_pg_pool_acquire(w->pool, WAIT_MS, &w->err);
        if (!conn)
            return NULL;
        char a[16], b[16], want[16];
        snprintf(a, sizeof a, "%d", w->id);
        snprintf(b, sizeof b, "%d", i);
        snprintf(want, sizeof want, "%d", w->id * 1000 + i);
        const char *params[] = {a, b};
        PGresult *res = bl_pg_exec(conn, "SELECT $1::int * 1000 + $2::int", 2, params, &w->err);
        if (res && strcmp(PQgetvalue(res, 0, 0), want) == 0)
            w->ok++;
        PQclear(res);
        bl_pg_pool_release(w->pool, conn);
    }
    return NULL;
}

static void eight_threads_share_a_pool_of_three_without_errors(void)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 3, &err);
    REQUIRE(pool);
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){.pool = pool, .id = i};
        REQUIRE(pthread_create(&threads[i], NULL, run_queries, &workers[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        if (workers[i].ok != QUERIES_PER_THREAD)
            fprintf(stderr, "  worker %d: %d ok, last error: %s\n", i, workers[i].ok, workers[i].err.msg);
        total += workers[i].ok;
    }
    CHECK_EQ_INT(total, THREADS * QUERIES_PER_THREAD);
    bl_pg_pool_free(pool);
}

static long backend_pid(PGconn *conn)
{
    return count_rows(conn, "SELECT pg_backend_pid()");
}

/* Ends backend pid from another connection and waits until it is gone. */
static int terminate_backend(long pid)
{
    bl_err err = {0};
    PGconn *admin = bl_pg_connect(db_url, &err);
    if (!admin)
        return -1;
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%ld", pid);
    const char *params[] = {pid_text};
    PGresult *res = bl_pg_exec(admin, "SELECT pg_terminate_backend($1::int, 10000)", 1, params, &err);
    int ok = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    PQfinish(admin);
    return ok ? 0 : -1;
}

/* Kills the backend of a pool's only connection, either while it sits idle
 * in the pool or while a caller holds it (whose next query then fails), and
 * checks the next acquire hands out a working, new connection. */
static void check_killed_connection_is_replaced(int kill_while_held)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 1, &err);
    REQUIRE(pool);
    PGconn *conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    long first_pid = backend_pid(conn);
    CHECK(first_pid > 0);
    if (kill_while_held) {
        CHECK(terminate_backend(first_pid) == 0);
        CHECK(bl_pg_exec_cmd(conn, "SELECT 1", 0, NULL, &err) == -1);
        CHECK_EQ_INT(err.code, BL_EPG);
        bl_pg_pool_release(pool, conn);
    } else {
        bl_pg_pool_release(pool, conn);
        CHECK(terminate_backend(first_pid) == 0);
    }

    conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    CHECK(conn != NULL);
    if (conn) {
        long second_pid = backend_pid(conn);
        CHECK(second_pid > 0);
        CHECK(second_pid != first_pid);
        bl_pg_pool_release(pool, conn);
    }
    bl_pg_pool_free(pool);
}

static void connection_killed_while_idle_is_recovered_on_next_use(void)
{
    check_killed_connection_is_replaced(0);
}

static void connection_killed_mid_use_fails_that_query_then_recovers(void)
{
    check_killed_connection_is_replaced(1);
}

static void bad_url_gives_clear_error_without_password(void)
{
    const char *const cases[][2] = {
        {"postgresql://busline:s3cretpw@127.0.0.1:1/busline", "Connection refused"},
        {"postgresql://busline:s3cretpw@[::1/busline", "IPv6"},
        {"postgresql://busline:s3cretpw@127.0.0.1:notaport/busline", "notaport"},
        {"host=127.0.0.1 port=1 password=s3cretpw", "Connection refused"},
        {"postgresql://busline:s3cretpw@127.0.0.1:5433/busline?bogus=1", "bogus"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bl_err err = {0};
        bl_pg_pool *pool = bl_pg_pool_new(cases[i][0], 2, &err);
        CHECK(pool == NULL);
        bl_pg_pool_free(pool);
        CHECK_EQ_INT(err.code, BL_EPG);
        CHECK(strstr(err.msg, cases[i][1]) != NULL);
        CHECK(strstr(err.msg, "s3cretpw") == NULL);
        CHECK(strchr(err.msg, '\n') == NULL);
        if (strstr(err.msg, "s3cretpw") || !strstr(err.msg, cases[i][1]))
            fprintf(stderr, "  case %zu: %s\n", i, err.msg);
    }
}

/* How many statements named like the prepared ones the connection's
 * backend holds. */
static long prepared_count(PGconn *conn)
{
    bl_err err = {0};
    PGresult *res = bl_pg_exec(conn, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'bl_prep_%'", 0,
                               NULL, &err);
    long n = res ? atol(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

static void prepared_statements_are_reused_and_survive_a_reset(void)
{
    bl_err err = {0};
    bl_pg_pool *pool = bl_pg_pool_new(db_url, 1, &err);
    REQUIRE(pool);
    PGconn *conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    const char *sql = "SELECT $1::int + 1";
    for (int i = 0; i < 3; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        const char *p[] = {v};
        PGresult *res = bl_pg_exec_prepared(conn, sql, 1, p, &err);
        REQUIRE(res);
        CHECK_EQ_INT(atoi(PQgetvalue(res, 0, 0)), i + 1);
        PQclear(res);
    }
    CHECK_EQ_INT(prepared_count(conn), 1); /* prepared once, run three times */
    /* a statement the server forgot is prepared again */
    CHECK(bl_pg_exec_cmd(conn, "DEALLOCATE ALL", 0, NULL, &err) == 0);
    const char *p[] = {"41"};
    PGresult *res = bl_pg_exec_prepared(conn, sql, 1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "42") == 0);
    PQclear(res);
    /* a new backend (the pool reconnects a killed one) starts with none */
    long pid = backend_pid(conn);
    bl_pg_pool_release(pool, conn);
    CHECK(terminate_backend(pid) == 0);
    conn = bl_pg_pool_acquire(pool, WAIT_MS, &err);
    REQUIRE(conn);
    res = bl_pg_exec_prepared(conn, sql, 1, p, &err);
    CHECK(res && strcmp(PQgetvalue(res, 0, 0), "42") == 0);
    PQclear(res);
    CHECK_EQ_INT(prepared_count(conn), 1);
    /* past the per-connection bound statements still run, unprepared */
    for (int i = 0; i < 80; i++) {
        char text[64];
        snprintf(text, sizeof text, "SELECT $1::int + %d", i);
        res = bl_pg_exec_prepared(conn, text, 1, p, &err);
        CHECK(res && atoi(PQgetvalue(res, 0, 0)) == 41 + i);
        PQclear(res);
    }
    CHECK_EQ_INT(prepared_count(conn), 64);
    /* an error is the statement's, with its SQLSTATE */
    CHECK(bl_pg_exec_prepared(conn, "SELECT 1 / $1::int", 1, (const char *[]){"0"}, &err) == NULL);
    char state[6];
    CHECK(bl_pg_err_sqlstate(&err, state) == 0 && strcmp(state, "22012") == 0);
    bl_pg_pool_release(pool, conn);
    bl_pg_pool_free(pool);
}

int main(void)
{
    bl_err err = {0};
    if (bl_test_pg_fresh_db(db_url, sizeof db_url, &err) != 0) {
        fprintf(stderr, "cannot create test database: %s\n", err.msg);
        return 1;
    }
    BL_RUN(pool_round_trip_keeps_params_null_and_quotes);
    BL_RUN(transaction_commits_on_success_and_rolls_back_on_failure);
    BL_RUN(connection_released_inside_transaction_comes_back_rolled_back);
    BL_RUN(pool_exhaustion_waits_then_times_out);
    BL_RUN(eight_threads_share_a_pool_of_three_without_errors);
    BL_RUN(connection_killed_while_idle_is_recovered_on_next_use);
    BL_RUN(connection_killed_mid_use_fails_that_query_then_recovers);
    BL_RUN(bad_url_gives_clear_error_without_password);
    BL_RUN(prepared_statements_are_reused_and_survive_a_reset);
    bl_test_pg_drop_db(db_url);
    return bl_test_summary();
}
