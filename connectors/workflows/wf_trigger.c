/* The trigger consumer: every event on the bus is matched against the
 * active `event` workflows of its organization; each match starts an
 * execution (idempotent per workflow and event id). The offset is
 * committed only after every start is in PostgreSQL, so an event is never
 * lost, and one read twice starts nothing twice. */
#include "connectors/webhook/workers/event_reader.h"
#include "connectors/workflows/wf_exec.h"
#include "connectors/workflows/wf_orchestrator_internal.h"
#include "core/log.h"

#include <string.h>
#include <unistd.h>

#define POLL_MS 200
#define RETRY_MS 1000

/* Whether the trigger config (borrowed) of a workflow takes ev. */
static bool trigger_takes(const json_t *config, const bl_webhook_event *ev)
{
    const char *pattern = json_string_value(json_object_get(config, "eventType"));
    if (!pattern || !bl_event_type_matches(pattern, ev->type))
        return false;
    bl_err err = {0};
    bl_event_filter *f = bl_event_filter_new(json_object_get(config, "conditions"), &err);
    bool yes = f && bl_event_filter_matches(f, ev->envelope);
    bl_event_filter_free(f);
    return yes;
}

/* Starts every execution ev triggers. Returns 0, or -1 when the database
 * failed (try the event again). */
static int start_executions(bl_wf_orchestrator *o, const bl_webhook_event *ev)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(o->pool, 5000, &err);
    if (!conn) {
        bl_log_warn("workflows: no database connection for a trigger", BL_FS("error", err.msg));
        return -1;
    }
    const char *p[] = {ev->org};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT id::text, version, (config -> 'trigger' -> 'config')::text,"
                             " config -> 'steps' -> 0 ->> 'id' FROM workflows WHERE organization_id::text = $1"
                             " AND is_active AND trigger_type = 'event'",
                             1, p, &err);
    int rc = r ? 0 : -1;
    for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
        json_t *config = json_loads(PQgetvalue(r, i, 2), 0, NULL);
        if (config && trigger_takes(config, ev)) {
            char exec_id[BL_WF_ID_MAX] = "";
            int started = bl_wf_exec_start(conn, ev->org, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                                           PQgetvalue(r, i, 3), ev->id, ev->envelope, exec_id, &err);
            if (started < 0)
                rc = -1;
            else if (started == 1)
                bl_log_info("workflows: execution started", BL_FS("workflow_id", PQgetvalue(r, i, 0)),
                            BL_FS("execution_id", exec_id), BL_FS("event_id", ev->id), BL_FS("ce_type", ev->type));
        }
        json_decref(config);
    }
    PQclear(r);
    bl_pg_pool_release(o->pool, conn);
    if (rc != 0)
        bl_log_warn("workflows: executions not started (the event is read again)", BL_FS("event_id", ev->id),
                    BL_FS("error", err.msg));
    return rc;
}

/* Handles m until it is done (or the orchestrator stops). Returns 0 when m
 * may be committed. */
static int handle(bl_wf_orchestrator *o, const bl_kafka_msg *m)
{
    while (!atomic_load(&o->stopping)) {
        bl_webhook_event ev = {0};
        bl_err err = {0};
        int rc = bl_webhook_event_read(o->opts.schemas, m, &ev, &err);
        if (rc != 0 && (err.code == BL_EINVAL || err.code == BL_ENOTFOUND)) {
            bl_log_warn("workflows: unreadable event skipped", BL_FS("topic", bl_kafka_msg_topic(m)),
                        BL_FI("offset", bl_kafka_msg_offset(m)), BL_FS("error", err.msg));
            return 0;
        }
        if (rc == 0 && (!ev.org || !ev.type || !ev.id)) {
            bl_webhook_event_clear(&ev);
            return 0;
        }
        if (rc == 0)
            rc = start_executions(o, &ev);
        bl_webhook_event_clear(&ev);
        if (rc == 0)
            return 0;
        usleep(RETRY_MS * 1000);
    }
    return -1;
}

void *bl_wf_trigger_loop(void *arg)
{
    bl_wf_orchestrator *o = arg;
    while (!atomic_load(&o->stopping)) {
        bl_kafka_msg *m = NULL;
        bl_err err = {0};
        int rc = bl_kafka_consumer_poll(o->consumer, POLL_MS, &m, &err);
        if (rc == 1) {
            if (handle(o, m) == 0) {
                bl_kafka_offset off = bl_kafka_msg_next_offset(m);
                if (bl_kafka_consumer_commit_async(o->consumer, &off, 1, &err) != 0)
                    bl_log_warn("workflows: offset not committed (the event may be read again)",
                                BL_FS("error", err.msg));
            }
            bl_kafka_msg_release(m);
        } else if (rc < 0 && bl_kafka_consumer_fatal(o->consumer, &err)) {
            bl_log_error("workflows: trigger consumer stopped", BL_FS("error", err.msg));
            break;
        }
    }
    return NULL;
}
