/* A connector under the consumer runtime: decode, map, hand to instances. */
#include "connectors/connect.h"

#include "consumers/retry_policy.h"
#include "connectors/loader.h"
#include "connectors/mapping.h"
#include "connectors/oauth/oauth.h"
#include "core/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct integration {
    char *id;
    char *organization_id; /* NULL: every organization */
    char *settings;        /* JSON text given to init */
    json_t *credentials;
    bl_mapping *mapping;
    int oauth;             /* bearer tokens from cfg.token */
    char *disabled;        /* status "error": why its events are dead-lettered */
} integration;

/* The instances of one handler thread (or of the inline caller). */
typedef struct instance_set {
    bl_connector_host_impl **hosts; /* per integration */
    void **instances;               /* per integration */
} instance_set;

/* What a load (bl_connect_new or a reload) built: the integrations and one
 * instance set per handler. Reference counted: the connector holds one, each
 * event being processed another, so a reload never frees instances in use. */
typedef struct integration_set {
    integration *ints;
    size_t n_ints;
    instance_set *per_handler;
    int refs;
} integration_set;

typedef struct handler {
    struct bl_connect *c;
    pthread_t thread;
    int started;
    size_t index;
} handler;

/* One message handed to the handler threads. */
typedef struct work {
    bl_runtime_job *job; /* NULL once the runtime abandoned it */
    bl_runtime *rt;
    json_t *event;       /* NULL when decoding failed */
    char error[256];
    int attempt;
    int running;
    struct work *next;
} work;

struct bl_connect {
    bl_connect_config cfg;
    bl_connector_lib *lib;
    const bl_connector_table *table;
    integration_set *set; /* current; replaced under lock by reloads */
    handler *handlers;
    size_t n_sets; /* instance sets: one per handler thread, or one inline */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    work *head, *tail;
    int quit;
};

static void integration_clear(integration *in)
{
    free(in->id);
    free(in->organization_id);
    free(in->settings);
    free(in->disabled);
    json_decref(in->credentials);
    bl_mapping_free(in->mapping);
}

static int integration_load(bl_connect *c, integration *in, const json_t *spec, bl_err *err)
{
    const char *id = json_string_value(json_object_get(spec, "id"));
    if (!id || !*id)
        return bl_err_set(err, BL_EINVAL, "id: a non-empty string is required");
    const json_t *settings = json_object_get(spec, "settings");
    if (settings && !json_is_object(settings))
        return bl_err_set(err, BL_EINVAL, "settings: an object is required");
    const json_t *creds = json_object_get(spec, "credentials");
    if (creds && !json_is_object(creds))
        return bl_err_set(err, BL_EINVAL, "credentials: an object is required");
    const json_t *oauth = json_object_get(spec, "oauth");
    if (oauth && !json_is_boolean(oauth))
        return bl_err_set(err, BL_EINVAL, "oauth: a boolean is required");
    const char *status = json_string_value(json_object_get(spec, "status"));
    if (status && strcmp(status, "connected") != 0 && strcmp(status, "error") != 0)
        return bl_err_set(err, BL_EINVAL, "status: connected or error");
    const char *org = json_string_value(json_object_get(spec, "organization_id"));
    in->id = strdup(id);
    in->organization_id = org ? strdup(org) : NULL;
    in->settings = settings ? json_dumps(settings, JSON_COMPACT) : strdup("{}");
    in->credentials = creds ? json_deep_copy(creds) : json_object();
    /* Without "oauth", the token source (when there is one) serves every
     * integration, as before the Postgres source existed. */
    in->oauth = oauth ? json_is_true(oauth) : c->cfg.token != NULL;
    if (status && strcmp(status, "error") == 0) {
        const char *why = json_string_value(json_object_get(spec, "error_message"));
        in->disabled = strdup(why && *why ? why : "the integration is in error");
    }
    if (!in->id || (org && !in->organization_id) || !in->settings || !in->credentials ||
        (status && strcmp(status, "error") == 0 && !in->disabled))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    json_t *rules = json_object_get(spec, "rules");
    json_t *none = rules ? NULL : json_array();
    in->mapping = bl_mapping_new(rules ? rules : none, c->table,
                                 c->cfg.catalog ? bl_mapping_catalog_field_known : NULL,
                                 (void *)c->cfg.catalog, err);
    json_decref(none);
    return in->mapping ? 0 : bl_err_wrap(err, "rules");
}

