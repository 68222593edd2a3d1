/* Helpers of the /v1/webhooks route files (see webhook_api.h). */
#include "api/routes/webhook_api.h"
#include "api/routes/webhook_kafka_fields.h"

#include "connectors/webhook/policy/transformation.h"
#include "connectors/webhook/store/endpoint_ordering.h"
#include "connectors/webhook/store/webhook_events.h"
#include "consumers/retry_policy.h"
#include "core/log.h"
#include "core/time_format.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *make_webhook_events(bl_api_server *s, bl_err *err)
{
    /* the webhook domain's events go where the API's commands go: under its topic prefix (tests) */
    return bl_webhook_events_new(bl_api_server_pool(s), NULL, bl_api_server_config(s)->topic_prefix, err);
}

static void drop_webhook_events(void *events)
{
    bl_webhook_events_free(events);
}

int bl_api_webhook_env_open(const bl_api_request *req, int needs, bl_api_webhook_env *env, bl_err *err)
{
    bl_api_server *s = req->server;
    memset(env, 0, sizeof *env);
    env->audit = (bl_audit_hook){.who = bl_audit_actor_of(req), .entity_type = "webhook_endpoint",
                                 .table = "webhook_endpoints"};
    if (needs & BL_API_WH_KEYRING) {
        const char *keys = getenv(BL_KEYRING_ENV_KEYS);
        if (!keys || !*keys)
            return bl_err_set(err, BL_EINVAL, "webhooks: " BL_KEYRING_ENV_KEYS " is not set, so "
                                              "webhook secrets cannot be sealed or opened");
        if (!(env->keyring = bl_keyring_from_env(err)))
            return bl_err_wrap(err, "webhooks");
    }
    if (bl_ssrf_allowlist_parse(getenv(BL_API_WEBHOOK_ALLOW_ENV), &env->allow, err) != 0)
        return bl_err_wrap(err, "webhooks: " BL_API_WEBHOOK_ALLOW_ENV);
    bl_pg_pool *pool = bl_api_server_pool(s);
    if ((needs & BL_API_WH_EVENTS) &&
        !(env->events = bl_api_server_shared(s, "webhook_events", make_webhook_events, drop_webhook_events, err)))
        return bl_err_wrap(err, "webhooks: events");
    bl_webhook_store_opts o = {.pool = pool, .keyring = env->keyring, .allow = &env->allow,
                               .events = env->events, .on_change = bl_audit_hook_fn,
                               .change_ctx = &env->audit};
    env->store = bl_webhook_store_new(&o, err);
    return env->store ? 0 : -1;
}

int bl_api_webhook_env_open_logged(const bl_api_request *req, int needs, bl_api_webhook_env *env)
{
    bl_err err = {0};
    if (bl_api_webhook_env_open(req, needs, env, &err) == 0)
        return 0;
    bl_log_error("api: webhook store unavailable", BL_FS("request_id", bl_http_request_id(req->http)),
                 BL_FS("error", err.msg));
    return -1;
}

void bl_api_webhook_env_close(bl_api_webhook_env *env)
{
    bl_webhook_store_free(env->store);
    bl_audit_hook_clear(&env->audit);
    bl_keyring_free(env->keyring);
    memset(env, 0, sizeof *env);
}

bl_webhook_endpoint *bl_api_webhook_find(const bl_api_request *req, bl_webhook_store *st,
                                         bl_http_response *resp, int *rc)
{
    const char *id = bl_http_request_param(req->http, "id");
    bl_err err = {0};
    bl_webhook_endpoint *e = id ? bl_webhook_store_get(st, id, &err) : NULL;
    if (e && strcmp(e->organization_id, req->auth->org_id) == 0)
        return e;
    bool foreign = e != NULL;
    bl_webhook_endpoint_free(e);
    if (foreign || !id || err.code == BL_ENOTFOUND) {
        *rc = bl_api_fail(req->http, resp, 404, NULL, "no such webhook endpoint in this organization",
                          NULL);
        return NULL;
    }
    *rc = bl_api_webhook_fail(req, resp, &err);
    return NULL;
}

