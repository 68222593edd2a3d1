/* Durable timers in PostgreSQL (pg_timer.h). */
#include "core/pg_timer.h"

#include "core/pg_pool.h"

#include <stdio.h>

#define TIMER_SQL_MAX 640

int bl_pg_timer_claim(PGconn *conn, const bl_pg_timer *t, const char *owner, int64_t lease_ms, char *key_out,
                      size_t cap, bl_err *err)
{
    char sql[TIMER_SQL_MAX], lease[32];
    snprintf(sql, sizeof sql,
             "UPDATE %s t SET lease_owner = $1, lease_until = now() + $2::bigint * interval '1 millisecond'"
             " FROM (SELECT %s FROM %s WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())"
             " ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) d WHERE t.%s = d.%s RETURNING t.%s::text",
             t->table, t->key, t->table, t->key, t->key, t->key);
    snprintf(lease, sizeof lease, "%lld", (long long)lease_ms);
    const char *p[] = {owner, lease};
    PGresult *r = bl_pg_exec_prepared(conn, sql, 2, p, err);
    if (!r)
        return -1;
    int got = PQntuples(r) == 1;
    if (got)
        snprintf(key_out, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return got;
}

int bl_pg_timer_give_back(PGconn *conn, const bl_pg_timer *t, const char *key, const char *owner, bl_err *err)
{
    char sql[TIMER_SQL_MAX];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET lease_owner = NULL, lease_until = NULL WHERE %s = $1::%s AND lease_owner = $2",
             t->table, t->key, t->key_type);
    const char *p[] = {key, owner};
    return bl_pg_exec_cmd(conn, sql, 2, p, err);
}