/* Creates the host and instance of integration i in set is. */
static int instance_init(bl_connect *c, instance_set *is, const integration *in, size_t i, bl_err *err)
{
    bl_connector_host_config hc = {
        .connector = c->cfg.connector,
        .integration_id = in->id,
        .credentials = in->credentials,
        .state = c->cfg.state,
        .http_timeout_ms = c->cfg.http_timeout_ms,
        .token = in->oauth ? c->cfg.token : NULL,
        .token_ctx = c->cfg.token_ctx,
    };
    is->hosts[i] = bl_connector_host_new(&hc, err);
    if (!is->hosts[i])
        return bl_err_wrap(err, "integration %s", in->id);
    char why[BL_ERR_MSG_MAX] = "";
    if (c->table->init(in->settings, bl_connector_host_table(is->hosts[i]), &is->instances[i], why, sizeof why) !=
        0) {
        is->instances[i] = NULL;
        return bl_err_set(err, BL_EINVAL, "integration %s: %s", in->id, why[0] ? why : "init failed");
    }
    return 0;
}

static void instance_clear(bl_connect *c, instance_set *is, size_t i)
{
    if (is->instances && is->instances[i])
        c->table->shutdown(is->instances[i]);
    if (is->hosts)
        bl_connector_host_free(is->hosts[i]);
}

static void set_free(bl_connect *c, integration_set *s)
{
    if (!s)
        return;
    for (size_t h = 0; s->per_handler && h < c->n_sets; h++) {
        for (size_t i = 0; i < s->n_ints; i++)
            instance_clear(c, &s->per_handler[h], i);
        free(s->per_handler[h].hosts);
        free(s->per_handler[h].instances);
    }
    free(s->per_handler);
    for (size_t i = 0; s->ints && i < s->n_ints; i++)
        integration_clear(&s->ints[i]);
    free(s->ints);
    free(s);
}

/* Loads integration spec k into slot s->n_ints and its instances; on
 * success s->n_ints grows. Returns 0, or -1 with err and s unchanged. */
static int set_add(bl_connect *c, integration_set *s, const json_t *spec, size_t k, bl_err *err)
{
    size_t i = s->n_ints;
    integration *in = &s->ints[i];
    memset(in, 0, sizeof *in);
    int rc = integration_load(c, in, spec, err);
    if (rc != 0)
        bl_err_wrap(err, "integration %zu", k + 1);
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(s->ints[j].id, in->id) == 0)
            rc = bl_err_set(err, BL_EINVAL, "integration %s: id used twice", in->id);
    size_t made = 0; /* sets whose slot i needs clearing on failure */
    while (rc == 0 && made < c->n_sets)
        rc = instance_init(c, &s->per_handler[made++], in, i, err);
    if (rc == 0) {
        s->n_ints++;
        return 0;
    }
    for (size_t h = 0; h < made; h++) {
        instance_clear(c, &s->per_handler[h], i);
        s->per_handler[h].hosts[i] = NULL;
        s->per_handler[h].instances[i] = NULL;
    }
    integration_clear(in);
    memset(in, 0, sizeof *in);
    return -1;
}

/* Builds a set from integrations (a JSON array). An integration marked
 * "skip_invalid" that does not load is logged and left out; any other
 * failure fails the whole set. Returns the set (refs 1) or NULL with err. */
static integration_set *set_build(bl_connect *c, const json_t *integrations, bl_err *err)
{
    size_t n = json_array_size(integrations);
    if (!json_is_array(integrations) || n > BL_CONNECT_MAX_INTEGRATIONS) {
        bl_err_set(err, BL_EINVAL, "connect: integrations: an array of at most %d is required",
                   BL_CONNECT_MAX_INTEGRATIONS);
        return NULL;
    }
    integration_set *s = calloc(1, sizeof *s);
    if (!s || !(s->ints = calloc(n + 1, sizeof *s->ints)) ||
        !(s->per_handler = calloc(c->n_sets, sizeof *s->per_handler)))
        goto oom;
    for (size_t h = 0; h < c->n_sets; h++)
        if (!(s->per_handler[h].hosts = calloc(n + 1, sizeof *s->per_handler[h].hosts)) ||
            !(s->per_handler[h].instances = calloc(n + 1, sizeof *s->per_handler[h].instances)))
            goto oom;
    s->refs = 1;
    for (size_t k = 0; k < n; k++) {
        const json_t *spec = json_array_get(integrations, k);
        if (set_add(c, s, spec, k, err) == 0)
            continue;
        if (!json_is_true(json_object_get(spec, "skip_invalid"))) {
            set_free(c, s);
            return NULL;
        }
        bl_log_warn("connect: integration left out", BL_FS("connector", c->cfg.connector), BL_FS("error", err->msg));
        bl_err_clear(err);
    }
    return s;
oom:
    set_free(c, s);
    bl_err_set(err, BL_ENOMEM, "out of memory");
    return NULL;
}

