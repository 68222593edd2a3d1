/* IntegrationConfig JSON -> bl_call: every field checked, every URL through
 * the SSRF guard, before anything runs.
 *
 * Why "database" is refused: a safe one needs the query to run as a
 * PostgreSQL role that can only read, and only its own organization's rows.
 * Roles are cluster-wide objects that busline's migrations cannot create per
 * organization at run time without superuser-level CREATEROLE on the bus's
 * own database, and the bus's tables hold every organization's data (row
 * level security is not on them). A customer's own database would need its
 * connection string and credentials stored encrypted and a pool per target,
 * reached past the SSRF guard (libpq resolves names itself). Until that
 * exists, an http integration to a service that owns the database is the
 * safe way, and compile says so. */
#include "connectors/calls/call_internal.h"

#include "core/uuid.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TIMEOUT_DEFAULT_MS 10000
#define TIMEOUT_MAX_MS 120000
#define DELAY_BASE_MAX_MS 60000
#define DELAY_MAX_MAX_MS 300000

static const char *const type_names[] = {"http", "graphql", "webhook", "bus"};
static const char *const source_names[] = {"endpoint", "cache", "default-response", "alternative-service"};

const char *bl_call_type_name(bl_call_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "unknown";
}

const char *bl_call_source_name(bl_call_source s)
{
    return (unsigned)s < 4 ? source_names[s] : "unknown";
}

bl_call_type bl_call_get_type(const bl_call *c) { return c->type; }
const char *bl_call_id(const bl_call *c) { return c->id; }

/* ---- the process-wide default catalog ---- */

static pthread_once_t catalog_once = PTHREAD_ONCE_INIT;
static bl_catalog *default_catalog;
static bl_err default_catalog_err;

static void load_default_catalog(void)
{
    default_catalog = bl_catalog_load(bl_catalog_default_dir(), &default_catalog_err);
}

static const bl_catalog *catalog_of(const bl_call_compile_opts *opts, bl_err *err)
{
    if (opts && opts->catalog)
        return opts->catalog;
    pthread_once(&catalog_once, load_default_catalog);
    if (!default_catalog) {
        bl_err_set(err, default_catalog_err.code, "catalog: %s", default_catalog_err.msg);
        return NULL;
    }
    return default_catalog;
}

/* ---- field helpers ---- */

int bl_call_cfg_only_fields(const json_t *obj, const char *where, const char *const *allowed, bl_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        (void)v;
        bool ok = false;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                ok = true;
        if (!ok)
            return bl_err_set(err, BL_EINVAL, "%s%s%s: unknown field", where, *where ? "." : "", k);
    }
    return 0;
}

