/* The permission matrix over every route the server registers (read from
 * its route table, so a new route is covered without editing this file)
 * times nine callers: read, write and admin keys, an expired and a revoked
 * key, no credentials, another organization's admin, a demo organization's
 * admin and a JWT user session. Each :param is filled with an id that exists
 * in the caller's organization and, separately, with one that exists only in
 * another organization. The expected cell comes from the documented rules
 * (read = GET, write = GET/POST/PUT, admin = everything incl. DELETE and
 * key/webhook/integration management; refused credentials 401; demo plan 403
 * plan_required on non-GET; another organization's id 404), not from the
 * route table's own access class. Every answer is also searched for the
 * other organizations' markers: no cross-organization data, ever. The
 * documented rules, paths and bodies are in tests/support/permission_rules.c;
 * the organizations' seed rows (one per route's :param) stay here. */
#include "api/auth/keys.h"
#include "api/auth/orgs.h"
#include "core/crypto.h"
#include "tests/support/api_fixture.h"
#include "tests/support/permission_rules.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYRING "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define ROUTES_MAX 200
/* a custom endpoint (name, path): one transformation t1 with a passing test case */
#define CUSTOM_API_BODY                                                                                        \
    "{\"name\":\"%s\",\"path\":\"%s\",\"method\":\"GET\",\"authentication\":{\"type\":\"none\"},"               \
    "\"transformations\":[{\"id\":\"t1\",\"name\":\"one\",\"type\":\"map\",\"rules\":[{\"operation\":\"set\","    \
    "\"source\":\"1\",\"target\":\"$.one\"}],\"testCases\":[{\"name\":\"one\",\"input\":{},\"expectedOutput\":"  \
    "{\"one\":1}}]}]}"

static bl_test_api api;
static json_t *openapi; /* the served document: its components resolve the bodies' $refs */

/* ---- organizations and their fixture rows ---- */

enum { ORG_A, ORG_B, ORG_DEMO, ORG_COUNT };

static bl_test_perm_org orgs[ORG_COUNT] = {{.tag = "acme"}, {.tag = "globex"}, {.tag = "demo"}};

/* ---- callers ---- */

typedef struct caller {
    const char *name;
    char token[1200]; /* "" = no credentials */
    int org;          /* whose ids are "own" */
    bl_api_perm perm;
    bool refused;     /* expired, revoked, none: 401 on every protected route */
    bool demo;
} caller;

enum { C_READ, C_WRITE, C_ADMIN, C_EXPIRED, C_REVOKED, C_NONE, C_OTHER, C_DEMO, C_JWT, CALLERS };

static caller callers[CALLERS] = {
    [C_READ] = {"read", "", ORG_A, BL_API_PERM_READ, false, false},
    [C_WRITE] = {"write", "", ORG_A, BL_API_PERM_WRITE, false, false},
    [C_ADMIN] = {"admin", "", ORG_A, BL_API_PERM_ADMIN, false, false},
    [C_EXPIRED] = {"expired", "", ORG_A, BL_API_PERM_ADMIN, true, false},
    [C_REVOKED] = {"revoked", "", ORG_A, BL_API_PERM_ADMIN, true, false},
    [C_NONE] = {"none", "", ORG_A, BL_API_PERM_NONE, true, false},
    [C_OTHER] = {"other", "", ORG_B, BL_API_PERM_ADMIN, false, false},
    [C_DEMO] = {"demo", "", ORG_DEMO, BL_API_PERM_ADMIN, false, true},
    [C_JWT] = {"jwt", "", ORG_A, BL_API_PERM_WRITE, false, false},
};

/* the organization whose ids are "foreign" to a caller */
static int foreign_org(const caller *c)
{
    return c->org == ORG_A ? ORG_B : ORG_A;
}

/* ---- helpers ---- */

static int make_key(const char *org, bl_api_perm perm, const char *name, char *token, char *id)
{
    bl_api_key_spec spec = {.org_id = org, .name = name, .perm = perm, .rate_per_hour = 1000000};
    return bl_test_make_key(api.pool, &spec, token, id);
}

/* Rows of the read model, an integration with a sync run, a recorded
 * command, a spare key, an open alert, its alert rule and (over the API) a webhook, all named with the
 * organization's marker. */
