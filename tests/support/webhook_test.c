#include "tests/support/webhook_test.h"

#include "core/migrations.h"
#include "tests/support/pg_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pool, keyring and allow-list over f's database. */
static int fixture_parts(bl_webhook_fixture *f, bl_err *err)
{
    f->pool = bl_pg_pool_new(f->pg_url, 4, err);
    if (!f->pool)
        return -1;
    f->keyring = bl_keyring_parse(BL_WEBHOOK_TEST_KEYS, NULL, err);
    return f->keyring && bl_ssrf_allowlist_parse("127.0.0.0/8", &f->allow, err) == 0 ? 0 : -1;
}

int bl_webhook_fixture_attach(bl_webhook_fixture *f, const char *pg_url)
{
    memset(f, 0, sizeof *f);
    bl_err err = {0};
    snprintf(f->pg_url, sizeof f->pg_url, "%s", pg_url);
    if (!(f->conn = bl_pg_connect(f->pg_url, &err)) || fixture_parts(f, &err) != 0) {
        fprintf(stderr, "webhook fixture: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int bl_webhook_fixture_open(bl_webhook_fixture *f)
{
    memset(f, 0, sizeof *f);
    bl_err err = {0};
    if (bl_test_pg_fresh_db(f->pg_url, sizeof f->pg_url, &err) != 0)
        goto fail;
    f->have_db = 1;
    f->conn = bl_pg_connect(f->pg_url, &err);
    if (!f->conn || bl_migrations_apply(f->conn, BUSLINE_SOURCE_DIR "/migrations", &err) < 0)
        goto fail;
    if (fixture_parts(f, &err) != 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "webhook fixture: %s\n", err.msg);
    return -1;
}

void bl_webhook_fixture_close(bl_webhook_fixture *f)
{
    bl_keyring_free(f->keyring);
    bl_pg_pool_free(f->pool);
    PQfinish(f->conn);
    if (f->have_db)
        bl_test_pg_drop_db(f->pg_url);
    memset(f, 0, sizeof *f);
}

bl_webhook_spec bl_webhook_test_spec(const char *name, const char *const *types, size_t ntypes)
{
    return (bl_webhook_spec){
        .name = name,
        .url = "http://127.0.0.1:9/hook",
        .event_types = types,
        .event_type_count = ntypes,
    };
}

long bl_webhook_test_count(bl_webhook_fixture *f, const char *sql)
{
    PGresult *res = PQexec(f->conn, sql);
    long n = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    else
        fprintf(stderr, "  query failed: %s\n", PQerrorMessage(f->conn));
    PQclear(res);
    return n;
}
