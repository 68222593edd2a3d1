/* The webhook domain's operational events (see ops_events.h). */
#include "connectors/webhook/store/ops_events.h"

#include "connectors/webhook/store/endpoint_store_internal.h"
#include "core/pg_pool.h"

#include <string.h>

int bl_webhook_ops_endpoint_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                                  const bl_webhook_endpoint *e, bl_err *err)
{
    json_t *types = json_array();
    for (size_t i = 0; types && i < e->event_type_count; i++)
        json_array_append_new(types, json_string(e->event_types[i]));
    json_t *data = types ? json_pack("{s:s, s:s, s:s, s:o, s:b}", "endpoint_id", e->id, "name", e->name, "url",
                                     e->url, "event_types", types, "is_active", e->active)
                         : NULL;
    int rc = data ? bl_webhook_events_append(ev, conn_in_tx, type, e->organization_id, e->id, data, err)
                  : bl_err_set(err, BL_ENOMEM, "webhook events: out of memory");
    json_decref(data);
    return rc;
}

int bl_webhook_ops_deleted_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *organization_id,
                                 const char *id, const char *name, const char *url, bl_err *err)
{
    json_t *data = json_pack("{s:s, s:s, s:s}", "endpoint_id", id, "name", name, "url", url);
    int rc = data ? bl_webhook_events_append(ev, conn_in_tx, "endpoint.deleted", organization_id, id, data, err)
                  : bl_err_set(err, BL_ENOMEM, "webhook events: out of memory");
    json_decref(data);
    return rc;
}

int bl_webhook_ops_attempt_event(const bl_webhook_events *ev, PGconn *conn_in_tx, const char *type,
                                 const bl_webhook_endpoint *e, const bl_webhook_attempt_info *a, bl_err *err)
{
    json_t *data = json_pack("{s:s, s:s, s:s, s:i, s:o, s:s}", "endpoint_id", e->id, "message_id", a->message_id,
                             "event_type", a->event_type, "attempts", a->attempts, "status_code",
                             a->status_code > 0 ? json_integer(a->status_code) : json_null(), "error",
                             a->error ? a->error : "");
    int rc = data ? bl_webhook_events_append(ev, conn_in_tx, type, e->organization_id, e->id, data, err)
                  : bl_err_set(err, BL_ENOMEM, "webhook events: out of memory");
    json_decref(data);
    return rc;
}

bool bl_webhook_ops_raises_attempt_events(const char *event_type)
{
    return event_type && strncmp(event_type, "message.attempt.", strlen("message.attempt.")) != 0;
}

int bl_webhook_store_attempt_event(bl_webhook_store *st, const char *endpoint_id, const char *type,
                                   const bl_webhook_attempt_info *a, bl_err *err)
{
    const bl_webhook_store_opts *o = bl_webhook_store_opts_of(st);
    if (!o->events)
        return 0;
    bl_webhook_endpoint *e = bl_webhook_store_get(st, endpoint_id, err);
    if (!e)
        return -1;
    PGconn *conn = bl_pg_pool_acquire(o->pool, o->acquire_timeout_ms, err);
    int rc = -1;
    if (conn && bl_pg_begin(conn, err) == 0) {
        rc = bl_webhook_ops_attempt_event(o->events, conn, type, e, a, err);
        if (rc == 0)
            rc = bl_pg_commit(conn, err);
        else
            bl_pg_rollback(conn, &(bl_err){0});
    }
    bl_pg_pool_release(o->pool, conn);
    bl_webhook_endpoint_free(e);
    return rc;
}