static int make_org_rows(bl_test_perm_org *f)
{
    const char *p[] = {f->id, f->marker, f->tag};
    static const char *const read_model[] = {
        "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id, budget_cents, currency)"
        " VALUES ($1, 'projects-' || $3, $2, 'owner', 100, 'EUR')",
        "INSERT INTO pmo_risks (organization_id, risk_id, project_id, title, description, severity,"
        " probability, impact) VALUES ($1, 'risks-' || $3, 'projects-' || $3, $2, $2, 'HIGH', 50, 50)",
        "INSERT INTO pmo_decisions (organization_id, decision_id, project_id, title, description,"
        " decision_maker) VALUES ($1, 'decisions-' || $3, 'projects-' || $3, $2, $2, 'boss')",
        "INSERT INTO pmo_resources (organization_id, resource_id, person_id, person_name, project_id,"
        " allocation_pct, start_date) VALUES ($1, 'resources-' || $3, 'p1', $2, 'projects-' || $3, 50, now())",
        "INSERT INTO pmo_sprints (organization_id, sprint_id, project_id, name, starts_at, ends_at,"
        " committed_points) VALUES ($1, 'sprints-' || $3, 'projects-' || $3, $2, now(), now() + interval '1 day', 5)",
        "INSERT INTO pmo_reports (organization_id, report_id, format, title, markdown, period_start, period_end)"
        " VALUES ($1, 'reports-' || $3, 'MARKDOWN', $2, $2, now(), now())",
        /* a field-service media (its bytes a large object) on an intervention of a client */
        "INSERT INTO fieldservice_clients (organization_id, client_id, name, street, postal_code, city, country)"
        " VALUES ($1, 'clients-' || $3, $2, '1 rue', '75001', 'Paris', 'FR')",
        "INSERT INTO fieldservice_interventions (organization_id, intervention_id, client_id, title, street,"
        " postal_code, city, country) VALUES ($1, 'interventions-' || $3, 'clients-' || $3, $2, '1 rue', '75001',"
        " 'Paris', 'FR')",
        "INSERT INTO fieldservice_media (organization_id, media_id, intervention_id, filename, content_type,"
        " type_media, size_bytes, sha256, large_object) VALUES ($1, 'medias-' || $3, 'interventions-' || $3,"
        " $2 || '.pdf', 'application/pdf', 'document', 4, repeat('0', 64), lo_from_bytea(0, '%PDF'::bytea))",
        /* and a report of that intervention */
        "INSERT INTO fieldservice_reports (organization_id, report_id, intervention_id, report_type, format, template,"
        " title, content, content_type, size_bytes, sha256) VALUES ($1, 'rapports-' || $3, 'interventions-' || $3,"
        " 'inspection', 'MARKDOWN', 'default', $2, convert_to($2, 'UTF8'), 'text/markdown', 4, repeat('0', 64))",
        /* an Attendance-X event (the attendance surface's events/:id) */
        "INSERT INTO attendance_events (organization_id, event_id, title, event_type, starts_at, ends_at, timezone,"
        " organizer) VALUES ($1, 'events-' || $3, $2, 'meeting', now() + interval '1 day',"
        " now() + interval '25 hours', 'Europe/Paris', jsonb_build_object('email', 'lead@example.fr', 'name', $2::text))",
    };
    for (size_t i = 0; i < sizeof read_model / sizeof read_model[0]; i++)
        if (bl_test_sql(api.pool, read_model[i], 3, p) != 0)
            return -1;
    if (bl_test_sql_value(api.pool, "INSERT INTO integrations (id, organization_id, provider, type, status, account_name)"
                  " VALUES (gen_random_uuid(), $1, 'google_calendar', 'calendar', 'connected', $2) RETURNING id",
                  2, p, f->integration, sizeof f->integration) != 0)
        return -1;
    /* a sealed token (AAD = the integration id), so calls reach the provider */
    bl_err err = {0};
    bl_keyring *kr = bl_keyring_from_env(&err);
    char *sealed = kr ? bl_keyring_seal(kr, "matrix-token", 12, f->integration, strlen(f->integration), &err) : NULL;
    bl_keyring_free(kr);
    const char *tp[] = {f->integration, sealed};
    int rc = sealed ? bl_test_sql(api.pool, "UPDATE integrations SET access_token_ciphertext = $2,"
                          " token_expires_at = now() + interval '1 day' WHERE id = $1", 2, tp)
                    : -1;
    free(sealed);
    if (rc != 0)
        return -1;
    const char *ip[] = {f->integration};
    if (bl_test_sql_value(api.pool, "INSERT INTO integration_sync_runs (integration_id, status, direction)"
                  " VALUES ($1, 'completed', 'both') RETURNING id",
                  1, ip, f->run, sizeof f->run) != 0)
        return -1;
    /* a queued webhook replay job to every endpoint (the marker as who asked) */
    if (bl_test_sql_value(api.pool, "INSERT INTO webhook_replay_requests (organization_id, replay_since, requested_by)"
                  " VALUES ($1, now() - interval '1 hour', $2) RETURNING id",
                  2, p, f->replay, sizeof f->replay) != 0)
        return -1;
    /* an open alert (the marker in its message) */
    const char *ap[] = {f->id, f->marker};
    if (bl_test_sql_value(api.pool, "INSERT INTO api_alerts (organization_id, subject, type, threshold, current_value,"
                  " severity, message) VALUES ($1, 'webhooks', 'webhook-failure', 0, 1, 'high', $2) RETURNING id",
                  2, ap, f->alert, sizeof f->alert) != 0)
        return -1;
    /* its default rate-limit rule (every organization gets the defaults) */
    if (bl_test_sql_value(api.pool, "SELECT id FROM alert_rules WHERE organization_id = $1 AND type = 'rate-limit'"
                  " AND custom_api_id IS NULL", 1, ap, f->alert_rule, sizeof f->alert_rule) != 0)
        return -1;
    if (bl_test_sql_value(api.pool, "INSERT INTO api_commands (command_id, organization_id, command_type, topic, subject,"
                  " request_sha256, state, response) VALUES (gen_random_uuid(), $1, 'risk.create', 'commands.pmo',"
                  " $2, repeat('0', 64), 'accepted', '{}') RETURNING command_id",
                  2, p, f->command, sizeof f->command) != 0)
        return -1;
    char spare_token[BL_API_TOKEN_SIZE];
    if (make_key(f->id, BL_API_PERM_READ, f->marker, spare_token, f->key_id) != 0)
        return -1;
    char body[1024];
    bl_test_reply r;
    snprintf(body, sizeof body, CUSTOM_API_BODY, f->marker, "/matrix");
    long st = bl_test_api_call(&api, "POST", "/v1/custom-apis", f->admin, NULL, body, &r);
    const char *custom = json_string_value(json_object_get(r.json, "id"));
    snprintf(f->custom_api, sizeof f->custom_api, "%s", custom ? custom : "");
    if (st != 201)
        fprintf(stderr, "  custom api of %s: %ld %s\n", f->tag, st, r.body);
    bl_test_reply_clear(&r);
    if (st != 201)
        return -1;
    /* a workflow (named with the marker) and one completed execution of it */
    snprintf(body, sizeof body, WORKFLOW_BODY("%s"), f->marker);
    st = bl_test_api_call(&api, "POST", "/v1/workflows", f->admin, NULL, body, &r);
    const char *workflow = json_string_value(json_object_get(r.json, "id"));
    snprintf(f->workflow, sizeof f->workflow, "%s", workflow ? workflow : "");
    if (st != 201)
        fprintf(stderr, "  workflow of %s: %ld %s\n", f->tag, st, r.body);
    bl_test_reply_clear(&r);
    if (st != 201)
        return -1;
    const char *wp[] = {f->workflow, f->id, f->marker};
    if (bl_test_sql_value(api.pool, "INSERT INTO workflow_executions (workflow_id, organization_id, workflow_version,"
                  " status, trigger_id, input, context, completed_at) VALUES ($1, $2, '1.0.0', 'completed', $3,"
                  " '{}', '{}', now()) RETURNING id",
                  3, wp, f->execution, sizeof f->execution) != 0)
        return -1;
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"url\":\"%s/hook\",\"event_types\":[\"risk.*\"]}", f->marker,
             CLOSED_URL);
    st = bl_test_api_call(&api, "POST", "/v1/webhooks", f->admin, NULL, body, &r);
    const char *webhook = json_string_value(json_object_get(r.json, "id"));
    snprintf(f->webhook, sizeof f->webhook, "%s", webhook ? webhook : "");
    if (st != 201)
        fprintf(stderr, "  webhook of %s: %ld %s\n", f->tag, st, r.body);
    bl_test_reply_clear(&r);
    return st == 201 ? 0 : -1;
}

