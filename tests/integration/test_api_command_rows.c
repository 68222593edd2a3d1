/* The accepted-command rows' writer (api/command_rows.h) on a migrated
 * database: rows written by many requests at once are all there when each
 * request's call returns, and a row PostgreSQL refuses fails its own
 * request only, not the batch it was written with. */
#include "api/command_rows.h"
#include "tests/support/pg_test.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITERS 24
#define BAD 7 /* this writer's row has a request hash the table refuses */

static bl_pg_pool *pool;
static bl_api_command_rows *rows;
static char org[64];

typedef struct job {
    int index;
    char id[64];
    int rc;
    long found_after; /* the row's count when the write returned */
} job;

static void *write_one(void *arg)
{
    job *j = arg;
    char hash[65];
    memset(hash, j->index == BAD ? 'z' : 'a', 64);
    hash[64] = '\0';
    const char *row[7] = {j->id, org, "project.create", "t.commands.pmo", "prj-1", hash, "{\"status\":\"accepted\"}"};
    bl_err err = {0};
    j->rc = bl_api_command_rows_write(rows, row, &err);
    char count[16] = "";
    const char *p[] = {j->id};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn, "SELECT count(*) FROM api_commands WHERE command_id = $1 AND state = "
                                          "'accepted' AND accepted_at IS NOT NULL",
                                    1, p, &err)
                       : NULL;
    if (r)
        snprintf(count, sizeof count, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_pg_pool_release(pool, conn);
    j->found_after = count[0] ? atol(count) : -1;
    return NULL;
}

static void concurrent_rows_are_committed_when_each_write_returns(void)
{
    job jobs[WRITERS];
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        jobs[i] = (job){.index = i};
        snprintf(jobs[i].id, sizeof jobs[i].id, "00000000-0000-4000-8000-%012d", i + 1);
        REQUIRE(pthread_create(&t[i], NULL, write_one, &jobs[i]) == 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < WRITERS; i++) {
        if (i == BAD) {
            CHECK(jobs[i].rc != 0);
            CHECK_EQ_INT(jobs[i].found_after, 0);
        } else {
            CHECK_EQ_INT(jobs[i].rc, 0);
            CHECK_EQ_INT(jobs[i].found_after, 1);
        }
    }
}

int main(void)
{
    char url[512] = "";
    bl_err err = {0};
    int rc = 1;
    if (bl_test_pg_migrated_db(url, sizeof url, &err) != 0 || !(pool = bl_pg_pool_new(url, 4, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        goto done;
    }
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn, "INSERT INTO api_organizations (name, plan) VALUES ('rows', 'pro')"
                                          " RETURNING id", 0, NULL, &err)
                       : NULL;
    if (r)
        snprintf(org, sizeof org, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_pg_pool_release(pool, conn);
    if (!org[0] || !(rows = bl_api_command_rows_new(pool, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        goto done;
    }
    BL_RUN(concurrent_rows_are_committed_when_each_write_returns);
    rc = bl_test_summary();
done:
    bl_api_command_rows_free(rows);
    bl_pg_pool_free(pool);
    if (url[0])
        bl_test_pg_drop_db(url);
    return rc;
}