int bl_api_webhook_fail(const bl_api_request *req, bl_http_response *resp, const bl_err *err)
{
    if (err->code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, "no such webhook endpoint in this organization",
                           NULL);
    if (err->code != BL_EINVAL)
        return -1;
    /* "url: ssrf: ..." / "event_types[2]: ..." -> field "url" / "event_types" */
    size_t n = 0;
    while (err->msg[n] && (islower((unsigned char)err->msg[n]) || err->msg[n] == '_'))
        n++;
    char field[64] = "body";
    if (n > 0 && n < sizeof field && (err->msg[n] == ':' || err->msg[n] == '[' || err->msg[n] == '.')) /* kafka.topic: kafka */
        snprintf(field, sizeof field, "%.*s", (int)n, err->msg);
    if (strcmp(field, "hmac_header") == 0) /* the store's names of /v1's fields */
        snprintf(field, sizeof field, "signature_header");
    else if (strcmp(field, "event_types") == 0)
        snprintf(field, sizeof field, "events");
    json_t *fields = json_pack("{s:s}", field, err->msg);
    if (!fields)
        return -1;
    return bl_api_fail(req->http, resp, 422, NULL, "the webhook endpoint is not valid", fields);
}

/* ---- the JSON body -> settings ---- */

static void note(json_t *errors, const char *field, const char *message)
{
    json_object_set_new(errors, field, json_string(message));
}

static void read_text(const json_t *v, const char *field, size_t max, const char **out, json_t *errors)
{
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "a string of 1 to %zu characters", max);
        note(errors, field, msg);
        return;
    }
    *out = s;
}

static void read_int(const json_t *v, const char *field, long long min, long long max, long long *out,
                     json_t *errors)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "an integer from %lld to %lld", min, max);
        note(errors, field, msg);
        return;
    }
    *out = json_integer_value(v);
}

static void read_types(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n == 0 || n > BL_WEBHOOK_EVENT_TYPES_MAX) {
        note(errors, "events", "an array of 1 to 64 event types or patterns (\"risk.*\")");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        out->types[i] = json_string_value(json_array_get(v, i));
        if (!out->types[i]) {
            note(errors, "events", "every entry must be a string");
            return;
        }
    }
    out->spec.event_types = out->types;
    out->spec.event_type_count = n;
}

