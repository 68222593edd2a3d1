/* Integrations from Postgres, reloaded on NOTIFY (see integration_source.h). */
#include "connectors/integration_source.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/pg_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOAD_SQL                                                                                                  \
    "SELECT id::text, organization_id::text, status, settings::text, coalesce(last_error_message, '')"           \
    " FROM integrations WHERE provider = $1 AND status IN ('connected', 'error') ORDER BY created_at, id LIMIT 256"

struct bl_integration_source {
    bl_integration_source_config cfg;
    char *pg_url, *provider, *base_url;
    PGconn *conn;
    pthread_t thread;
    int started;
    int wake[2];
    atomic_int quit;
    atomic_long loads;
};

static json_t *row_spec(PGresult *r, int i, const char *base_url, bl_err *err)
{
    json_error_t jerr;
    json_t *settings = json_loads(PQgetvalue(r, i, 3), 0, &jerr);
    if (!json_is_object(settings)) {
        json_decref(settings);
        bl_err_set(err, BL_EINVAL, "integration %s: settings: not an object", PQgetvalue(r, i, 0));
        return NULL;
    }
    json_t *rules = json_object_get(settings, "rules");
    rules = rules ? json_incref(rules) : json_array();
    json_t *spec = json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:o}", "id", PQgetvalue(r, i, 0), "organization_id",
                             PQgetvalue(r, i, 1), "status", PQgetvalue(r, i, 2), "error_message",
                             PQgetvalue(r, i, 4), "oauth", 1, "skip_invalid", 1, "rules", rules);
    json_object_del(settings, "rules");
    json_object_del(settings, "base_url");
    if (base_url && *base_url)
        json_object_set_new(settings, "base_url", json_string(base_url));
    if (!spec || json_object_set_new(spec, "settings", settings) != 0) {
        json_decref(spec);
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    return spec;
}

json_t *bl_integration_source_load(PGconn *conn, const char *provider, const char *base_url, bl_err *err)
{
    const char *params[] = {provider};
    PGresult *r = bl_pg_exec(conn, LOAD_SQL, 1, params, err);
    if (!r)
        return NULL;
    json_t *out = json_array();
    for (int i = 0; out && i < PQntuples(r); i++) {
        bl_err row_err = {0};
        json_t *spec = row_spec(r, i, base_url, &row_err);
        if (!spec) {
            bl_log_warn("connect: integration row left out", BL_FS("provider", provider),
                        BL_FS("error", row_err.msg));
            continue;
        }
        json_array_append_new(out, spec);
    }
    PQclear(r);
    if (!out)
        bl_err_set(err, BL_ENOMEM, "out of memory");
    return out;
}

/* Connects and LISTENs (before loading, so no change in between is
 * missed), then loads and hands the list over. Returns 0 or -1. */
static int connect_and_load(bl_integration_source *s, bl_err *err)
{
    if (!s->conn) {
        s->conn = bl_pg_connect(s->pg_url, err);
        if (!s->conn || bl_pg_exec_cmd(s->conn, "LISTEN " BL_INTEGRATIONS_CHANNEL, 0, NULL, err) != 0) {
            if (s->conn)
                PQfinish(s->conn);
            s->conn = NULL;
            return -1;
        }
    }
    json_t *list = bl_integration_source_load(s->conn, s->provider, s->base_url, err);
    if (!list) {
        PQfinish(s->conn);
        s->conn = NULL;
        return -1;
    }
    s->cfg.on_change(list, s->cfg.ctx);
    atomic_fetch_add(&s->loads, 1);
    json_decref(list);
    return 0;
}

/* Reads the pending notifications: 1 when one is for our provider, 0 when
 * none is, -1 when the connection broke. */
static int ours_notified(bl_integration_source *s)
{
    if (!PQconsumeInput(s->conn))
        return -1;
    int ours = 0;
    PGnotify *note;
    while ((note = PQnotifies(s->conn)) != NULL) {
        if (!note->extra || strcmp(note->extra, s->provider) == 0)
            ours = 1;
        PQfreemem(note);
    }
    return ours;
}

static void *watch_main(void *arg)
{
    bl_integration_source *s = arg;
    int64_t next_load = bl_clock_mono_ms() + s->cfg.poll_interval_ms;
    while (!atomic_load(&s->quit)) {
        int reload = 0;
        int64_t wait = next_load - bl_clock_mono_ms();
        if (s->conn) {
            struct pollfd fds[2] = {{.fd = s->wake[0], .events = POLLIN}, {.fd = PQsocket(s->conn), .events = POLLIN}};
            if (poll(fds, 2, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR)
                reload = 1;
            if (fds[1].revents) {
                int n = ours_notified(s);
                if (n < 0) {
                    PQfinish(s->conn);
                    s->conn = NULL;
                }
                reload = n != 0;
            }
        } else {
            struct pollfd fd = {.fd = s->wake[0], .events = POLLIN};
            if (poll(&fd, 1, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR)
                reload = 1;
        }
        if (atomic_load(&s->quit))
            break;
        if (bl_clock_mono_ms() >= next_load)
            reload = 1;
        if (!reload)
            continue;
        bl_err err = {0};
        if (connect_and_load(s, &err) != 0)
            bl_log_warn("connect: integrations not reloaded; keeping the last ones", BL_FS("provider", s->provider),
                        BL_FS("error", err.msg));
        next_load = bl_clock_mono_ms() + s->cfg.poll_interval_ms;
    }
    return NULL;
}

void bl_integration_source_free(bl_integration_source *s)
{
    if (!s)
        return;
    atomic_store(&s->quit, 1);
    if (s->wake[1] >= 0 && write(s->wake[1], "q", 1) < 0) {
        /* the pipe is non-blocking and empty: cannot fail in practice */
    }
    if (s->started)
        pthread_join(s->thread, NULL);
    if (s->conn)
        PQfinish(s->conn);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    free(s->pg_url);
    free(s->provider);
    free(s->base_url);
    free(s);
}

bl_integration_source *bl_integration_source_start(const bl_integration_source_config *cfg, bl_err *err)
{
    if (!cfg->pg_url || !cfg->provider || !cfg->on_change) {
        bl_err_set(err, BL_EINVAL, "integration source: pg_url, provider and on_change are required");
        return NULL;
    }
    bl_integration_source *s = calloc(1, sizeof *s);
    if (!s) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    s->wake[0] = s->wake[1] = -1;
    s->cfg = *cfg;
    if (s->cfg.poll_interval_ms <= 0)
        s->cfg.poll_interval_ms = 30000;
    s->pg_url = strdup(cfg->pg_url);
    s->provider = strdup(cfg->provider);
    s->base_url = cfg->base_url ? strdup(cfg->base_url) : NULL;
    if (!s->pg_url || !s->provider || (cfg->base_url && !s->base_url)) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto fail;
    }
    if (pipe(s->wake) != 0 || fcntl(s->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(s->wake[1], F_SETFL, O_NONBLOCK) != 0) {
        bl_err_set(err, BL_EIO, "integration source: pipe: %s", strerror(errno));
        goto fail;
    }
    if (connect_and_load(s, err) != 0) {
        bl_err_wrap(err, "integrations of %s", cfg->provider);
        goto fail;
    }
    if (pthread_create(&s->thread, NULL, watch_main, s) != 0) {
        bl_err_set(err, BL_EIO, "integration source: cannot start the watcher");
        goto fail;
    }
    s->started = 1;
    return s;
fail:
    bl_integration_source_free(s);
    return NULL;
}

long bl_integration_source_loads(bl_integration_source *s)
{
    return atomic_load(&s->loads);
}