/* Logs the user in: a new session's access token into token. Returns 0 or -1. */
static int login(char *token, size_t len)
{
    bl_test_reply r;
    long st = bl_test_api_call(&api, "POST", "/v1/auth/login", NULL, NULL,
                               "{\"email\":\"" USER_EMAIL "\",\"password\":\"" USER_PASSWORD "\"}", &r);
    const char *access = json_string_value(json_object_get(r.json, "access_token"));
    int rc = st == 200 && access ? 0 : -1;
    if (rc == 0)
        snprintf(token, len, "%s", access);
    else
        fprintf(stderr, "  login: %ld %s\n", st, r.body);
    bl_test_reply_clear(&r);
    return rc;
}

static int setup(void)
{
    setenv("BUSLINE_ENCRYPTION_KEYS", KEYRING, 1);
    setenv("BUSLINE_WEBHOOK_ALLOW", "127.0.0.0/8", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_ID", "matrix-client", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_CLIENT_SECRET", "matrix-secret", 1);
    setenv("BUSLINE_OAUTH_GOOGLE_CALENDAR_BASE_URL", CLOSED_URL, 1);
    /* no domain service runs here: field-service creates answer 202 at once */
    if (bl_test_api_start_waiting(&api, 1, -1) != 0)
        return -1;
    snprintf(orgs[ORG_A].id, sizeof orgs[ORG_A].id, "%s", api.org);
    snprintf(orgs[ORG_B].id, sizeof orgs[ORG_B].id, "%s", api.other_org);
    snprintf(orgs[ORG_A].admin, sizeof orgs[ORG_A].admin, "%s", api.admin_token);
    snprintf(orgs[ORG_B].admin, sizeof orgs[ORG_B].admin, "%s", api.other_token);
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    /* the demo organization starts on pro so its webhook can be made over the API */
    int rc = conn ? bl_api_org_create(conn, "demo", BL_API_PLAN_PRO, orgs[ORG_DEMO].id, &err) : -1;
    char user_id[BL_API_ID_MAX];
    if (rc == 0)
        rc = bl_api_user_create(conn, api.org, USER_EMAIL, USER_PASSWORD, BL_API_PERM_WRITE, NULL, user_id, &err);
    bl_pg_pool_release(api.pool, conn);
    if (rc != 0) {
        fprintf(stderr, "  setup: %s\n", err.msg);
        return -1;
    }
    if (make_key(orgs[ORG_DEMO].id, BL_API_PERM_ADMIN, "demo admin", orgs[ORG_DEMO].admin, NULL) != 0)
        return -1;
    for (int i = 0; i < ORG_COUNT; i++) {
        snprintf(orgs[i].marker, sizeof orgs[i].marker, "marker-of-%s", orgs[i].tag);
        if (make_org_rows(&orgs[i]) != 0)
            return -1;
    }
    const char *demo[] = {orgs[ORG_DEMO].id};
    if (bl_test_sql(api.pool, "UPDATE api_organizations SET plan = 'demo' WHERE id = $1", 1, demo) != 0)
        return -1;
    /* the callers */
    char expired_id[BL_API_ID_MAX], revoked_id[BL_API_ID_MAX];
    if (make_key(api.org, BL_API_PERM_READ, "read", callers[C_READ].token, NULL) != 0 ||
        make_key(api.org, BL_API_PERM_ADMIN, "expired", callers[C_EXPIRED].token, expired_id) != 0 ||
        make_key(api.org, BL_API_PERM_ADMIN, "revoked", callers[C_REVOKED].token, revoked_id) != 0)
        return -1;
    const char *ex[] = {expired_id}, *rv[] = {revoked_id};
    if (bl_test_sql(api.pool, "UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1", 1, ex) != 0 ||
        bl_test_sql(api.pool, "UPDATE api_keys SET active = false, revoked_at = now() WHERE id = $1", 1, rv) != 0)
        return -1;
    snprintf(callers[C_WRITE].token, sizeof callers[C_WRITE].token, "%s", api.write_token);
    snprintf(callers[C_ADMIN].token, sizeof callers[C_ADMIN].token, "%s", api.admin_token);
    snprintf(callers[C_OTHER].token, sizeof callers[C_OTHER].token, "%s", api.other_token);
    snprintf(callers[C_DEMO].token, sizeof callers[C_DEMO].token, "%s", orgs[ORG_DEMO].admin);
    bl_test_reply r;
    if (login(callers[C_JWT].token, sizeof callers[C_JWT].token) != 0)
        return -1;
    if (bl_test_api_call(&api, "GET", "/v1/openapi.json", NULL, NULL, NULL, &r) == 200)
        openapi = json_incref(r.json);
    bl_test_reply_clear(&r);
    return callers[C_JWT].token[0] && openapi ? 0 : -1;
}