static void read_schedule(const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors)
{
    size_t n = json_array_size(v);
    out->spec.retry_schedule_s = NULL;
    out->spec.retry_schedule_len = 0;
    if (json_is_null(v))
        return;
    char msg[128];
    snprintf(msg, sizeof msg, "null, or an array of 1 to %d delays, each an integer from 1 to %d seconds",
             BL_WEBHOOK_RETRY_SCHEDULE_MAX, BL_WEBHOOK_RETRY_DELAY_MAX_S);
    if (!json_is_array(v) || n == 0 || n > BL_WEBHOOK_RETRY_SCHEDULE_MAX) {
        note(errors, "retry_schedule", msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(v, i);
        if (!json_is_integer(d) || json_integer_value(d) < 1 ||
            json_integer_value(d) > BL_WEBHOOK_RETRY_DELAY_MAX_S) {
            note(errors, "retry_schedule", msg);
            return;
        }
        out->schedule[i] = json_integer_value(d);
    }
    out->spec.retry_schedule_s = out->schedule;
    out->spec.retry_schedule_len = n;
}

/* One field of the body onto out; returns false for an unknown name. */
static bool read_field(const char *name, const json_t *v, bl_api_webhook_spec_buf *out, json_t *errors)
{
    bl_webhook_spec *s = &out->spec;
    long long n = 0;
    if (strcmp(name, "name") == 0) {
        read_text(v, name, BL_WEBHOOK_NAME_MAX, &s->name, errors);
    } else if (strcmp(name, "url") == 0) {
        read_text(v, name, BL_SSRF_URL_MAX, &s->url, errors);
    } else if (strcmp(name, "event_types") == 0 || strcmp(name, "events") == 0) {
        read_types(v, out, errors);
    } else if (strcmp(name, "conditions") == 0) {
        if (json_is_array(v) || json_is_null(v))
            s->conditions = json_is_null(v) ? NULL : v;
        else
            note(errors, name, "an array of {field, operator, value}");
    } else if (strcmp(name, "headers") == 0) {
        if (json_is_object(v) || json_is_null(v))
            s->headers = json_is_null(v) ? NULL : v;
        else
            note(errors, name, "an object of header name: value");
    } else if (strcmp(name, "signature_header") == 0) {
        if (json_is_null(v))
            s->hmac_header = NULL;
        else
            read_text(v, name, BL_WEBHOOK_HEADER_NAME_MAX, &s->hmac_header, errors);
    } else if (strcmp(name, "signature_scheme") == 0) {
        bl_webhook_scheme scheme = bl_webhook_scheme_parse(json_string_value(v));
        if (!scheme)
            note(errors, name, "\"v1\" (HMAC-SHA256), \"v1a\" (ed25519) or \"both\"");
        else
            s->signature_scheme = scheme;
    } else if (strcmp(name, "legacy_signature") == 0 || strcmp(name, "strict_order") == 0) {
        if (!json_is_boolean(v))
            note(errors, name, "true or false");
        else if (name[0] == 'l')
            s->legacy_signature = json_is_true(v);
        else
            s->strict_order = json_is_true(v);
    } else if (strcmp(name, "max_attempts") == 0) {
        n = s->max_attempts;
        read_int(v, name, 1, 100, &n, errors);
        s->max_attempts = (int)n;
    } else if (strcmp(name, "retry_count") == 0) {
        /* the document's retries after the first attempt */
        n = s->max_attempts - 1;
        read_int(v, name, 0, BL_RETRY_MAX_ATTEMPTS_LIMIT - 1, &n, errors);
        s->max_attempts = (int)n + 1;
    } else if (strcmp(name, "timeout_seconds") == 0) {
        n = s->timeout_ms / 1000;
        read_int(v, name, 1, BL_WEBHOOK_TIMEOUT_MAX_MS / 1000, &n, errors);
        s->timeout_ms = (int)n * 1000;
    } else if (strcmp(name, "backoff_base_ms") == 0) {
        n = s->backoff_base_ms;
        read_int(v, name, 1, 7LL * 24 * 3600 * 1000, &n, errors);
        s->backoff_base_ms = n;
    } else if (strcmp(name, "retry_schedule") == 0) {
        read_schedule(v, out, errors);
    } else if (strcmp(name, "max_age_seconds") == 0) {
        n = 0;
        if (!json_is_null(v))
            read_int(v, name, 1, BL_WEBHOOK_MAX_AGE_MAX_S, &n, errors);
        s->max_age_s = n;
    } else if (strcmp(name, "timeout_ms") == 0) {
        n = s->timeout_ms;
        read_int(v, name, 1, BL_WEBHOOK_TIMEOUT_MAX_MS, &n, errors);
        s->timeout_ms = (int)n;
    } else if (strcmp(name, "rate_limit_per_s") == 0) {
        double r = json_is_null(v) ? 0 : json_number_value(v);
        if (!json_is_null(v) && (!json_is_number(v) || !isfinite(r) || r <= 0 || r > BL_WEBHOOK_RATE_MAX))
            note(errors, name, "null (unlimited) or a number of requests per second up to 100000");
        else
            s->rate_limit_per_s = r;
    } else if (strcmp(name, "type") == 0) {
        bl_api_webhook_type_read(v, out, errors);
    } else if (strcmp(name, "kafka") == 0) {
        bl_api_webhook_kafka_read(v, out, errors);
    } else if (strcmp(name, "rate_limit_burst") == 0) {
        n = s->rate_limit_burst;
        if (json_is_null(v))
            n = 0;
        else
            read_int(v, name, 1, 1000000, &n, errors);
        s->rate_limit_burst = (int)n;
    } else if (strcmp(name, "ordering") == 0) {
        if (bl_webhook_ordering_parse(json_string_value(v), &s->strict_order) != 0)
            note(errors, name, BL_WEBHOOK_ORDERING_CHOICES);
    } else if (strcmp(name, "tls") == 0) {
        bl_api_webhook_tls_read(v, s, errors);
    } else if (strcmp(name, "transformation") == 0) {
        /* every problem of the rule is named: its compile error or each failed test case */
        s->transformation = json_is_null(v) ? NULL : v;
        if (s->transformation)
            bl_webhook_transformation_check(v, name, errors);
    } else {
        return false;
    }
    return true;
}

int bl_api_webhook_spec_read(const json_t *body, const bl_webhook_endpoint *base,
                             bl_api_webhook_spec_buf *out, json_t *errors)
{
    memset(out, 0, sizeof *out);
    if (base) {
        bl_webhook_spec_from_endpoint(base, &out->spec, out->types);
        for (size_t i = 0; i < base->retry_schedule_len; i++)
            out->schedule[i] = base->retry_schedule_s[i];
        if (base->retry_schedule_len)
            out->spec.retry_schedule_s = out->schedule;
    } else {
        out->spec.hmac_header = BL_API_WEBHOOK_HMAC_HEADER_DEFAULT;
        out->spec.max_attempts = BL_API_WEBHOOK_RETRY_COUNT_DEFAULT + 1;
        out->spec.backoff_base_ms = BL_WEBHOOK_DEFAULT_BACKOFF_MS;
        out->spec.timeout_ms = BL_WEBHOOK_DEFAULT_TIMEOUT_MS;
    }
    if (!json_is_object(body)) {
        note(errors, "body", "a JSON object is required");
        return -1;
    }
    const char *name;
    json_t *v;
    if (json_object_get(body, "events") && json_object_get(body, "event_types"))
        note(errors, "events", "give events or event_types, not both");
    if (json_object_get(body, "retry_count") && json_object_get(body, "max_attempts"))
        note(errors, "retry_count", "give retry_count or max_attempts, not both");
    if (json_object_get(body, "timeout_seconds") && json_object_get(body, "timeout_ms"))
        note(errors, "timeout_seconds", "give timeout_seconds or timeout_ms, not both");
    if (json_object_get(body, "ordering") && json_object_get(body, "strict_order"))
        note(errors, "ordering", "give ordering or strict_order, not both");
    /* an explicit schedule and the exponential settings exclude each other */
    const json_t *sched = json_object_get(body, "retry_schedule");
    bool keeps_schedule = sched ? !json_is_null(sched) : base && base->retry_schedule_len > 0;
    static const char *const exponential[] = {"max_attempts", "retry_count", "backoff_base_ms"};
    for (size_t i = 0; keeps_schedule && i < 3; i++) {
        if (!json_object_get(body, exponential[i]))
            continue;
        char msg[200];
        snprintf(msg, sizeof msg, "retry_schedule and %s exclude each other: give one (on update, "
                 "\"retry_schedule\": null returns to the exponential backoff)", exponential[i]);
        note(errors, "retry_schedule", msg);
        break;
    }
    json_object_foreach((json_t *)body, name, v) {
        /* is_active is a state, carried out by the caller (enable / disable) */
        if (strcmp(name, "is_active") == 0) {
            if (!json_is_boolean(v))
                note(errors, name, "true or false");
        } else if (!read_field(name, v, out, errors)) {
            note(errors, name, "unknown field");
        }
    }
    bl_api_webhook_kafka_finish(body, base, out, errors);
    if (!base) {
        if (!json_object_get(body, "events") && !json_object_get(body, "event_types") &&
            !json_object_get(errors, "events"))
            note(errors, "events", "required");
        static const char *const required[] = {"name", "url"};
        for (size_t i = 0; i < (out->spec.kafka ? 1 : 2); i++)
            if (!json_object_get(body, required[i]) && !json_object_get(errors, required[i]))
                note(errors, required[i], "required");
    }
    return json_object_size(errors) ? -1 : 0;
}

/* ---- pagination ---- */

static int query_long(const bl_http_request *req, const char *name, long min, long max, long *out,
                      json_t *errors)
{
    const char *text = bl_http_request_query(req, name);
    if (!text)
        return 0;
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "an integer from %ld to %ld", min, max);
        note(errors, name, msg);
        return -1;
    }
    *out = v;
    return 0;
}

