/* An organization's egress proxy in PostgreSQL (see egress_proxy.h). */
#include "connectors/webhook/store/egress_proxy.h"

#include "core/pg_pool.h"

#include <jansson.h>

int bl_webhook_egress_proxy_set(PGconn *conn, const char *org, const char *url, const bl_ssrf_allowlist *allow,
                                bl_err *err)
{
    bl_ssrf_target target;
    if (!url || bl_ssrf_check_url(url, allow, &target, err) != 0) {
        if (!url)
            bl_err_set(err, BL_EINVAL, "url: required");
        err->code = BL_EINVAL; /* a name that does not resolve is refused the same way */
        return -1;
    }
    const char *params[] = {org, url};
    if (bl_pg_exec_cmd(conn,
                       "INSERT INTO organization_egress_proxies (organization_id, url) VALUES ($1, $2) "
                       "ON CONFLICT (organization_id) DO UPDATE SET url = EXCLUDED.url, updated_at = now()",
                       2, params, err) != 0)
        return bl_err_wrap(err, "egress proxy");
    return 0;
}

int bl_webhook_egress_proxy_clear(PGconn *conn, const char *org, bl_err *err)
{
    const char *params[] = {org};
    if (bl_pg_exec_cmd(conn, "DELETE FROM organization_egress_proxies WHERE organization_id = $1", 1, params,
                       err) != 0)
        return bl_err_wrap(err, "egress proxy");
    return 0;
}

json_t *bl_webhook_egress_proxy_get(PGconn *conn, const char *org, bl_err *err)
{
    const char *params[] = {org};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT coalesce((SELECT json_build_object('url', url, 'updated_at', "
                             "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
                             "FROM organization_egress_proxies WHERE organization_id = $1), "
                             "json_build_object('url', NULL, 'updated_at', NULL))::text",
                             1, params, err);
    if (!r) {
        bl_err_wrap(err, "egress proxy");
        return NULL;
    }
    json_t *j = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    if (!j)
        bl_err_set(err, BL_ENOMEM, "egress proxy: unreadable row");
    return j;
}
