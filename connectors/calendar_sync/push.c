/* Event-driven Attendance-X -> calendar (push.h). */
#include "connectors/calendar_sync/push.h"

#include "connectors/calendar_sync/run_internal.h"
#include "core/kafka_consumer.h"
#include "core/log.h"
#include "schemas/avro_json.h"
#include "schemas/codec.h"
#include "schemas/registry_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_calsync_pusher {
    bl_calsync_deps deps;
    bl_attendance_event_fn on_event;
    void *on_event_arg;
    bl_kafka_consumer *consumer;
    bl_registry_client *registry;
    bl_schema_cache *schemas;
    char worker[128];
};

/* One integration: the run's outbound rules for one row. */
static int push_one(const bl_calsync_deps *deps, PGconn *conn, const char *integration_id, const char *provider,
                    const char *org, const char *settings_text, const char *event_id, int *writes, bl_err *err)
{
    run r;
    memset(&r, 0, sizeof r);
    r.deps = deps;
    r.conn = conn;
    snprintf(r.integration_id, sizeof r.integration_id, "%s", integration_id);
    snprintf(r.org, sizeof r.org, "%s", org);
    snprintf(r.provider, sizeof r.provider, "%s", provider);
    snprintf(r.id, sizeof r.id, "push");
    r.error_list = json_array();
    r.touched = json_object();
    json_t *settings = json_loads(settings_text, 0, NULL);
    bl_err e = {0};
    int rc = 0;
    if (bl_calsync_mapping_load(settings, &r.map, &e) != 0) {
        bl_log_warn("calendar sync: settings not usable, event left for the next run",
                    BL_FS("integration_id", integration_id), BL_FS("error", e.msg));
        goto done;
    }
    if (!(r.prov = bl_calsync_provider_open(deps, provider, integration_id, err))) {
        rc = -1;
        goto done;
    }
    const char *p[] = {integration_id, org, event_id};
    PGresult *res = calsync_query(&r,
                                  "SELECT " ROW_JSON ", CASE WHEN l.event_id IS NULL THEN NULL ELSE " LINK_JSON
                                  " END FROM attendance_events e LEFT JOIN integration_event_links l ON"
                                  " l.integration_id = $1 AND l.event_id = e.event_id WHERE e.organization_id = $2"
                                  " AND e.event_id = $3 AND (l.event_id IS NULL OR l.event_version IS DISTINCT FROM"
                                  " e.version)",
                                  3, p, err);
    if (!res) {
        rc = -1;
        goto done;
    }
    if (PQntuples(res) == 1) {
        json_t *row = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        json_t *link = PQgetisnull(res, 0, 1) ? NULL : json_loads(PQgetvalue(res, 0, 1), 0, NULL);
        rc = row ? calsync_outbound_event(&r, row, link, err) : 0;
        json_decref(row);
        json_decref(link);
    }
    PQclear(res);
    if (writes)
        *writes += (int)(r.created + r.updated + r.deleted);
    if (r.errors > 0)
        bl_log_warn("calendar sync: push refused, left for the next run", BL_FS("integration_id", integration_id),
                    BL_FS("event_id", event_id),
                    BL_FS("error", json_string_value(json_object_get(json_array_get(r.error_list, 0), "error"))));
done:
    json_decref(settings);
    json_decref(r.error_list);
    json_decref(r.touched);
    bl_calsync_provider_free(r.prov);
    return rc;
}

int bl_calsync_push_event(const bl_calsync_deps *deps, const char *org, const char *event_id, int *writes,
                          bl_err *err)
{
    if (writes)
        *writes = 0;
    PGconn *conn = bl_pg_pool_acquire(deps->pool, 10000, err);
    if (!conn)
        return -1;
    const char *p[] = {org};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT id, provider, settings::text FROM integrations WHERE organization_id::text = $1"
                               " AND provider IN ('google_calendar', 'microsoft_365') AND status = 'connected'"
                               " AND sync_direction IN ('bidirectional', 'attendance_to_external') ORDER BY id",
                               1, p, err);
    int rc = res ? 0 : -1;
    for (int i = 0; res && rc == 0 && i < PQntuples(res); i++)
        rc = push_one(deps, conn, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), org, PQgetvalue(res, i, 2), event_id,
                      writes, err);
    PQclear(res);
    bl_pg_pool_release(deps->pool, conn);
    return rc;
}