int bl_api_page_read(const bl_http_request *req, long *limit, long *offset, json_t *errors)
{
    *limit = BL_API_PAGE_LIMIT_DEFAULT;
    *offset = 0;
    int a = query_long(req, "limit", 1, 1000000000L, limit, errors);
    int b = query_long(req, "offset", 0, 1000000000L, offset, errors);
    if (*limit > BL_API_PAGE_LIMIT_MAX)
        *limit = BL_API_PAGE_LIMIT_MAX;
    return a || b ? -1 : 0;
}

int bl_api_sort_read(const bl_http_request *req, const char *const *fields, const char **column,
                     const char **direction, json_t *errors)
{
    const char *v = bl_http_request_query(req, "sort");
    if (!v)
        return 0;
    const char *dot = strrchr(v, '.');
    size_t n = dot ? (size_t)(dot - v) : strlen(v);
    for (size_t i = 0; fields[i]; i++) {
        if (dot && strlen(fields[i]) == n && strncmp(fields[i], v, n) == 0 &&
            (strcmp(dot, ".asc") == 0 || strcmp(dot, ".desc") == 0)) {
            *column = fields[i];
            *direction = strcmp(dot, ".asc") == 0 ? "ASC" : "DESC";
            return 0;
        }
    }
    char msg[512] = "field.asc or field.desc with field one of:";
    for (size_t i = 0; fields[i]; i++)
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg), " %s", fields[i]);
    note(errors, "sort", msg);
    return -1;
}

