/* The calendar sync fixture (calsync_fixture.h). */
#include "tests/support/calsync_fixture.h"

#include "api/auth/orgs.h"
#include "core/clock.h"
#include "producers/attendance/domain.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static int google(const bl_calsync_fx *fx)
{
    return strcmp(fx->provider, "google_calendar") == 0;
}

static const char *redirect_of(const bl_calsync_fx *fx)
{
    return google(fx) ? "https://app.example.com/oauth/google" : "https://app.example.com/oauth/microsoft";
}

int bl_calsync_fx_connect(bl_calsync_fx *fx)
{
    json_t *settings = google(fx) ? json_pack("{s:s}", "calendarId", "primary")
                                  : json_pack("{s:s, s:s}", "calendarId", "primary", "tenant", "common");
    bl_oauth_begin_result b;
    bl_err err = {0};
    int rc = settings ? bl_oauth_begin(fx->store, fx->provider, fx->dom.org, redirect_of(fx), NULL, settings, &b,
                                       &err)
                      : -1;
    json_decref(settings);
    const char *ch = rc == 0 ? strstr(b.authorization_url, "code_challenge=") : NULL;
    if (ch)
        snprintf(fx->oauth.challenge, sizeof fx->oauth.challenge, "%.*s", (int)strcspn(ch + 15, "&"), ch + 15);
    if (!ch || bl_oauth_complete(fx->store, fx->provider, fx->dom.org, b.state, "4/good-code", "test",
                                 fx->integration_id, NULL, &err) != 0) {
        fprintf(stderr, "  connect: %s (%s)\n", err.msg, fx->oauth.last_error);
        return -1;
    }
    char auth[128];
    snprintf(auth, sizeof auth, "Bearer %s", fx->oauth.access);
    bl_fake_saas_accept(&fx->cal, auth);
    return 0;
}

int bl_calsync_fx_add_connected(bl_calsync_fx *fx, const char *provider, const char *type, const char *scope,
                                const char *account, const char *settings, const char *token, char id[64])
{
    char scopes[96];
    snprintf(scopes, sizeof scopes, "{%s}", scope);
    const char *p[] = {fx->dom.org, settings, provider, type, scopes, account};
    PGresult *r = bl_calsync_fx_sql(fx, "INSERT INTO integrations (id, organization_id, provider, type, status,"
                                        " scopes, account_name, settings) VALUES (gen_random_uuid(), $1::uuid,"
                                        " $3, $4, 'connected', $5::text[], $6, $2::jsonb) RETURNING id::text",
                                    6, p);
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    snprintf(id, 64, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_err err = {0};
    char *sealed = bl_keyring_seal(fx->keyring, token, strlen(token), id, strlen(id), &err);
    const char *tp[] = {id, sealed};
    r = sealed ? bl_calsync_fx_sql(fx, "UPDATE integrations SET access_token_ciphertext = $2, token_expires_at ="
                                       " now() + interval '1 day' WHERE id::text = $1", 2, tp)
               : NULL;
    if (!sealed)
        fprintf(stderr, "  add connected: %s\n", err.msg);
    free(sealed);
    PQclear(r);
    return r ? 0 : -1;
}

int bl_calsync_fx_start(bl_calsync_fx *fx, const char *provider)
{
    memset(fx, 0, sizeof *fx);
    fx->provider = provider;
    const char *env = google(fx) ? "GOOGLE_CALENDAR" : "MICROSOFT_365";
    const char *client = google(fx) ? "google-client" : "ms-client";
    bl_err err = {0};
    if (bl_test_domain_start(&fx->dom, BL_ATTENDANCE_DOMAIN, &bl_attendance_rules) != 0 ||
        fake_oauth_start(&fx->oauth, client, "client-secret") != 0 ||
        bl_fake_saas_start(&fx->cal, google(fx) ? "google_calendar" : "graph", "Bearer none") != 0)
        return -1;
    snprintf(fx->oauth.redirect_uri, sizeof fx->oauth.redirect_uri, "%s", redirect_of(fx));
    char name[96], base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", fake_oauth_port(&fx->oauth));
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYS, 1);
    snprintf(name, sizeof name, "BUSLINE_OAUTH_%s_CLIENT_ID", env);
    setenv(name, client, 1);
    snprintf(name, sizeof name, "BUSLINE_OAUTH_%s_CLIENT_SECRET", env);
    setenv(name, "client-secret", 1);
    snprintf(name, sizeof name, "BUSLINE_OAUTH_%s_BASE_URL", env);
    setenv(name, base, 1);
    bl_oauth_config oc = {0};
    bl_oauth_config_from_env(&oc);
    if (bl_api_org_create(fx->dom.db, "a", BL_API_PLAN_PRO, fx->dom.org, &err) != 0 ||
        !(fx->keyring = bl_keyring_from_env(&err)) ||
        !(fx->store = bl_oauth_store_new(fx->dom.reg.pool, fx->keyring, &oc, &err))) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return bl_calsync_fx_connect(fx);
}