bl_calsync_pusher *bl_calsync_pusher_new(const bl_calsync_pusher_opts *o, bl_err *err)
{
    bl_calsync_pusher *p = calloc(1, sizeof *p);
    if (!p) {
        bl_err_set(err, BL_ENOMEM, "calendar sync: out of memory");
        return NULL;
    }
    p->deps = o->deps;
    p->on_event = o->on_event;
    p->on_event_arg = o->on_event_arg;
    snprintf(p->worker, sizeof p->worker, "%s", o->deps.worker_id ? o->deps.worker_id : "push");
    p->deps.worker_id = p->worker;
    const char *topic = o->topic ? o->topic : "events.attendance.event";
    bl_kafka_consumer_opts co = {.brokers = o->brokers, .group_id = o->group ? o->group : "busline-sync"};
    if (!(p->registry = bl_registry_client_new(o->registry_url, 0, err)) ||
        !(p->schemas = bl_schema_cache_new(bl_registry_client_fetch_schema, p->registry, err)) ||
        !(p->consumer = bl_kafka_consumer_new(&co, err)) ||
        bl_kafka_consumer_subscribe(p->consumer, &topic, 1, err) != 0) {
        bl_calsync_pusher_free(p);
        return NULL;
    }
    return p;
}

void bl_calsync_pusher_free(bl_calsync_pusher *p)
{
    if (!p)
        return;
    if (p->consumer) {
        bl_err e = {0};
        bl_kafka_consumer_close(p->consumer, &e);
        bl_kafka_consumer_free(p->consumer);
    }
    bl_schema_cache_free(p->schemas);
    bl_registry_client_free(p->registry);
    free(p);
}

/* Handles one message; a message that is not an event of interest is done. */
static int handle(bl_calsync_pusher *p, const bl_kafka_msg *m, bl_err *err)
{
    size_t len = 0;
    const void *v = bl_kafka_msg_value(m, &len);
    avro_value_t value;
    const bl_avro_schema *writer = NULL;
    bl_err e = {0};
    if (!v || len == 0 || bl_codec_decode(p->schemas, v, len, &value, &writer, &e) != 0) {
        bl_log_warn("calendar sync: event not decoded, skipped", BL_FS("error", e.msg),
                    BL_FI("offset", bl_kafka_msg_offset(m)));
        return 0;
    }
    json_t *ev = bl_avro_to_json(writer, &value, BL_AVRO_JSON_PLAIN, &e);
    avro_value_decref(&value);
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *org = json_string_value(json_object_get(ev, "organization_id"));
    const char *event_id = json_string_value(json_object_get(json_object_get(ev, "data"), "event_id"));
    int rc = 0;
    if (p->on_event) {
        rc = ev ? p->on_event(p->on_event_arg, ev, err) : 0;
    } else if (type && org && event_id &&
        (!strcmp(type, "event.created") || !strcmp(type, "event.updated") || !strcmp(type, "event.cancelled"))) {
        int writes = 0;
        rc = bl_calsync_push_event(&p->deps, org, event_id, &writes, err);
        if (rc == 0 && writes > 0)
            bl_log_info("calendar sync: event pushed", BL_FS("event_id", event_id), BL_FS("type", type),
                        BL_FI("writes", writes));
    }
    json_decref(ev);
    return rc;
}

int bl_calsync_pusher_poll(bl_calsync_pusher *p, int timeout_ms, bl_err *err)
{
    int handled = 0;
    for (int wait = timeout_ms;; wait = 0) {
        bl_kafka_msg *m = NULL;
        int got = bl_kafka_consumer_poll(p->consumer, wait, &m, err);
        if (got < 0)
            return handled > 0 ? handled : -1;
        if (got == 0)
            return handled;
        int rc = handle(p, m, err);
        if (rc == 0) {
            bl_kafka_offset off = {bl_kafka_msg_topic(m), bl_kafka_msg_partition(m), bl_kafka_msg_offset(m) + 1};
            rc = bl_kafka_consumer_commit_sync(p->consumer, &off, 1, err);
        }
        bl_kafka_msg_release(m);
        if (rc != 0)
            return -1; /* not committed: read again after a restart or rebalance */
        handled++;
    }
}
