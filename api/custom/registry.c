/* This replica's compiled custom endpoints, kept current by LISTEN. */
#include "api/custom/registry.h"

#include "api/custom/store.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECONNECT_PAUSE_MS 1000

struct bl_custom_registry {
    char *conninfo;
    const bl_custom_env *env;
    bl_custom_changed_fn changed;
    void *changed_ctx;
    PGconn *conn; /* the listener thread's */
    pthread_rwlock_t lock;
    bl_custom_def **defs; /* unordered */
    size_t count, cap;
    int wake_pipe[2];
    pthread_t thread;
    bool thread_running;
    atomic_bool stopping;
};

/* Puts def (owned, may be NULL) in place of the definition with id. */
static void replace(bl_custom_registry *r, const char *id, bl_custom_def *def)
{
    bl_custom_def *old = NULL;
    pthread_rwlock_wrlock(&r->lock);
    size_t i = 0;
    while (i < r->count && strcmp(r->defs[i]->id, id) != 0)
        i++;
    if (i < r->count) {
        old = r->defs[i];
        if (def)
            r->defs[i] = def;
        else
            r->defs[i] = r->defs[--r->count];
        def = NULL;
    } else if (def) {
        if (r->count == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 32;
            bl_custom_def **grown = realloc(r->defs, cap * sizeof *grown);
            if (grown) {
                r->defs = grown;
                r->cap = cap;
            }
        }
        if (r->count < r->cap) {
            r->defs[r->count++] = def;
            def = NULL;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (def)
        bl_log_error("custom api: definition not kept: out of memory", BL_FS("custom_api_id", id));
    bl_custom_def_unref(def);
    bl_custom_def_unref(old);
    if (r->changed)
        r->changed(id, r->changed_ctx);
}

/* Compiles one loaded row {id, organizationId, slug, definition}; NULL when
 * it does not compile (logged: the row was checked when saved, so the
 * server's environment changed, a key of the keyring for instance). */
static bl_custom_def *compile_row(bl_custom_registry *r, const json_t *row)
{
    json_t *problems = json_object();
    bl_custom_def *d = problems ? bl_custom_def_compile(json_object_get(row, "definition"),
                                                           json_string_value(json_object_get(row, "organizationId")),
                                                           r->env, problems) : NULL;
    const char *id = json_string_value(json_object_get(row, "id"));
    if (!d) {
        char *text = json_dumps(problems, JSON_COMPACT);
        bl_log_error("custom api: a saved definition does not compile here; not served", BL_FS("custom_api_id", id),
                     BL_FS("problems", text ? text : "?"));
        free(text);
    } else {
        snprintf(d->id, sizeof d->id, "%s", id);
        snprintf(d->slug, sizeof d->slug, "%s", json_string_value(json_object_get(row, "slug")));
    }
    json_decref(problems);
    return d;
}

/* Loads id (NULL = all, replacing what is held) over conn. */
static int load(bl_custom_registry *r, PGconn *conn, const char *id, bl_err *err)
{
    json_t *rows = bl_custom_store_load(conn, id, err);
    if (!rows)
        return -1;
    if (id && json_array_size(rows) == 0)
        replace(r, id, NULL);
    if (!id) { /* drop what is gone */
        pthread_rwlock_rdlock(&r->lock);
        size_t n = r->count;
        char (*held)[BL_API_ID_MAX] = n ? calloc(n, sizeof *held) : NULL;
        for (size_t i = 0; held && i < n; i++)
            snprintf(held[i], BL_API_ID_MAX, "%s", r->defs[i]->id);
        pthread_rwlock_unlock(&r->lock);
        for (size_t i = 0; held && i < n; i++) {
            bool present = false;
            size_t k;
            json_t *row;
            json_array_foreach(rows, k, row) present |= strcmp(json_string_value(json_object_get(row, "id")), held[i]) == 0;
            if (!present)
                replace(r, held[i], NULL);
        }
        free(held);
    }
    size_t k;
    json_t *row;
    json_array_foreach(rows, k, row) replace(r, json_string_value(json_object_get(row, "id")), compile_row(r, row));
    json_decref(rows);
    return 0;
}

static PGconn *connect_and_load(bl_custom_registry *r, bl_err *err)
{
    PGconn *conn = bl_pg_connect(r->conninfo, err);
    if (!conn)
        return NULL;
    if (bl_pg_exec_cmd(conn, "LISTEN " BL_CUSTOM_CHANNEL, 0, NULL, err) != 0 || load(r, conn, NULL, err) != 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Reloads every notified endpoint. Returns 0, or -1 when the connection broke. */
static int drain(bl_custom_registry *r)
{
    if (!PQconsumeInput(r->conn))
        return -1;
    PGnotify *note;
    while ((note = PQnotifies(r->conn)) != NULL) {
        bl_err err = {0};
        if (load(r, r->conn, note->extra, &err) != 0)
            bl_log_warn("custom api: reload failed", BL_FS("custom_api_id", note->extra), BL_FS("error", err.msg));
        PQfreemem(note);
    }
    return PQstatus(r->conn) == CONNECTION_OK ? 0 : -1;
}

static void wait_readable(bl_custom_registry *r, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = r->wake_pipe[0], .events = POLLIN}};
    nfds_t n = 1;
    if (r->conn && PQsocket(r->conn) >= 0)
        fds[n++] = (struct pollfd){.fd = PQsocket(r->conn), .events = POLLIN};
    if (poll(fds, n, timeout_ms) < 0)
        return;
    char buf[16];
    while (read(r->wake_pipe[0], buf, sizeof buf) > 0)
        ;
}

static void *listen_loop(void *arg)
{
    bl_custom_registry *r = arg;
    while (!atomic_load(&r->stopping)) {
        if (!r->conn) {
            bl_err err = {0};
            if (!(r->conn = connect_and_load(r, &err))) {
                bl_log_warn("custom api: definition listener cannot reconnect", BL_FS("error", err.msg));
                wait_readable(r, RECONNECT_PAUSE_MS);
                continue;
            }
            bl_log_info("custom api: definition listener reconnected (definitions reloaded)");
        }
        if (drain(r) != 0) {
            bl_log_warn("custom api: definition listener lost its connection", BL_FS("error", PQerrorMessage(r->conn)));
            PQfinish(r->conn);
            r->conn = NULL;
            continue;
        }
        wait_readable(r, -1);
    }
    return NULL;
}

bl_custom_registry *bl_custom_registry_new(const char *conninfo, const bl_custom_env *env,
                                           bl_custom_changed_fn changed, void *ctx, bl_err *err)
{
    bl_custom_registry *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        return NULL;
    }
    r->wake_pipe[0] = r->wake_pipe[1] = -1;
    r->env = env;
    r->changed = changed;
    r->changed_ctx = ctx;
    pthread_rwlock_init(&r->lock, NULL);
    if (!(r->conninfo = strdup(conninfo ? conninfo : ""))) {
        bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        goto fail;
    }
    if (pipe2(r->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "custom api: listener pipe: %s", strerror(errno));
        goto fail;
    }
    if (!(r->conn = connect_and_load(r, err))) {
        bl_err_wrap(err, "custom api: definition listener");
        goto fail;
    }
    if (pthread_create(&r->thread, NULL, listen_loop, r) != 0) {
        bl_err_set(err, BL_EIO, "custom api: cannot start the definition listener");
        goto fail;
    }
    r->thread_running = true;
    return r;
fail:
    bl_custom_registry_free(r);
    return NULL;
}

void bl_custom_registry_free(bl_custom_registry *r)
{
    if (!r)
        return;
    if (r->thread_running) {
        atomic_store(&r->stopping, true);
        char one = 1;
        ssize_t n = write(r->wake_pipe[1], &one, 1);
        (void)n; /* a full pipe already wakes the loop */
        pthread_join(r->thread, NULL);
    }
    PQfinish(r->conn);
    for (int i = 0; i < 2; i++)
        if (r->wake_pipe[i] >= 0)
            close(r->wake_pipe[i]);
    for (size_t i = 0; i < r->count; i++)
        bl_custom_def_unref(r->defs[i]);
    free(r->defs);
    pthread_rwlock_destroy(&r->lock);
    free(r->conninfo);
    free(r);
}

bl_custom_def *bl_custom_registry_find(bl_custom_registry *r, const char *slug, const char *method,
                                       const char *const *segs, size_t n, json_t *params, bool *path_known)
{
    bl_custom_def *hit = NULL;
    bool known = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !hit; i++) {
        bl_custom_def *d = r->defs[i];
        if (!d->active || strcmp(d->slug, slug) != 0 || !bl_custom_def_match(d, segs, n, NULL))
            continue;
        if (strcmp(d->method, method) == 0) {
            hit = bl_custom_def_ref(d);
            bl_custom_def_match(d, segs, n, params);
        } else {
            known = true;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    if (path_known)
        *path_known = known;
    return hit;
}

bl_custom_def *bl_custom_registry_get(bl_custom_registry *r, const char *id)
{
    bl_custom_def *hit = NULL;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !hit; i++)
        if (strcmp(r->defs[i]->id, id) == 0)
            hit = bl_custom_def_ref(r->defs[i]);
    pthread_rwlock_unlock(&r->lock);
    return hit;
}

static bool rule_names(const char *rule, const char *type)
{
    size_t n = strlen(rule);
    if (n >= 2 && strcmp(rule + n - 2, ".*") == 0)
        return strncmp(rule, type, n - 1) == 0;
    return strcmp(rule, type) == 0;
}

size_t bl_custom_registry_each_invalidated(bl_custom_registry *r, const char *type,
                                           void (*fn)(const bl_custom_def *def, void *ctx), void *ctx)
{
    size_t hits = 0;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        bl_custom_def *d = r->defs[i];
        bool named = false;
        for (size_t k = 0; d->cache_enabled && k < d->rule_count && !named; k++)
            named = rule_names(d->rules[k], type);
        if (named) {
            fn(d, ctx);
            hits++;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return hits;
}

int bl_custom_registry_reload(bl_custom_registry *r, const char *id, bl_err *err)
{
    PGconn *conn = bl_pg_connect(r->conninfo, err);
    if (!conn)
        return -1;
    int rc = load(r, conn, id, err);
    PQfinish(conn);
    return rc;
}

bool bl_custom_registry_wants_events(bl_custom_registry *r)
{
    bool wants = false;
    pthread_rwlock_rdlock(&r->lock);
    for (size_t i = 0; i < r->count && !wants; i++)
        wants = r->defs[i]->cache_enabled && r->defs[i]->rule_count > 0;
    pthread_rwlock_unlock(&r->lock);
    return wants;
}