void bl_calsync_fx_stop(bl_calsync_fx *fx)
{
    bl_oauth_store_free(fx->store);
    bl_keyring_free(fx->keyring);
    bl_fake_saas_stop(&fx->cal);
    fake_oauth_stop(&fx->oauth);
    bl_test_domain_stop(&fx->dom);
}

PGresult *bl_calsync_fx_sql(bl_calsync_fx *fx, const char *sql, int n, const char *const *params)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(fx->dom.reg.pool, 5000, &err);
    PGresult *r = conn ? bl_pg_exec(conn, sql, n, params, &err) : NULL;
    if (!r)
        fprintf(stderr, "  sql: %s\n", err.msg);
    if (conn)
        bl_pg_pool_release(fx->dom.reg.pool, conn);
    return r;
}

long bl_calsync_fx_count(bl_calsync_fx *fx, const char *sql, const char *param)
{
    const char *p[] = {param};
    PGresult *r = bl_calsync_fx_sql(fx, sql, param ? 1 : 0, p);
    long n = r && PQntuples(r) == 1 ? atol(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

void bl_calsync_fx_reset(bl_calsync_fx *fx, const char *settings)
{
    const char *p[] = {fx->integration_id, settings, fx->dom.org};
    PQclear(bl_calsync_fx_sql(fx, "UPDATE integrations SET settings = $2::jsonb, auto_sync = false, next_sync_at ="
                                  " NULL WHERE id::text = $1", 2, p));
    PQclear(bl_calsync_fx_sql(fx, "DELETE FROM integration_event_links WHERE integration_id::text = $1", 1, p));
    PQclear(bl_calsync_fx_sql(fx, "DELETE FROM integration_sync_cursors WHERE integration_id::text = $1", 1, p));
    PQclear(bl_calsync_fx_sql(fx, "DELETE FROM attendance_events WHERE organization_id = $1", 1, p + 2));
}

bl_calsync_worker_opts bl_calsync_fx_worker_opts(bl_calsync_fx *fx)
{
    return (bl_calsync_worker_opts){
        .deps = {.pool = fx->dom.reg.pool, .store = fx->store,
                 .sender = {.codec = fx->dom.codec, .producer = fx->dom.producer, .timeout_ms = 10000},
                 .worker_id = "test-worker", .google_base_url = fx->cal.base_url, .graph_base_url = fx->cal.base_url,
                 .page_size = 25, .max_wait_ms = 2000, .heartbeat_ms = 200},
        .stale_ms = 2000, .idle_ms = 50};
}

int bl_calsync_fx_queue(bl_calsync_fx *fx, const char *type, const char *direction, int dry, int force,
                        char run_id[40])
{
    const char *p[] = {fx->integration_id, direction ? direction : "bidirectional", dry ? "t" : "f",
                       force ? "t" : "f", type};
    PGresult *r = bl_calsync_fx_sql(fx, "INSERT INTO integration_sync_runs (integration_id, status, direction,"
                                        " dry_run, force_update, type, triggered_by) VALUES ($1::uuid, 'queued',"
                                        " $2, $3::boolean, $4::boolean, $5, '{\"userId\":\"u1\"}') RETURNING id",
                                    5, p);
    int ok = r && PQntuples(r) == 1;
    if (ok)
        snprintf(run_id, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok ? 0 : -1;
}

json_t *bl_calsync_fx_run_row(bl_calsync_fx *fx, const char *run_id)
{
    const char *p[] = {run_id};
    PGresult *r = bl_calsync_fx_sql(fx, "SELECT json_build_object('status', status, 'type', type, 'statistics',"
                                        " statistics, 'errors', errors, 'conflicts', conflicts, 'finished',"
                                        " finished_at IS NOT NULL)::text FROM integration_sync_runs"
                                        " WHERE id::text = $1", 1, p);
    json_t *j = r && PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return j;
}

json_t *bl_calsync_fx_sync(bl_calsync_fx *fx, const char *direction, int dry, int force)
{
    char run_id[40];
    if (bl_calsync_fx_queue(fx, "manual", direction, dry, force, run_id) != 0)
        return NULL;
    bl_calsync_worker_opts o = bl_calsync_fx_worker_opts(fx);
    bl_err err = {0};
    if (bl_calsync_worker_step(&o, &err) < 1) {
        fprintf(stderr, "  worker step: %s\n", err.msg);
        return NULL;
    }
    return bl_calsync_fx_run_row(fx, run_id);
}

long bl_calsync_fx_stat(const json_t *run, const char *key)
{
    return (long)json_integer_value(json_object_get(json_object_get(run, "statistics"), key));
}

static long handled(const bl_calsync_fx *fx, long *dead)
{
    bl_domain_service_stats s = bl_domain_service_stats_get(fx->dom.svc);
    *dead = s.dead_letters;
    return s.applied + s.duplicates + s.dead_letters;
}

long bl_calsync_fx_apply(bl_calsync_fx *fx)
{
    long dead_before, dead_after;
    long total = (long)fixture_end_total(fx->dom.commands_topic, 1);
    long pending = total - handled(fx, &dead_before);
    if (pending < 0)
        return -1;
    /* the fixture steps at most 60 times a call, and a step may handle many
     * commands (a batch): what is left is asked again after each run */
    for (long left = pending; left > 0; left = total - handled(fx, &dead_after))
        if (bl_test_domain_run(&fx->dom, left < 50 ? left : 50) != 0)
            return -1;
    handled(fx, &dead_after);
    if (dead_after != dead_before) {
        PGresult *r = bl_test_domain_query(&fx->dom, "SELECT string_agg(reason, ' | ') FROM (SELECT reason FROM domain_command_refusals"
                                                     " WHERE organization_id = $1 ORDER BY refused_at DESC LIMIT 3) r", fx->dom.org);
        fprintf(stderr, "  %ld commands dead-lettered: %s\n", dead_after - dead_before,
                r && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
        PQclear(r);
        return -1;
    }
    return pending;
}

/* Sends one command (fmt: %1$s is the organization) and applies it. */
static int command(bl_calsync_fx *fx, const char *fmt)
{
    long dead;
    long before = handled(fx, &dead);
    if (bl_test_domain_send(&fx->dom, fmt, NULL) != 0 || bl_test_domain_run(&fx->dom, 1) != 0)
        return -1;
    return handled(fx, &dead) == before + 1 ? 0 : -1;
}

int bl_calsync_fx_create_event(bl_calsync_fx *fx, const char *id, const char *title, int hours, const char *type,
                               int is_private)
{
    int64_t starts = (bl_clock_wall_ms() / 60000 + (int64_t)hours * 60) * 60000;
    char fmt[1536];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"event.create\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%s\","
             "\"title\":\"%s\",\"description\":\"about %s\",\"event_type\":\"%s\",\"location\":\"Room 4\","
             "\"starts_at\":%" PRId64 ",\"ends_at\":%" PRId64 ",\"timezone\":\"Europe/Paris\","
             "\"organizer\":{\"email\":\"o@example.com\",\"name\":null},\"attendees\":[],\"is_private\":%s,"
             "\"reminder_minutes\":15}}",
             id, title, title, type, starts, starts + 90 * 60000, is_private ? "true" : "false");
    return command(fx, fmt);
}

int bl_calsync_fx_retitle_event(bl_calsync_fx *fx, const char *id, const char *title)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"event.update\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%s\","
             "\"title\":\"%s\"}}", id, title);
    return command(fx, fmt);
}

int bl_calsync_fx_cancel_event(bl_calsync_fx *fx, const char *id)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt,
             "{\"type\":\"event.cancel\",\"organization_id\":\"%%1$s\",\"data\":{\"event_id\":\"%s\","
             "\"reason\":\"called off\"}}", id);
    return command(fx, fmt);
}