json_t *bl_api_page_envelope(json_t *data, long total, long limit, long offset)
{
    if (!data)
        return NULL;
    return json_pack("{s:o, s:{s:I, s:I, s:I, s:b}}", "data", data, "pagination", "total",
                     (json_int_t)total, "limit", (json_int_t)limit, "offset", (json_int_t)offset,
                     "has_more", offset + (long)json_array_size(data) < total);
}

json_t *bl_api_page_slice(json_t *all, long limit, long offset)
{
    if (!all)
        return NULL;
    long total = (long)json_array_size(all);
    json_t *page = json_array();
    for (long i = offset; page && i < total && i < offset + limit; i++)
        json_array_append(page, json_array_get(all, (size_t)i));
    json_decref(all);
    return bl_api_page_envelope(page, total, limit, offset);
}

/* ---- the document's view of an endpoint ---- */

json_t *bl_api_webhook_last_triggered(bl_api_server *s, const char *org_id, const char *endpoint_id)
{
    const char *params[] = {org_id, endpoint_id};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(s, &err);
    PGresult *r = conn ? bl_pg_exec(conn,
                                    "SELECT endpoint_id, (extract(epoch FROM max(delivered_at)) * 1000)::bigint"
                                    " FROM webhook_deliveries WHERE organization_id = $1"
                                    " AND ($2::text IS NULL OR endpoint_id = $2) GROUP BY endpoint_id",
                                    2, params, &err)
                       : NULL;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(s), conn);
    if (!r) {
        bl_log_error("api: last deliveries unavailable", BL_FS("error", err.msg));
        return NULL;
    }
    json_t *out = json_object();
    for (int i = 0; out && i < PQntuples(r); i++) {
        char when[32];
        bl_rfc3339_format_millis(strtoll(PQgetvalue(r, i, 1), NULL, 10), when, sizeof when);
        json_object_set_new(out, PQgetvalue(r, i, 0), json_string(when));
    }
    PQclear(r);
    return out;
}

