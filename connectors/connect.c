/* A connector under the consumer runtime: decode, map, hand to instances.
 * The integration sets live in connect_set.c, the handler threads and the
 * runtime hooks in connect_handlers.c. */
#include "connectors/connect_internal.h"

#include "consumers/retry_policy.h"
#include "connectors/oauth/oauth.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host's own backoff (a result's retry_after_ms of -1): the shared retry
 * policy, 1 s doubling up to max_backoff_ms, without jitter so a connector's
 * retries stay predictable for its tests and operators. */
static int64_t backoff_ms(const bl_connect *c, int attempt)
{
    bl_retry_policy p = {.base_delay_ms = 1000, .factor = 2.0, .max_delay_ms = c->cfg.max_backoff_ms};
    return bl_retry_backoff_ms(&p, attempt, NULL, NULL);
}

/* Calls the instance, with the one credentials refresh on AUTH_EXPIRED. A
 * refresh the provider refused (the OAuth store then marked the integration
 * `error` and published integration.disconnected) dead-letters with
 * INVALID_CREDENTIALS; a refresh that could not reach the provider is
 * retried later. */
static void call_instance(bl_connect *c, instance_set *is, size_t i, const bl_connector_event *ev,
                          bl_connector_result *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_ms = -1;
    c->table->handle(is->instances[i], ev, r);
    if (r->status != BL_CONNECTOR_AUTH_EXPIRED)
        return;
    bl_err err = {0};
    if (bl_connector_host_refresh_auth(is->hosts[i], &err) != 0) {
        char was[BL_CONNECTOR_MESSAGE_MAX];
        snprintf(was, sizeof was, "%s", r->message);
        int refused = err.code == BL_OAUTH_E_CREDENTIALS || err.code == BL_OAUTH_E_NOT_FOUND || err.code == BL_EINVAL;
        r->status = refused ? BL_CONNECTOR_PERMANENT : BL_CONNECTOR_RETRYABLE;
        r->retry_after_ms = -1;
        snprintf(r->message, sizeof r->message, "%sauth expired (%.200s) and no refresh: %.200s",
                 err.code == BL_OAUTH_E_CREDENTIALS ? "INVALID_CREDENTIALS: " : "", was, err.msg);
        return;
    }
    memset(r, 0, sizeof *r);
    r->retry_after_ms = -1;
    c->table->handle(is->instances[i], ev, r);
    if (r->status == BL_CONNECTOR_AUTH_EXPIRED)
        r->status = BL_CONNECTOR_PERMANENT; /* refused right after a refresh: not a stale token */
}

static const char *str_field(const json_t *event, const char *name)
{
    const char *s = json_string_value(json_object_get(event, name));
    return s ? s : "";
}

/* Runs every matching rule of every integration of the event's
 * organization for event with handler index's instances and folds the
 * results into one outcome. */