static integration_set *set_acquire(bl_connect *c)
{
    pthread_mutex_lock(&c->lock);
    integration_set *s = c->set;
    s->refs++;
    pthread_mutex_unlock(&c->lock);
    return s;
}

static void set_release(bl_connect *c, integration_set *s)
{
    pthread_mutex_lock(&c->lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        set_free(c, s);
}

int bl_connect_reload(bl_connect *c, const json_t *integrations, bl_err *err)
{
    integration_set *s = set_build(c, integrations, err);
    if (!s)
        return -1;
    pthread_mutex_lock(&c->lock);
    integration_set *old = c->set;
    c->set = s;
    pthread_mutex_unlock(&c->lock);
    if (old)
        set_release(c, old);
    bl_log_info("connect: integrations loaded", BL_FS("connector", c->cfg.connector),
                BL_FI("integrations", s->n_ints));
    return 0;
}

size_t bl_connect_integration_count(bl_connect *c)
{
    integration_set *s = set_acquire(c);
    size_t n = s->n_ints;
    set_release(c, s);
    return n;
}

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
static bl_outcome process(bl_connect *c, size_t index, const json_t *event, int attempt, char *msg, size_t cap)
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
    integration_set *set = set_acquire(c);
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
    set_release(c, set);
    free(json);
    if (retry_after > -2)
        return bl_outcome_retry(retry_after >= 0 ? retry_after : backoff_ms(c, attempt), msg);
    if (permanent)
        return bl_outcome_dead_letter(msg);
    return bl_outcome_done();
}

bl_outcome bl_connect_process(bl_connect *c, const json_t *event, int attempt, char *msg, size_t cap)
{
    return process(c, 0, event, attempt, msg, cap);
}

int bl_connect_health(bl_connect *c, bl_connect_health_fn fn, void *ctx)
{
    int bad = 0;
    integration_set *s = set_acquire(c);
    for (size_t i = 0; i < s->n_ints; i++) {
        char why[BL_CONNECTOR_MESSAGE_MAX] = "";
        int ok = !c->table->health || s->per_handler[0].instances[i] == NULL ||
                 c->table->health(s->per_handler[0].instances[i], why, sizeof why) == 0;
        bad += !ok;
        if (fn)
            fn(s->ints[i].id, ok ? NULL : why, ctx);
    }
    set_release(c, s);
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

static void work_free(work *w)
{
    json_decref(w->event);
    free(w);
}

/* Finishes w: completes its job unless the runtime abandoned it. */
static void work_finish(bl_connect *c, work *w, bl_outcome o)
{
    pthread_mutex_lock(&c->lock);
    if (w->job)
        bl_runtime_complete(w->rt, w->job, o);
    pthread_mutex_unlock(&c->lock);
    work_free(w);
}

static bl_outcome work_run(bl_connect *c, size_t index, work *w, char *msg, size_t cap)
{
    if (!w->event) {
        snprintf(msg, cap, "%s", w->error);
        return bl_outcome_dead_letter(msg);
    }
    return process(c, index, w->event, w->attempt, msg, cap);
}

static void *handler_main(void *arg)
{
    handler *h = arg;
    bl_connect *c = h->c;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (!c->quit && !c->head)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->quit) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        work *w = c->head;
        c->head = w->next;
        if (!c->head)
            c->tail = NULL;
        w->running = 1;
        pthread_mutex_unlock(&c->lock);
        char msg[BL_CONNECTOR_MESSAGE_MAX + 64];
        bl_outcome o = work_run(c, h->index, w, msg, sizeof msg);
        work_finish(c, w, o);
    }
}