json_t *bl_api_webhook_creators(bl_api_server *s, const char *org_id, const char *endpoint_id)
{
    const char *params[] = {org_id, endpoint_id};
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(s, &err);
    PGresult *r = conn ? bl_pg_exec(conn,
                                    "SELECT id, created_by FROM webhook_endpoints WHERE organization_id = $1"
                                    " AND ($2::text IS NULL OR id = $2) AND created_by IS NOT NULL",
                                    2, params, &err)
                       : NULL;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(s), conn);
    if (!r) {
        bl_log_error("api: webhook creators unavailable", BL_FS("error", err.msg));
        return NULL;
    }
    json_t *out = json_object();
    for (int i = 0; out && i < PQntuples(r); i++)
        json_object_set_new(out, PQgetvalue(r, i, 0), json_string(PQgetvalue(r, i, 1)));
    PQclear(r);
    return out;
}

int bl_api_webhook_set_creator(const bl_api_request *req, const char *endpoint_id, bl_err *err)
{
    const char *who = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
    const char *params[] = {endpoint_id, req->auth->org_id, who[0] ? who : NULL};
    PGconn *conn = bl_api_acquire_pg(req->server, err);
    PGresult *r = conn ? bl_pg_exec(conn,
                                    "UPDATE webhook_endpoints SET created_by = $3"
                                    " WHERE id = $1 AND organization_id = $2",
                                    3, params, err)
                       : NULL;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    PQclear(r);
    return r ? 0 : -1;
}

json_t *bl_api_webhook_json(const bl_webhook_endpoint *e, const json_t *last, const json_t *creators)
{
    json_t *j = bl_webhook_endpoint_to_json(e);
    if (!j)
        return NULL;
    json_t *when = json_object_get(last, e->id);
    json_object_set(j, "events", json_object_get(j, "event_types"));
    json_object_set_new(j, "is_active", json_boolean(e->active));
    json_object_set_new(j, "retry_count", json_integer(e->max_attempts - 1));
    json_object_set_new(j, "timeout_seconds", json_real(e->timeout_ms / 1000.0));
    json_object_set_new(j, "last_triggered_at", when ? json_incref(when) : json_null());
    if (e->timeout_ms % 1000 == 0)
        json_object_set_new(j, "timeout_seconds", json_integer(e->timeout_ms / 1000));
    const json_t *by = json_object_get(creators, e->id);
    json_object_set_new(j, "created_by", by ? json_incref((json_t *)by) : json_null());
    return j;
}

int bl_api_answer_page(const bl_api_request *req, bl_http_response *resp, const char *from_where, int n,
                       const char *const *params, const char *row_json, const char *const *sorts)
{
    long limit, offset;
    const char *column = sorts[0], *direction = "DESC";
    json_t *errors = json_object();
    if (!errors || n < 0 || n > 8) {
        json_decref(errors);
        return -1;
    }
    bl_api_page_read(req->http, &limit, &offset, errors);
    bl_api_sort_read(req->http, sorts, &column, &direction, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    snprintf(off, sizeof off, "%ld", offset);
    const char *all[10];
    for (int i = 0; i < n; i++)
        all[i] = params[i];
    all[n] = lim;
    all[n + 1] = off;
    size_t len = strlen(from_where) + strlen(row_json) + 4 * strlen(column) + 512;
    char *sql = malloc(len);
    if (!sql)
        return -1;
    snprintf(sql, len,
             "WITH f AS (SELECT * FROM %s)"
             " SELECT (SELECT count(*) FROM f), coalesce((SELECT json_agg(x ORDER BY k) FROM"
             " (SELECT %s AS x, row_number() OVER (ORDER BY %s %s NULLS LAST) AS k FROM f"
             "  ORDER BY %s %s NULLS LAST LIMIT $%d::int OFFSET $%d::bigint) s), '[]')::text",
             from_where, row_json, column, direction, column, direction, n + 1, n + 2);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    PGresult *r = conn ? bl_pg_exec(conn, sql, n + 2, all, &err) : NULL;
    if (conn)
        bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    free(sql);
    if (!r) {
        bl_log_error("api: list query failed", BL_FS("error", err.msg));
        return -1;
    }
    json_t *data = json_loads(PQgetvalue(r, 0, 1), 0, NULL);
    json_t *out = bl_api_page_envelope(data, strtol(PQgetvalue(r, 0, 0), NULL, 10), limit, offset);
    PQclear(r);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}