bl_outcome bl_connect_process_on(bl_connect *c, size_t index, const json_t *event, int attempt, char *msg, size_t cap)
{
    const char *id = str_field(event, "id"), *type = str_field(event, "type");
    if (!*id || !*type) {
        snprintf(msg, cap, "event without id or type");
        return bl_outcome_dead_letter(msg);
    }
    char *json = json_dumps(event, JSON_COMPACT);
    if (!json) {
        snprintf(msg, cap, "out of memory");
        return bl_outcome_retry(backoff_ms(c, attempt), msg);
    }
    int64_t retry_after = -2; /* -2: no retry wanted; -1: own backoff */
    int permanent = 0;
    msg[0] = '\0';
    integration_set *set = bl_connect_set_acquire(c);
    instance_set *is = &set->per_handler[index];
    for (size_t i = 0; i < set->n_ints; i++) {
        const integration *in = &set->ints[i];
        if (in->organization_id && strcmp(in->organization_id, str_field(event, "organization_id")) != 0)
            continue;
        for (int r = bl_mapping_match(in->mapping, 0, type, event); r >= 0;
             r = bl_mapping_match(in->mapping, (size_t)r + 1, type, event)) {
            char done_key[BL_STATE_KEY_MAX + 1], seen[8];
            snprintf(done_key, sizeof done_key, "done/%.400s/%d", id, r);
            bl_err err = {0};
            int done = bl_state_store_get(c->cfg.state, in->id, done_key, seen, sizeof seen, &err);
            if (done == 1)
                continue;
            bl_connector_result res = {0};
            bl_mapping_rendered fields = {0};
            if (done >= 0 && in->disabled) {
                res.status = BL_CONNECTOR_PERMANENT;
                snprintf(res.message, sizeof res.message, "INVALID_CREDENTIALS: the integration is in error"
                         " (%.300s): connect it again", in->disabled);
            } else if (done < 0) {
                res.status = BL_CONNECTOR_RETRYABLE;
                res.retry_after_ms = -1;
                snprintf(res.message, sizeof res.message, "%s", err.msg);
            } else if (bl_mapping_render(in->mapping, (size_t)r, event, &fields, &err) != 0) {
                res.status = BL_CONNECTOR_PERMANENT;
                snprintf(res.message, sizeof res.message, "mapping: %s", err.msg);
            } else {
                bl_connector_event ev = {
                    .id = id,
                    .type = type,
                    .subject = str_field(event, "subject"),
                    .organization_id = str_field(event, "organization_id"),
                    .time = str_field(event, "time"),
                    .json = json,
                    .json_len = strlen(json),
                    .integration_id = in->id,
                    .action = bl_mapping_action(in->mapping, (size_t)r),
                    .fields = fields.fields,
                    .n_fields = fields.n,
                    .attempt = attempt,
                };
                call_instance(c, is, i, &ev, &res);
                if (res.status == BL_CONNECTOR_OK &&
                    bl_state_store_put(c->cfg.state, in->id, done_key, "1", &err) != 0)
                    bl_log_warn("connect: could not record a done action", BL_FS("event_id", id),
                                BL_FS("error", err.msg));
            }
            bl_mapping_rendered_clear(&fields);
            bl_log_write(res.status == BL_CONNECTOR_OK ? BL_LOG_INFO : BL_LOG_WARN, "connect: action",
                         (const bl_field[]){BL_FS("connector", c->cfg.connector), BL_FS("integration_id", in->id),
                                            BL_FS("event_id", id), BL_FS("type", type),
                                            BL_FI("status", res.status), BL_FS("external_id", res.external_id),
                                            BL_FS("result", res.message), BL_FI("attempt", attempt), {0}});
            if (res.status == BL_CONNECTOR_OK)
                continue;
            if (res.status == BL_CONNECTOR_RETRYABLE) {
                int64_t after = res.retry_after_ms >= 0 ? res.retry_after_ms : -1;
                if (after > retry_after)
                    retry_after = after;
            } else {
                permanent = 1;
            }
            if (!msg[0] || res.status == BL_CONNECTOR_PERMANENT)
                snprintf(msg, cap, "integration %s: %s", in->id, res.message);
        }
    }
    bl_connect_set_release(c, set);
    free(json);
    if (retry_after > -2)
        return bl_outcome_retry(retry_after >= 0 ? retry_after : backoff_ms(c, attempt), msg);
    if (permanent)
        return bl_outcome_dead_letter(msg);
    return bl_outcome_done();
}

bl_outcome bl_connect_process(bl_connect *c, const json_t *event, int attempt, char *msg, size_t cap)
{
    return bl_connect_process_on(c, 0, event, attempt, msg, cap);
}

int bl_connect_health(bl_connect *c, bl_connect_health_fn fn, void *ctx)
{
    int bad = 0;
    integration_set *s = bl_connect_set_acquire(c);
    for (size_t i = 0; i < s->n_ints; i++) {
        char why[BL_CONNECTOR_MESSAGE_MAX] = "";
        int ok = !c->table->health || s->per_handler[0].instances[i] == NULL ||
                 c->table->health(s->per_handler[0].instances[i], why, sizeof why) == 0;
        bad += !ok;
        if (fn)
            fn(s->ints[i].id, ok ? NULL : why, ctx);
    }
    bl_connect_set_release(c, s);
    return bad;
}

json_t *bl_connect_decode(bl_connect *c, const void *value, size_t len, bl_err *err)
{
    if (!value || len == 0) {
        bl_err_set(err, BL_EINVAL, "decode: empty message");
        return NULL;
    }
    avro_value_t v;
    const bl_avro_schema *writer = NULL;
    if (bl_codec_decode(c->cfg.schemas, value, len, &v, &writer, err) != 0)
        return NULL;
    json_t *event = bl_avro_to_json(writer, &v, BL_AVRO_JSON_PLAIN, err);
    avro_value_decref(&v);
    return event;
}