/* A string field: NULL when absent; *bad set when present but not a string. */
const char *bl_call_cfg_str(const json_t *obj, const char *name, const char *where, bool required,
                             bl_err *err, bool *bad)
{
    json_t *v = json_object_get(obj, name);
    if (!v) {
        if (required) {
            bl_err_set(err, BL_EINVAL, "%s%s%s: required", where, *where ? "." : "", name);
            *bad = true;
        }
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        bl_err_set(err, BL_EINVAL, "%s%s%s: must be a non-empty string", where, *where ? "." : "", name);
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

static int int_field(const json_t *obj, const char *name, const char *where, int64_t lo, int64_t hi,
                     int64_t dflt, int64_t *out, bl_err *err)
{
    json_t *v = json_object_get(obj, name);
    *out = dflt;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bl_err_set(err, BL_EINVAL, "%s%s%s: must be an integer from %lld to %lld", where,
                          *where ? "." : "", name, (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int compile_retry(bl_call *c, const json_t *rp, bl_err *err)
{
    static const char *const f[] = {"maxAttempts", "backoffStrategy", "baseDelay", "maxDelay", "jitter", NULL};
    int64_t v;
    c->retry = (bl_call_retry){1, BL_CALL_BACKOFF_EXPONENTIAL, 200, 10000, 0.1};
    if (!rp)
        return 0;
    if (!json_is_object(rp))
        return bl_err_set(err, BL_EINVAL, "retryPolicy: must be an object");
    if (bl_call_cfg_only_fields(rp, "retryPolicy", f, err) != 0)
        return -1;
    if (int_field(rp, "maxAttempts", "retryPolicy", 1, BL_CALL_MAX_ATTEMPTS, 1, &v, err) != 0)
        return -1;
    c->retry.max_attempts = (int)v;
    if (int_field(rp, "baseDelay", "retryPolicy", 0, DELAY_BASE_MAX_MS, 200, &c->retry.base_delay_ms, err) != 0)
        return -1;
    if (int_field(rp, "maxDelay", "retryPolicy", 0, DELAY_MAX_MAX_MS,
                  c->retry.base_delay_ms > 10000 ? c->retry.base_delay_ms : 10000, &c->retry.max_delay_ms, err) != 0)
        return -1;
    if (c->retry.max_delay_ms < c->retry.base_delay_ms)
        return bl_err_set(err, BL_EINVAL, "retryPolicy.maxDelay: must not be below baseDelay");
    json_t *s = json_object_get(rp, "backoffStrategy");
    if (s) {
        const char *sv = json_string_value(s);
        if (sv && strcmp(sv, "exponential") == 0)
            c->retry.strategy = BL_CALL_BACKOFF_EXPONENTIAL;
        else if (sv && strcmp(sv, "linear") == 0)
            c->retry.strategy = BL_CALL_BACKOFF_LINEAR;
        else if (sv && strcmp(sv, "fixed") == 0)
            c->retry.strategy = BL_CALL_BACKOFF_FIXED;
        else
            return bl_err_set(err, BL_EINVAL, "retryPolicy.backoffStrategy: must be linear, exponential or fixed");
    }
    json_t *j = json_object_get(rp, "jitter");
    if (j) {
        if (!json_is_number(j) || json_number_value(j) < 0 || json_number_value(j) > 1)
            return bl_err_set(err, BL_EINVAL, "retryPolicy.jitter: must be a number from 0 to 1");
        c->retry.jitter = json_number_value(j);
    }
    return 0;
}

static int compile_fallback(bl_call *c, const json_t *fb, const bl_call_compile_opts *opts, bl_err *err)
{
    static const char *const f[] = {"enabled", "strategy", "fallbackData", NULL};
    if (!fb)
        return 0;
    if (!json_is_object(fb))
        return bl_err_set(err, BL_EINVAL, "fallbackStrategy: must be an object");
    if (bl_call_cfg_only_fields(fb, "fallbackStrategy", f, err) != 0)
        return -1;
    json_t *en = json_object_get(fb, "enabled");
    if (en && !json_is_boolean(en))
        return bl_err_set(err, BL_EINVAL, "fallbackStrategy.enabled: must be a boolean");
    bool bad = false;
    const char *s = bl_call_cfg_str(fb, "strategy", "fallbackStrategy", true, err, &bad);
    if (bad)
        return -1;
    json_t *data = json_object_get(fb, "fallbackData");
    bl_call_fallback kind;
    if (strcmp(s, "cache") == 0) {
        kind = BL_CALL_FALLBACK_CACHE;
        if (data)
            return bl_err_set(err, BL_EINVAL, "fallbackStrategy.fallbackData: not used by the cache strategy");
    } else if (strcmp(s, "default-response") == 0) {
        kind = BL_CALL_FALLBACK_DEFAULT;
        if (!data)
            return bl_err_set(err, BL_EINVAL, "fallbackStrategy.fallbackData: required: the default response");
    } else if (strcmp(s, "alternative-service") == 0) {
        kind = BL_CALL_FALLBACK_ALTERNATIVE;
        if (c->type == BL_CALL_BUS)
            return bl_err_set(err, BL_EINVAL, "fallbackStrategy.strategy: a bus call has no alternative service");
        static const char *const af[] = {"endpoint", NULL};
        const char *url = NULL;
        if (json_is_string(data))
            url = json_string_value(data);
        else if (json_is_object(data)) {
            if (bl_call_cfg_only_fields(data, "fallbackStrategy.fallbackData", af, err) != 0)
                return -1;
            url = json_string_value(json_object_get(data, "endpoint"));
        }
        if (!url || !*url)
            return bl_err_set(err, BL_EINVAL, "fallbackStrategy.fallbackData.endpoint: required: the alternative service's URL");
        if (bl_call_check_url_template(url, opts ? opts->allow : NULL, "fallbackStrategy.fallbackData.endpoint", err) != 0)
            return -1;
        if (!(c->alternative = strdup(url)))
            return bl_err_set(err, BL_ENOMEM, "fallbackStrategy: out of memory");
    } else {
        return bl_err_set(err, BL_EINVAL, "fallbackStrategy.strategy: must be cache, default-response or alternative-service");
    }
    if (en && json_is_false(en))
        return 0; /* validated, off */
    c->fallback = kind;
    if (kind == BL_CALL_FALLBACK_DEFAULT)
        c->fallback_data = json_deep_copy(data);
    return 0;
}

static int compile_breaker(bl_call *c, const json_t *cb, bl_err *err)
{
    static const char *const f[] = {"failureThreshold", "windowMs", "openMs", "probesToClose", NULL};
    if (!cb)
        return 0;
    if (!json_is_object(cb) || bl_call_cfg_only_fields(cb, "circuitBreaker", f, err) != 0)
        return json_is_object(cb) ? -1 : bl_err_set(err, BL_EINVAL, "circuitBreaker: must be an object");
    bl_breaker_config d = bl_breaker_config_default();
    int64_t th, win, open, probes;
    if (int_field(cb, "failureThreshold", "circuitBreaker", 1, BL_BREAKER_MAX_THRESHOLD, d.failure_threshold, &th, err) ||
        int_field(cb, "windowMs", "circuitBreaker", 1, 86400000, d.window_ms, &win, err) ||
        int_field(cb, "openMs", "circuitBreaker", 1, 86400000, d.open_ms, &open, err) ||
        int_field(cb, "probesToClose", "circuitBreaker", 1, BL_BREAKER_MAX_THRESHOLD, d.probes_to_close, &probes, err))
        return -1;
    c->breaker = (bl_breaker_config){(int)th, win, open, (int)probes};
    c->has_breaker = true;
    return bl_breaker_config_check(&c->breaker, err) == 0 ? 0 : bl_err_wrap(err, "circuitBreaker");
}

static int compile_bus(bl_call *c, const json_t *cfg, const bl_call_compile_opts *opts, bl_err *err)
{
    bool bad = false;
    const char *topic = bl_call_cfg_str(cfg, "topic", "", true, err, &bad);
    const char *mt = bad ? NULL : bl_call_cfg_str(cfg, "messageType", "", true, err, &bad);
    const char *subject = bad ? NULL : bl_call_cfg_str(cfg, "subject", "", true, err, &bad);
    if (bad)
        return -1;
    const bl_catalog *cat = catalog_of(opts, err);
    if (!cat)
        return -1;
    const bl_catalog_topic *t = bl_catalog_topic_find(cat, topic, NULL);
    if (!t)
        return bl_err_set(err, BL_EINVAL, "topic: %.128s is not a topic of the catalog", topic);
    const bl_catalog_msg *m = bl_catalog_find(cat, t->kind, t->domain, mt, NULL);
    if (!m || strcmp(m->topic, t->name) != 0)
        return bl_err_set(err, BL_EINVAL, "messageType: %.64s is not a %s of topic %.128s", mt,
                          t->kind == BL_MSG_COMMAND ? "command" : "event", topic);
    json_t *data = json_object_get(cfg, "data");
    if (data && !json_is_object(data))
        return bl_err_set(err, BL_EINVAL, "data: must be an object template");
    c->kind = t->kind;
    c->topic = strdup(t->name);
    c->domain = strdup(t->domain);
    c->message_type = strdup(m->type);
    c->subject = strdup(subject);
    c->data = data ? json_deep_copy(data) : NULL;
    if (!c->topic || !c->domain || !c->message_type || !c->subject)
        return bl_err_set(err, BL_ENOMEM, "bus: out of memory");
    return 0;
}

static int compile_graphql(bl_call *c, const json_t *cfg, bl_err *err)
{
    bool bad = false;
    const char *q = bl_call_cfg_str(cfg, "query", "", true, err, &bad);
    const char *op = bad ? NULL : bl_call_cfg_str(cfg, "operationName", "", false, err, &bad);
    if (bad)
        return -1;
    json_t *vars = json_object_get(cfg, "variables");
    if (vars && !json_is_object(vars))
        return bl_err_set(err, BL_EINVAL, "variables: must be an object template");
    c->query = strdup(q);
    c->operation_name = dup_or_null(op);
    c->variables = vars ? json_deep_copy(vars) : NULL;
    c->method = strdup("POST");
    return c->query && c->method ? 0 : bl_err_set(err, BL_ENOMEM, "graphql: out of memory");
}

static int compile_http(bl_call *c, const json_t *cfg, bl_err *err)
{
    bool bad = false;
    const char *m = bl_call_cfg_str(cfg, "method", "", false, err, &bad);
    if (bad)
        return -1;
    if (c->type == BL_CALL_WEBHOOK && m && strcmp(m, "POST") != 0)
        return bl_err_set(err, BL_EINVAL, "method: a webhook is always POST");
    if (!m)
        m = c->type == BL_CALL_WEBHOOK ? "POST" : "GET";
    static const char *const verbs[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    bool known = false;
    for (size_t i = 0; verbs[i]; i++)
        known |= strcmp(m, verbs[i]) == 0;
    if (!known)
        return bl_err_set(err, BL_EINVAL, "method: must be GET, POST, PUT, PATCH or DELETE");
    json_t *body = json_object_get(cfg, "body");
    bool sends_body = strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
    if (body && !sends_body)
        return bl_err_set(err, BL_EINVAL, "body: a %s request has no body", m);
    c->method = strdup(m);
    c->body = body ? json_deep_copy(body) : NULL;
    c->body_is_input = !body && sends_body;
    return c->method ? 0 : bl_err_set(err, BL_ENOMEM, "http: out of memory");
}

static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > BL_CALL_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return false;
    return true;
}

bl_call *bl_call_compile(const json_t *cfg, const bl_call_compile_opts *opts, bl_err *err)
{
    static const char *const common[] = {"id", "name", "type", "authentication", "headers", "timeout",
                                         "retryPolicy", "fallbackStrategy", "circuitBreaker", NULL};
    static const char *const http_f[] = {"endpoint", "method", "body", NULL};
    static const char *const gql_f[] = {"endpoint", "query", "variables", "operationName", NULL};
    static const char *const hook_f[] = {"endpoint", "method", "body", NULL};
    static const char *const bus_f[] = {"topic", "messageType", "subject", "data", NULL};
    if (!json_is_object(cfg)) {
        bl_err_set(err, BL_EINVAL, "integration: must be an object");
        return NULL;
    }
    bl_call *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "integration: out of memory");
        return NULL;
    }
    bool bad = false;
    const char *id = bl_call_cfg_str(cfg, "id", "", true, err, &bad);
    const char *type = bad ? NULL : bl_call_cfg_str(cfg, "type", "", true, err, &bad);
    if (bad)
        goto fail;
    if (!id_ok(id)) {
        bl_err_set(err, BL_EINVAL, "id: 1 to %d of letters, digits, '_', '.', '-'", BL_CALL_ID_MAX);
        goto fail;
    }
    snprintf(c->id, sizeof c->id, "%s", id);
    json_t *name = json_object_get(cfg, "name");
    if (name && !json_is_string(name)) {
        bl_err_set(err, BL_EINVAL, "name: must be a string");
        goto fail;
    }
    const char *const *own;
    if (strcmp(type, "http") == 0) {
        c->type = BL_CALL_HTTP;
        own = http_f;
    } else if (strcmp(type, "graphql") == 0) {
        c->type = BL_CALL_GRAPHQL;
        own = gql_f;
    } else if (strcmp(type, "webhook") == 0) {
        c->type = BL_CALL_WEBHOOK;
        own = hook_f;
    } else if (strcmp(type, "bus") == 0) {
        c->type = BL_CALL_BUS;
        own = bus_f;
    } else if (strcmp(type, "database") == 0) {
        bl_err_set(err, BL_EINVAL, "type: database is not supported: busline cannot yet give each organization "
                   "a read-only role of its own, so a query could read other organizations' rows; "
                   "call a service that owns the database over http instead");
        goto fail;
    } else {
        bl_err_set(err, BL_EINVAL, "type: must be http, graphql, webhook or bus");
        goto fail;
    }
    /* every field known to the type or common */
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)cfg, k, v) {
        (void)v;
        bool ok = false;
        for (size_t i = 0; common[i]; i++)
            ok |= strcmp(k, common[i]) == 0;
        for (size_t i = 0; own[i]; i++)
            ok |= strcmp(k, own[i]) == 0;
        if (!ok) {
            bl_err_set(err, BL_EINVAL, "%.64s: unknown field for a %s integration", k, type);
            goto fail;
        }
    }
    const char *org = opts && opts->organization_id ? opts->organization_id : "";
    size_t keylen = strlen(org) + strlen(c->id) + 2;
    c->key = malloc(keylen);
    c->organization_id = strdup(org);
    c->actor = strdup(opts && opts->actor ? opts->actor : "custom-api");
    if (!c->key || !c->organization_id || !c->actor) {
        bl_err_set(err, BL_ENOMEM, "integration: out of memory");
        goto fail;
    }
    snprintf(c->key, keylen, "%s/%s", org, c->id);
    if (c->type != BL_CALL_BUS) {
        const char *ep = bl_call_cfg_str(cfg, "endpoint", "", true, err, &bad);
        if (bad || bl_call_check_url_template(ep, opts ? opts->allow : NULL, "endpoint", err) != 0)
            goto fail;
        if (!(c->endpoint = strdup(ep))) {
            bl_err_set(err, BL_ENOMEM, "integration: out of memory");
            goto fail;
        }
    }
    int rc = c->type == BL_CALL_BUS       ? compile_bus(c, cfg, opts, err)
             : c->type == BL_CALL_GRAPHQL ? compile_graphql(c, cfg, err)
                                          : compile_http(c, cfg, err);
    if (rc != 0)
        goto fail;
    int64_t timeout;
    if (bl_call_compile_auth(c, json_object_get(cfg, "authentication"), err) != 0 ||
        bl_call_compile_headers(c, json_object_get(cfg, "headers"), err) != 0 ||
        int_field(cfg, "timeout", "", 1, TIMEOUT_MAX_MS, TIMEOUT_DEFAULT_MS, &timeout, err) != 0 ||
        compile_retry(c, json_object_get(cfg, "retryPolicy"), err) != 0 ||
        compile_fallback(c, json_object_get(cfg, "fallbackStrategy"), opts, err) != 0 ||
        compile_breaker(c, json_object_get(cfg, "circuitBreaker"), err) != 0)
        goto fail;
    c->timeout_ms = (long)timeout;
    return c;
fail:
    bl_call_free(c);
    return NULL;
}

void bl_call_free(bl_call *c)
{
    if (!c)
        return;
    free(c->key);
    free(c->organization_id);
    free(c->actor);
    free(c->endpoint);
    free(c->method);
    for (size_t i = 0; i < c->header_count; i++) {
        free(c->header_names[i]);
        free(c->header_values[i]);
    }
    json_decref(c->body);
    free(c->query);
    free(c->operation_name);
    json_decref(c->variables);
    free(c->topic);
    free(c->message_type);
    free(c->subject);
    json_decref(c->data);
    free(c->domain);
    free(c->auth_header);
    bl_webhook_secret_wipe(&c->secret);
    json_decref(c->fallback_data);
    free(c->alternative);
    free(c);
}