/* ---- the documented rules ---- */

/* ---- the matrix ---- */

typedef struct route_row {
    const char *method, *pattern;
    const json_t *op;
    bool is_public, is_command;
    long own[CALLERS], foreign[CALLERS]; /* statuses; 0 = not called */
} route_row;

static route_row rows[ROUTES_MAX];
static size_t row_count;
static int allowed_cells, denied_cells, cross_org_cells, cross_org_reads, cross_org_commands;

/* The error shape of the answer's surface, with the request id of the
 * X-Request-Id header. */
static bool error_shaped(const bl_test_reply *r)
{
    if (json_object_get(r->json, "error_code")) {
        const char *id = json_string_value(json_object_get(r->json, "request_id"));
        return json_is_string(json_object_get(r->json, "detail")) &&
               json_is_object(json_object_get(r->json, "field_errors")) && r->request_id[0] && id &&
               strcmp(id, r->request_id) == 0;
    }
    json_t *e = json_object_get(r->json, "error");
    const char *id = json_string_value(json_object_get(e, "request_id"));
    return json_is_string(json_object_get(e, "code")) && json_is_string(json_object_get(e, "message")) &&
           r->request_id[0] && id && strcmp(id, r->request_id) == 0;
}

/* No answer to a caller holds another organization's id or marker. */
static bool leaks(const caller *c, const bl_test_reply *r)
{
    for (int i = 0; i < ORG_COUNT; i++) {
        if (i == c->org)
            continue;
        if (strstr(r->body, orgs[i].marker) || strstr(r->body, orgs[i].id))
            return true;
    }
    return false;
}

