/* Provider calls counted in memory and written to integration_calls in one
 * INSERT per batch (when the batch is full, on flush and at free), so a
 * connector's call never waits on its own row. */
#include "connectors/oauth/oauth_internal.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *entries_json(const oauth_call_entry *e, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *row = json_pack("{s:s, s:s?, s:s, s:s, s:b, s:I, s:I, s:s?}", "organization_id", e[i].org_id,
                                "integration_id", e[i].integration_id[0] ? e[i].integration_id : NULL,
                                "provider", e[i].provider, "operation", e[i].operation, "success",
                                e[i].success, "http_status", (json_int_t)e[i].http_status,
                                "duration_us", (json_int_t)e[i].duration_us, "error_code",
                                e[i].error_code[0] ? e[i].error_code : NULL);
        if (!row || json_array_append_new(a, row) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Writes n entries; called without the lock held. */
static int write_entries(bl_oauth_store *st, const oauth_call_entry *e, size_t n, bl_err *err)
{
    if (n == 0)
        return 0;
    json_t *a = entries_json(e, n);
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
    PGconn *conn = bl_pg_pool_acquire(st->pool, 5000, err);
    int rc = -1;
    if (conn) {
        const char *p[] = {text};
        rc = bl_pg_exec_cmd(conn,
                            "INSERT INTO integration_calls (organization_id, integration_id, provider,"
                            " operation, success, http_status, duration_us, error_code)"
                            " SELECT organization_id, integration_id, provider, operation, success,"
                            " nullif(http_status, 0), duration_us, error_code FROM json_to_recordset($1::json)"
                            " AS x(organization_id uuid, integration_id uuid, provider text, operation text,"
                            " success boolean, http_status integer, duration_us bigint, error_code text)",
                            1, p, err);
        bl_pg_pool_release(st->pool, conn);
    }
    free(text);
    return rc;
}

/* Takes the pending entries out under the lock. */
static oauth_call_entry *take_pending(bl_oauth_store *st, size_t *n)
{
    pthread_mutex_lock(&st->calls_lock);
    oauth_call_entry *copy = NULL;
    *n = st->call_count;
    if (*n && (copy = malloc(*n * sizeof *copy)))
        memcpy(copy, st->calls, *n * sizeof *copy);
    if (copy)
        st->call_count = 0;
    else
        *n = 0;
    pthread_mutex_unlock(&st->calls_lock);
    return copy;
}

int bl_oauth_store_flush(bl_oauth_store *st, bl_err *err)
{
    size_t n = 0;
    oauth_call_entry *batch = take_pending(st, &n);
    int rc = write_entries(st, batch, n, err);
    free(batch);
    return rc;
}

void oauth_calls_record(bl_oauth_store *st, const char *org_id, const char *integration_id,
                        const char *provider, const char *operation, bool success, long status,
                        int64_t duration_us, int code)
{
    if (!org_id)
        return;
    pthread_mutex_lock(&st->calls_lock);
    bool full = false;
    if (st->call_count < st->cfg.calls_batch) {
        oauth_call_entry *e = &st->calls[st->call_count++];
        memset(e, 0, sizeof *e);
        snprintf(e->org_id, sizeof e->org_id, "%s", org_id);
        snprintf(e->integration_id, sizeof e->integration_id, "%s", integration_id ? integration_id : "");
        snprintf(e->provider, sizeof e->provider, "%s", provider);
        snprintf(e->operation, sizeof e->operation, "%s", operation);
        const char *name = bl_oauth_code_name(code);
        snprintf(e->error_code, sizeof e->error_code, "%s", success ? "" : name ? name : "INTERNAL");
        e->success = success;
        e->http_status = status;
        e->duration_us = duration_us;
        full = st->call_count == st->cfg.calls_batch;
    }
    pthread_mutex_unlock(&st->calls_lock);
    if (full) {
        bl_err err = {0};
        if (bl_oauth_store_flush(st, &err) != 0)
            bl_log_warn("oauth: provider calls not written", BL_FS("error", err.msg));
    }
}
