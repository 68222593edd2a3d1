/* Schedule triggers (wf_schedule.h). */
#include "connectors/workflows/wf_schedule.h"

#include "connectors/workflows/wf_exec.h"
#include "core/cron.h"
#include "core/log.h"
#include "core/pg_pool.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Moves (or, next < 0, deletes) the schedule row of workflow wid. */
static int move_schedule(PGconn *conn, const char *wid, int64_t next, const char *fired, bl_err *err)
{
    char at[32];
    snprintf(at, sizeof at, "%lld", (long long)next);
    const char *p[] = {wid, at, fired};
    return next < 0 ? bl_pg_exec_cmd(conn, "DELETE FROM workflow_schedules WHERE workflow_id = $1::uuid", 1, p, err)
                    : bl_pg_exec_cmd(conn,
                                     "UPDATE workflow_schedules SET next_fire_at = to_timestamp($2::bigint),"
                                     " last_fired_at = coalesce($3::timestamptz, last_fired_at), updated_at = now()"
                                     " WHERE workflow_id = $1::uuid",
                                     3, p, err);
}

/* Fires the taken row r (one tuple). Returns 0, or -1 with err. */
static int fire(PGconn *conn, PGresult *r, bl_err *err)
{
    const char *wid = PQgetvalue(r, 0, 0), *org = PQgetvalue(r, 0, 1);
    int64_t due = strtoll(PQgetvalue(r, 0, 4), NULL, 10), now = strtoll(PQgetvalue(r, 0, 7), NULL, 10);
    bl_cron c;
    bl_err perr = {0};
    if (bl_cron_parse(PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), &c, &perr) != 0) {
        /* saved valid, so the zone left this host: tried again in an hour, never spun on */
        bl_log_warn("workflows: schedule not computable here", BL_FS("workflow_id", wid), BL_FS("error", perr.msg));
        return move_schedule(conn, wid, now + 3600, NULL, err);
    }
    char scheduled[BL_RFC3339_MS_SIZE], fired[BL_RFC3339_MS_SIZE], trigger_id[64], exec_id[BL_WF_ID_MAX] = "";
    if (bl_rfc3339_from_ms(due * 1000, scheduled, err) != 0 || bl_rfc3339_from_ms(now * 1000, fired, err) != 0)
        return -1;
    snprintf(trigger_id, sizeof trigger_id, "schedule:%s", scheduled);
    json_t *input = json_pack("{s:s, s:s, s:s, s:s, s:I}", "scheduledAt", scheduled, "firedAt", fired, "cron",
                              PQgetvalue(r, 0, 2), "timezone", PQgetvalue(r, 0, 3), "lateSeconds",
                              (json_int_t)(now - due));
    if (!input)
        return bl_err_set(err, BL_ENOMEM, "workflows: out of memory");
    int started = bl_wf_exec_start(conn, org, wid, PQgetvalue(r, 0, 5), PQgetvalue(r, 0, 6), trigger_id, input,
                                   exec_id, err);
    json_decref(input);
    if (started < 0)
        return -1;
    int64_t next = bl_cron_next(&c, now > due ? now : due);
    if (move_schedule(conn, wid, next, scheduled, err) != 0)
        return -1;
    if (started == 1)
        bl_log_info("workflows: schedule fired", BL_FS("workflow_id", wid), BL_FS("execution_id", exec_id),
                    BL_FS("scheduled_at", scheduled), BL_FI("late_seconds", now - due));
    return 0;
}

int bl_wf_schedule_fire_due(PGconn *conn, bl_err *err)
{
    if (bl_pg_begin(conn, err) != 0)
        return -1;
    PGresult *r = bl_pg_exec_prepared(
        conn,
        "SELECT s.workflow_id::text, s.organization_id::text, s.cron, s.timezone,"
        " extract(epoch FROM s.next_fire_at)::bigint, w.version, w.config -> 'steps' -> 0 ->> 'id',"
        " extract(epoch FROM now())::bigint FROM workflow_schedules s JOIN workflows w ON w.id = s.workflow_id"
        " WHERE s.next_fire_at <= now() AND w.is_active AND w.trigger_type = 'schedule'"
        " ORDER BY s.next_fire_at LIMIT 1 FOR UPDATE OF s SKIP LOCKED",
        0, NULL, err);
    int rc = !r ? -1 : PQntuples(r) == 0 ? 0 : fire(conn, r, err) == 0 ? 1 : -1;
    PQclear(r);
    if (rc >= 0 && bl_pg_commit(conn, err) == 0)
        return rc;
    bl_err keep = *err;
    bl_pg_rollback(conn, err);
    *err = keep;
    return -1;
}

int bl_wf_schedule_sync(PGconn *conn, const char *org, const char *id, const json_t *def, bl_err *err)
{
    const json_t *trigger = json_object_get(def, "trigger"), *cfg = json_object_get(trigger, "config");
    const char *type = json_string_value(json_object_get(trigger, "type"));
    const char *cron = json_string_value(json_object_get(cfg, "cron"));
    const json_t *tzj = json_object_get(cfg, "timezone");
    const char *tz = tzj ? json_string_value(tzj) : "UTC";
    bool scheduled = type && strcmp(type, "schedule") == 0 && !json_is_false(json_object_get(def, "isActive"));
    const char *dp[] = {id};
    if (!scheduled)
        return bl_pg_exec_cmd(conn, "DELETE FROM workflow_schedules WHERE workflow_id = $1::uuid", 1, dp, err);
    bl_cron c;
    if (bl_cron_parse(cron, tz, &c, err) != 0)
        return -1;
    int64_t next = bl_cron_next(&c, (int64_t)time(NULL));
    if (next < 0)
        return bl_err_set(err, BL_EINVAL, "trigger.config.cron: \"%s\" never fires in the next five years", cron);
    char at[32];
    snprintf(at, sizeof at, "%lld", (long long)next);
    const char *p[] = {id, org, cron, tz, at};
    return bl_pg_exec_cmd(conn,
                          "INSERT INTO workflow_schedules (workflow_id, organization_id, cron, timezone, next_fire_at)"
                          " VALUES ($1::uuid, $2::uuid, $3, $4, to_timestamp($5::bigint)) ON CONFLICT (workflow_id)"
                          " DO UPDATE SET next_fire_at = CASE WHEN workflow_schedules.cron = EXCLUDED.cron AND"
                          " workflow_schedules.timezone = EXCLUDED.timezone THEN workflow_schedules.next_fire_at"
                          " ELSE EXCLUDED.next_fire_at END, cron = EXCLUDED.cron, timezone = EXCLUDED.timezone,"
                          " updated_at = now()",
                          5, p, err);
}