static void connect_start(bl_runtime_job *job, void *ctx)
{
    bl_connect *c = ctx;
    work *w = calloc(1, sizeof *w);
    if (!w) {
        bl_runtime_complete(bl_runtime_job_runtime(job), job, bl_outcome_retry(1000, "out of memory"));
        return;
    }
    w->job = job;
    w->rt = bl_runtime_job_runtime(job);
    w->attempt = bl_runtime_job_attempt(job);
    size_t len = 0;
    const void *value = bl_kafka_msg_value(bl_runtime_job_msg(job), &len);
    bl_err err = {0};
    w->event = bl_connect_decode(c, value, len, &err);
    if (!w->event)
        snprintf(w->error, sizeof w->error, "%s", err.msg);
    if (c->cfg.handlers == 0) {
        char msg[BL_CONNECTOR_MESSAGE_MAX + 64];
        bl_outcome o = work_run(c, 0, w, msg, sizeof msg);
        bl_runtime_complete(w->rt, job, o);
        work_free(w);
        return;
    }
    bl_runtime_job_set_user(job, w);
    pthread_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = w;
    else
        c->head = w;
    c->tail = w;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void connect_abandon(bl_runtime_job *job, void *ctx)
{
    bl_connect *c = ctx;
    work *w = bl_runtime_job_user(job);
    if (!w)
        return;
    pthread_mutex_lock(&c->lock);
    if (w->running) {
        w->job = NULL; /* the handler finishes the call and drops the result */
        pthread_mutex_unlock(&c->lock);
        return;
    }
    for (work **p = &c->head, *prev = NULL; *p; prev = *p, p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            if (c->tail == w)
                c->tail = prev;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    work_free(w);
}

/* One aggregate at a time: the message key is the lane. */
static int connect_strict_lane(const bl_runtime_job *job, char *lane, size_t cap, void *ctx)
{
    (void)ctx;
    size_t len = 0;
    const char *key = bl_kafka_msg_key(bl_runtime_job_msg(job), &len);
    if (!key || len == 0 || len >= cap)
        return 0;
    memcpy(lane, key, len);
    lane[len] = '\0';
    return 1;
}

bl_runtime_connector bl_connect_hooks(bl_connect *c)
{
    return (bl_runtime_connector){.start = connect_start,
                                  .strict_lane = connect_strict_lane,
                                  .abandon = connect_abandon,
                                  .ctx = c};
}

bl_connect *bl_connect_new(const bl_connect_config *cfg, bl_err *err)
{
    if (!cfg->connector || !cfg->state || !json_is_array(cfg->integrations)) {
        bl_err_set(err, BL_EINVAL, "connect: connector, state and an integrations array are required");
        return NULL;
    }
    if (json_array_size(cfg->integrations) > BL_CONNECT_MAX_INTEGRATIONS || cfg->handlers < 0 ||
        cfg->handlers > BL_CONNECT_MAX_HANDLERS) {
        bl_err_set(err, BL_EINVAL, "connect: at most %d integrations and %d handlers", BL_CONNECT_MAX_INTEGRATIONS,
                   BL_CONNECT_MAX_HANDLERS);
        return NULL;
    }
    bl_connect *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->cfg.integrations = NULL;
    if (c->cfg.max_backoff_ms <= 0)
        c->cfg.max_backoff_ms = 300000;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->lib = bl_connector_open(cfg->connector, cfg->connector_dir, err);
    if (!c->lib)
        goto fail;
    c->table = bl_connector_lib_table(c->lib);
    c->cfg.connector = c->table->name;
    c->n_sets = cfg->handlers > 0 ? (size_t)cfg->handlers : 1;
    c->handlers = calloc(c->n_sets, sizeof *c->handlers);
    if (!c->handlers) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto fail;
    }
    if (!(c->set = set_build(c, cfg->integrations, err)))
        goto fail;
    for (size_t s = 0; cfg->handlers > 0 && s < c->n_sets; s++) {
        c->handlers[s].c = c;
        c->handlers[s].index = s;
        if (pthread_create(&c->handlers[s].thread, NULL, handler_main, &c->handlers[s]) != 0) {
            bl_err_set(err, BL_EIO, "connect: cannot start a handler thread");
            goto fail;
        }
        c->handlers[s].started = 1;
    }
    bl_log_info("connect: ready", BL_FS("connector", c->table->name), BL_FS("version", c->table->version),
                BL_FI("external", bl_connector_lib_external(c->lib)), BL_FI("integrations", c->set->n_ints),
                BL_FI("handlers", cfg->handlers));
    return c;
fail:
    bl_connect_free(c);
    return NULL;
}

void bl_connect_free(bl_connect *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->quit = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    for (size_t s = 0; c->handlers && s < c->n_sets; s++)
        if (c->handlers[s].started)
            pthread_join(c->handlers[s].thread, NULL);
    while (c->head) {
        work *w = c->head;
        c->head = w->next;
        work_free(w);
    }
    set_free(c, c->set);
    free(c->handlers);
    bl_connector_lib_close(c->lib);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