static void report(const route_row *row, const caller *c, const char *variant, const char *want,
                   const bl_test_reply *r)
{
    fprintf(stderr, "  %s %s as %s (%s ids): want %s, got %ld %.200s\n", row->method, row->pattern, c->name,
            variant, want, r->status, r->body);
}

/* A command accepted with another organization's id was filed under the
 * caller's organization (the bus carries it there, never to the owner). */
static bool command_filed_under_caller(const caller *c, const bl_test_reply *r)
{
    const char *id = json_string_value(json_object_get(r->json, "command_id"));
    if (!id)
        return false;
    const char *p[] = {id};
    char org[BL_API_ID_MAX] = "";
    return bl_test_sql_value(api.pool, "SELECT organization_id FROM api_commands WHERE command_id::text = $1", 1, p, org,
                     sizeof org) == 0 &&
           strcmp(org, orgs[c->org].id) == 0;
}

/* Calls one cell and checks it; foreign: the ids are another organization's. */
static void run_cell(route_row *row, int ci, bool foreign)
{
    caller *c = &callers[ci];
    const bl_test_perm_org *f = &orgs[foreign ? foreign_org(c) : c->org];
    char path[512];
    int scoped = bl_test_perm_concrete_path(row->pattern, f, path, sizeof path);
    if (scoped < 0) {
        fprintf(stderr, "  %s %s: a parameter this test has no fixture for\n", row->method, row->pattern);
        CHECK(scoped >= 0);
        return;
    }
    if (foreign && scoped == 0)
        return;
    char *body = bl_test_perm_body_for(openapi, row->method, row->pattern, row->op);
    /* the bearer logout revokes the session it names: it gets a session of
     * its own, so the jwt caller's stays valid for the other cells */
    char own_session[sizeof c->token];
    const char *token = c->token[0] ? c->token : NULL;
    if (ci == C_JWT && strstr(row->pattern, "/auth/logout") && login(own_session, sizeof own_session) == 0)
        token = own_session;
    bl_test_reply r;
    long st = bl_test_api_call(&api, row->method, path, token, NULL, body, &r);
    free(body);
    (foreign ? row->foreign : row->own)[ci] = st;
    const char *variant = foreign ? "foreign" : "own";
    const char *code = bl_test_reply_error_code(&r);
    if (row->is_public) {
        /* credentials are ignored: the answer is what no credentials get;
         * except /api/auth/logout, whose access token is what it revokes */
        long anonymous = row->own[C_NONE];
        bool bearer_logout = ci == C_JWT && strcmp(row->pattern, "/api/auth/logout") == 0;
        if (bearer_logout && st != 204) {
            report(row, c, variant, "204 (the session logged out)", &r);
            CHECK_EQ_INT(st, 204);
        } else if (!bearer_logout && anonymous && st != anonymous) {
            report(row, c, variant, "the anonymous status", &r);
            CHECK_EQ_INT(st, anonymous);
        }
        bool refused = st == 403 || strcmp(code, bl_test_perm_code_on(row->pattern, "forbidden")) == 0 ||
                       strcmp(code, "plan_required") == 0;
        if (refused)
            report(row, c, variant, "not refused", &r);
        CHECK(!refused);
        allowed_cells++;
        bl_test_reply_clear(&r);
        return;
    }
    bl_api_perm need = bl_test_perm_documented_need(row->method, row->pattern);
    long want = 0;
    const char *want_code = NULL;
    if (c->refused) {
        want = 401, want_code = bl_test_perm_code_on(row->pattern, "unauthorized");
    } else if (c->perm < need) {
        want = 403, want_code = bl_test_perm_code_on(row->pattern, "forbidden");
    } else if (c->demo && strcmp(row->method, "GET") != 0) {
        want = 403, want_code = "plan_required";
    }
    if (want) {
        denied_cells++;
        bool ok = st == want && strcmp(code, want_code) == 0 && error_shaped(&r);
        if (!ok) {
            char w[64];
            snprintf(w, sizeof w, "%ld %s", want, want_code);
            report(row, c, variant, w, &r);
        }
        CHECK(ok);
        bl_test_reply_clear(&r);
        return;
    }
    allowed_cells++;
    if (leaks(c, &r)) {
        report(row, c, variant, "no other organization's data", &r);
        CHECK(!leaks(c, &r));
    }
    bool ok = st != 0 && st != 401 && st != 403 && st != 500;
    const char *why = "not 401/403/500";
    if (ok && foreign) {
        cross_org_cells++;
        if (strcmp(row->method, "GET") == 0)
            cross_org_reads++;
        /* a command names its aggregate; it is filed in the caller's own
         * organization, where the domain service finds no such aggregate */
        if (row->is_command && st == 202) {
            cross_org_commands++;
            ok = command_filed_under_caller(c, &r), why = "202 filed under the caller's organization";
        } else
            ok = st == 404 && error_shaped(&r), why = "404 in the error shape";
    } else if (ok && strcmp(row->method, "GET") == 0 && scoped > 0) {
        ok = st == 200, why = "200 for the caller's own id";
    }
    if (!ok)
        report(row, c, variant, why, &r);
    CHECK(ok);
    bl_test_reply_clear(&r);
}

static void print_matrix(void)
{
    fprintf(stderr, "\n  %-46s", "route \\ caller (own ids / another org's ids)");
    for (int ci = 0; ci < CALLERS; ci++)
        fprintf(stderr, " %-7s", callers[ci].name);
    fprintf(stderr, "\n");
    for (size_t i = 0; i < row_count; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s %s", rows[i].method, rows[i].pattern);
        fprintf(stderr, "  %-46.46s", name);
        for (int ci = 0; ci < CALLERS; ci++) {
            char cell[16];
            if (rows[i].foreign[ci])
                snprintf(cell, sizeof cell, "%ld/%ld", rows[i].own[ci], rows[i].foreign[ci]);
            else
                snprintf(cell, sizeof cell, "%ld", rows[i].own[ci]);
            fprintf(stderr, " %-7s", cell);
        }
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "  %zu routes x %d callers: %d cells allowed, %d denied; %d allowed with another"
                    " organization's ids: %d commands filed under the caller, the rest 404 (%d reads)\n\n",
            row_count, CALLERS, allowed_cells, denied_cells, cross_org_cells, cross_org_commands, cross_org_reads);
}

/* Order: anonymous first (public routes compare with it), other callers
 * next; DELETE routes last so the rows they remove serve every other
 * route first; another organization's ids before the caller's own, so a
 * DELETE meets the other organization's rows while they still exist. */
static void every_route_times_every_caller_is_allowed_or_denied_as_documented(void)
{
    size_t n = bl_api_server_route_count(api.server);
    REQUIRE(n > 40 && n <= ROUTES_MAX);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const char *method, *pattern;
            bl_api_access access;
            const json_t *op;
            bl_api_surface surface;
            REQUIRE(bl_api_server_route_at(api.server, i, &method, &pattern, &access, &surface, &op) == 0);
            if ((strcmp(method, "DELETE") == 0) != (pass == 1))
                continue;
            route_row *row = &rows[row_count++];
            *row = (route_row){.method = method, .pattern = pattern, .op = op,
                               .is_public = bl_test_perm_documented_public(pattern),
                               .is_command = json_object_get(op, "requestBody") != NULL};
            if (row->is_public != (access == BL_API_PUBLIC)) {
                fprintf(stderr, "  %s %s: public in the table %d, documented %d\n", method, pattern,
                        access == BL_API_PUBLIC, row->is_public);
                CHECK(row->is_public == (access == BL_API_PUBLIC));
            }
            run_cell(row, C_NONE, false);
            for (int ci = 0; ci < CALLERS; ci++)
                run_cell(row, ci, true);
            for (int ci = 0; ci < CALLERS; ci++)
                if (ci != C_NONE)
                    run_cell(row, ci, false);
        }
    }
    print_matrix();
    CHECK(cross_org_reads > 10);
}

/* Every GET with an id, as every caller that may read it, with the other
 * organization's id: never found, and then the same read with the caller's
 * own id is found (so the 404 is the organization check, not a bad id). */
static void no_cross_organization_read_ever_succeeds(void)
{
    int reads = 0;
    for (size_t i = 0; i < row_count; i++) {
        char path[512];
        if (strcmp(rows[i].method, "GET") != 0 || rows[i].is_public || !strchr(rows[i].pattern, ':') ||
            bl_test_perm_concrete_path(rows[i].pattern, &orgs[ORG_A], path, sizeof path) == 0)
            continue; /* (an id no organization owns, as an event type's name: the same for all) */
        for (int ci = 0; ci < CALLERS; ci++) {
            /* refused callers, and a read key where a read needs more (document 001: Manager) */
            if (callers[ci].refused || callers[ci].perm < bl_test_perm_documented_need("GET", rows[i].pattern))
                continue;
            reads++;
            if (rows[i].foreign[ci] != 404 || rows[i].own[ci] != 200)
                fprintf(stderr, "  GET %s as %s: own %ld, another organization's %ld\n", rows[i].pattern,
                        callers[ci].name, rows[i].own[ci], rows[i].foreign[ci]);
            CHECK_EQ_INT(rows[i].foreign[ci], 404);
            CHECK_EQ_INT(rows[i].own[ci], 200);
        }
    }
    fprintf(stderr, "  %d reads by id across organizations, none found\n", reads);
    CHECK(reads > 30);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (setup() == 0) {
        BL_RUN(every_route_times_every_caller_is_allowed_or_denied_as_documented);
        BL_RUN(no_cross_organization_read_ever_succeeds);
    } else {
        bl_test_failures++;
    }
    json_decref(openapi);
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
