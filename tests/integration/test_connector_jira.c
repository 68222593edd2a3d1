/* The Jira connector against a fake Jira Cloud that checks every request. */
#include "connectors/connect.h"
#include "tests/support/fake_jira.h"
#include "tests/support/test.h"

#define RULES                                                                                                    \
    "[{\"events\":[\"risk.escalated\"],\"action\":\"create_issue\",\"template\":{\"summary\":\"[{data.project_name}]" \
    " {data.title}\",\"description\":\"{data.description}\\n\\nSeverity: {data.severity}\"}},"                   \
    "{\"events\":[\"risk.resolved\"],\"action\":\"resolve\",\"template\":{\"comment\":\"Resolved by busline: "   \
    "{data.resolution}\"}}]"

typedef struct tokens {
    int refreshed;
} tokens;

static int token_source(void *ctx, const char *integration_id, int refresh, char *out, size_t cap, bl_err *err)
{
    (void)integration_id;
    (void)err;
    tokens *t = ctx;
    if (refresh)
        t->refreshed++;
    snprintf(out, cap, "%s", t->refreshed ? "fresh-token" : "stale-token");
    return 0;
}

static bl_connect *jira_connect(fake_jira *f, bl_state_store *state, const char *api_token, int oauth, tokens *t)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[{\"id\":\"jira-ops\",\"settings\":{\"base_url\":\"%s\",\"project_key\":\"OPS\",\"labels\":[\"busline\"]%s},"
             "\"credentials\":{\"email\":\"bot@example.com\",\"api_token\":\"%s\"},\"rules\":" RULES "}]",
             fake_jira_url(f), oauth ? ",\"auth\":\"oauth\"" : "", api_token);
    json_error_t jerr;
    json_t *ints = json_loads(text, 0, &jerr);
    if (!ints)
        fprintf(stderr, "  config: %s\n", jerr.text);
    bl_connect_config cfg = {.connector = "jira", .integrations = ints, .state = state, .token = oauth ? token_source : NULL,
                             .token_ctx = t};
    bl_err err = {0};
    bl_connect *c = bl_connect_new(&cfg, &err);
    if (!c)
        fprintf(stderr, "  connect: %s\n", err.msg);
    json_decref(ints);
    return c;
}

/* One fake Jira, an in-memory state store and a connector on them. */
typedef struct env {
    fake_jira *f;
    bl_state_store *st;
    bl_connect *c;
} env;

static int env_open(env *e)
{
    e->f = fake_jira_start("OPS", "bot@example.com", "tok", NULL);
    e->st = bl_state_store_new(NULL);
    e->c = e->f && e->st ? jira_connect(e->f, e->st, "tok", 0, NULL) : NULL;
    return e->c ? 0 : -1;
}

static void env_close(env *e)
{
    bl_connect_free(e->c);
    bl_state_store_free(e->st);
    fake_jira_stop(e->f);
}

/* Opens env e in a test, or ends the test after cleaning up. */
#define ENV_OPEN(e)                                                                                               \
    env e = {0};                                                                                                  \
    do {                                                                                                          \
        if (env_open(&e) != 0) {                                                                                  \
            env_close(&e);                                                                                        \
            REQUIRE(0);                                                                                           \
        }                                                                                                         \
    } while (0)

static json_t *risk_event(const char *id, const char *type, const char *risk, const char *severity, const char *title)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "id", id, "type", type,
                     "time", "2026-11-25T08:00:00.000Z", "source", "pmo", "organization_id", "org_1", "subject", risk,
                     "data", "risk_id", risk, "project_name", "Apollo", "title", title, "description",
                     "Supplier slipped.\nTwo weeks late.", "severity", severity, "resolution", "new supplier",
                     "project_id", "p-1");
}

static bl_outcome process(bl_connect *c, json_t *ev, char *msg, size_t cap)
{
    bl_outcome o = bl_connect_process(c, ev, 1, msg, cap);
    json_decref(ev);
    return o;
}

static void jira_priority_follows_severity_and_description_is_adf(void)
{
    ENV_OPEN(e);
    fake_jira *f = e.f;
    bl_connect *c = e.c;
    const char *sev[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW"}, *prio[] = {"Highest", "High", "Medium", "Low"};
    char msg[600];
    for (int i = 0; i < 4; i++) {
        char id[16], risk[16];
        snprintf(id, sizeof id, "ev-%d", i);
        snprintf(risk, sizeof risk, "risk-%d", i);
        bl_outcome o = process(c, risk_event(id, "risk.escalated", risk, sev[i], "Supplier late"), msg, sizeof msg);
        CHECK_EQ_INT(o.kind, BL_OUTCOME_DONE);
        json_t *issue = fake_jira_issue(f, (size_t)i);
        REQUIRE(issue);
        json_t *fields = json_object_get(issue, "fields");
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(fields, "priority"), "name")), prio[i]);
        CHECK_EQ_STR(json_string_value(json_object_get(fields, "summary")), "[Apollo] Supplier late");
        CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(fields, "issuetype"), "name")), "Task");
        const json_t *desc = json_object_get(fields, "description");
        CHECK(fake_jira_adf_problem(desc) == NULL);
        /* Two paragraphs; the first holds a hardBreak between its lines. */
        CHECK_EQ_INT(json_array_size(json_object_get(desc, "content")), 2);
        json_t *first = json_object_get(json_array_get(json_object_get(desc, "content"), 0), "content");
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(first, 1), "type")), "hardBreak");
        char label[32];
        snprintf(label, sizeof label, "busline-%s", risk);
        json_t *labels = json_object_get(fields, "labels");
        CHECK_EQ_STR(json_string_value(json_array_get(labels, 0)), "busline");
        CHECK_EQ_STR(json_string_value(json_array_get(labels, 1)), label);
        json_decref(issue);
    }
    CHECK_EQ_INT(fake_jira_rejected(f), 0);
    env_close(&e);
}

static void jira_resolve_comments_in_adf_and_transitions_to_done(void)
{
    ENV_OPEN(e);
    fake_jira *f = e.f;
    bl_connect *c = e.c;
    char msg[600];
    CHECK_EQ_INT(process(c, risk_event("e1", "risk.escalated", "r-9", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    CHECK_EQ_INT(process(c, risk_event("e2", "risk.resolved", "r-9", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    json_t *issue = fake_jira_issue(f, 0);
    REQUIRE(issue);
    CHECK_EQ_STR(json_string_value(json_object_get(issue, "status")), "Done");
    json_t *comments = json_object_get(issue, "comments");
    CHECK_EQ_INT(json_array_size(comments), 1);
    json_t *text = json_array_get(json_object_get(json_array_get(json_object_get(json_array_get(comments, 0), "content"),
                                                                 0),
                                                  "content"),
                                  0);
    CHECK_EQ_STR(json_string_value(json_object_get(text, "text")), "Resolved by busline: new supplier");
    json_decref(issue);
    /* The same resolution again: no second comment. */
    CHECK_EQ_INT(process(c, risk_event("e2", "risk.resolved", "r-9", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    issue = fake_jira_issue(f, 0);
    CHECK_EQ_INT(json_array_size(json_object_get(issue, "comments")), 1);
    json_decref(issue);
    CHECK_EQ_INT(fake_jira_rejected(f), 0);
    env_close(&e);
}

static void jira_health_checks_the_credentials(void)
{
    ENV_OPEN(e);
    CHECK_EQ_INT(bl_connect_health(e.c, NULL, NULL), 0);
    bl_connect *revoked = jira_connect(e.f, e.st, "revoked", 0, NULL);
    REQUIRE(revoked);
    CHECK_EQ_INT(bl_connect_health(revoked, NULL, NULL), 1);
    bl_connect_free(revoked);
    env_close(&e);
}

static void jira_429_retry_after_is_honoured(void)
{
    ENV_OPEN(e);
    fake_jira *f = e.f;
    bl_connect *c = e.c;
    char msg[600];
    fake_jira_rate_limit(f, 1, 7);
    bl_outcome o = process(c, risk_event("e1", "risk.escalated", "r-1", "LOW", "Late"), msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_RETRY);
    CHECK_EQ_INT(o.retry_after_ms, 7000);
    CHECK(strstr(msg, "HTTP 429") != NULL);
    CHECK_EQ_INT(fake_jira_issue_count(f), 0);
    o = process(c, risk_event("e1", "risk.escalated", "r-1", "LOW", "Late"), msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT(fake_jira_issue_count(f), 1);
    env_close(&e);
}

static void jira_validation_error_goes_to_dead_letter_with_jiras_message(void)
{
    ENV_OPEN(e);
    fake_jira *f = e.f;
    bl_connect *c = e.c;
    char msg[600];
    bl_outcome o = process(c, risk_event("e1", "risk.escalated", "r-1", "LOW", "REJECT-ME"), msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "HTTP 400: customfield_10010: Team is required.") != NULL);
    CHECK_EQ_INT(fake_jira_issue_count(f), 0);
    env_close(&e);
}

static void jira_refused_credentials_are_refreshed_once_else_dead_lettered(void)
{
    fake_jira *f = fake_jira_start("OPS", "bot@example.com", "tok", "fresh-token");
    bl_state_store *st = bl_state_store_new(NULL);
    REQUIRE(f && st);
    char msg[600];
    /* Basic auth with a revoked API token: nothing to refresh. */
    bl_connect *c = jira_connect(f, st, "revoked", 0, NULL);
    REQUIRE(c);
    bl_outcome o = process(c, risk_event("e1", "risk.escalated", "r-1", "LOW", "Late"), msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "auth expired") && strstr(msg, "HTTP 401"));
    bl_connect_free(c);
    /* OAuth: the stale token is refused, the runtime refreshes, one retry works. */
    tokens t = {0};
    c = jira_connect(f, st, "unused", 1, &t);
    REQUIRE(c);
    o = process(c, risk_event("e2", "risk.escalated", "r-2", "LOW", "Late"), msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT(t.refreshed, 1);
    CHECK_EQ_INT(fake_jira_issue_count(f), 1);
    bl_connect_free(c);
    bl_state_store_free(st);
    fake_jira_stop(f);
}

static void jira_one_issue_per_risk_even_when_the_link_was_lost(void)
{
    ENV_OPEN(e);
    fake_jira *f = e.f;
    bl_connect *c = e.c;
    char msg[600];
    CHECK_EQ_INT(process(c, risk_event("e1", "risk.escalated", "r-1", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    CHECK_EQ_INT(process(c, risk_event("e1", "risk.escalated", "r-1", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    CHECK_EQ_INT(process(c, risk_event("e2", "risk.escalated", "r-1", "CRITICAL", "Later"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    bl_connect_free(e.c);
    /* A crash between create and store: the state never saw the key. */
    bl_state_store *fresh = bl_state_store_new(NULL);
    c = e.c = jira_connect(f, fresh, "tok", 0, NULL);
    bl_state_store_free(e.st);
    e.st = fresh;
    REQUIRE(c);
    CHECK_EQ_INT(process(c, risk_event("e1", "risk.escalated", "r-1", "HIGH", "Late"), msg, sizeof msg).kind,
                 BL_OUTCOME_DONE);
    CHECK_EQ_INT(fake_jira_issue_count(f), 1);
    char key[64];
    CHECK_EQ_INT(bl_state_store_get(fresh, "jira-ops", "issue/r-1", key, sizeof key, NULL), 1);
    CHECK_EQ_STR(key, "OPS-1");
    env_close(&e);
}

static void bad_settings_or_templates_are_refused_at_start_naming_the_integration(void)
{
    bl_err err = {0};
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), &err);
    bl_state_store *st = bl_state_store_new(NULL);
    REQUIRE(cat && st);
    const char *cases[][2] = {
        {"[{\"id\":\"j1\",\"settings\":{\"base_url\":\"http://127.0.0.1:1\",\"project_key\":\"OPS\"},"
         "\"credentials\":{\"email\":\"a@b\",\"api_token\":\"t\"},\"rules\":[{\"events\":[\"risk.escalated\"],"
         "\"action\":\"create_issue\",\"template\":{\"summary\":\"{data.titel}\"}}]}]",
         "integration 1: rules: rule 1: template.summary: unknown placeholder root \"titel\""},
        {"[{\"id\":\"j1\",\"settings\":{\"project_key\":\"OPS\"},\"credentials\":{\"email\":\"a@b\","
         "\"api_token\":\"t\"}}]",
         "integration j1: jira: settings.base_url"},
        {"[{\"id\":\"j1\",\"settings\":{\"base_url\":\"http://127.0.0.1:1\",\"project_key\":\"OPS\"},"
         "\"credentials\":{\"email\":\"a@b\",\"api_token\":\"env:BUSLINE_TEST_UNSET_TOKEN\"}}]",
         "credentials.api_token: environment variable BUSLINE_TEST_UNSET_TOKEN is not set"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *ints = json_loads(cases[i][0], 0, NULL);
        bl_connect_config cfg = {.connector = "jira", .integrations = ints, .state = st, .catalog = cat};
        bl_connect *c = bl_connect_new(&cfg, &err);
        CHECK(c == NULL);
        if (!strstr(err.msg, cases[i][1]))
            fprintf(stderr, "  got \"%s\"\n", err.msg);
        CHECK(strstr(err.msg, cases[i][1]) != NULL);
        bl_connect_free(c);
        json_decref(ints);
    }
    bl_state_store_free(st);
    bl_catalog_free(cat);
}

/* Integrations of organizations a and b (b in error, as Postgres would
 * list it), and c's none. */
static json_t *org_integrations(fake_jira *f, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[{\"id\":\"jira-a\",\"organization_id\":\"org_a\",\"settings\":{\"base_url\":\"%s\",\"project_key\":"
             "\"OPS\"},\"credentials\":{\"email\":\"bot@example.com\",\"api_token\":\"tok\"},\"rules\":" RULES "},"
             "{\"id\":\"jira-b\",\"organization_id\":\"org_b\",\"status\":\"error\",\"error_message\":"
             "\"token refresh refused: invalid_grant\",\"settings\":{\"base_url\":\"%s\",\"project_key\":\"OPS\"},"
             "\"credentials\":{\"email\":\"bot@example.com\",\"api_token\":\"tok\"},\"rules\":" RULES "}%s]",
             fake_jira_url(f), fake_jira_url(f), extra);
    return json_loads(text, 0, NULL);
}

static bl_outcome process_for(bl_connect *c, const char *org, const char *id, char *msg, size_t cap)
{
    json_t *ev = risk_event(id, "risk.escalated", id, "HIGH", "Late");
    json_object_set_new(ev, "organization_id", json_string(org));
    return process(c, ev, msg, cap);
}

static void reloaded_integrations_route_by_organization_and_error_ones_dead_letter(void)
{
    ENV_OPEN(e);
    bl_err err = {0};
    json_t *ints = org_integrations(e.f, "");
    CHECK(bl_connect_reload(e.c, ints, &err) == 0);
    json_decref(ints);
    CHECK_EQ_INT((int)bl_connect_integration_count(e.c), 2);
    char msg[600];
    bl_outcome o = process_for(e.c, "org_b", "r-b", msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "INVALID_CREDENTIALS") && strstr(msg, "jira-b") && strstr(msg, "invalid_grant"));
    CHECK_EQ_INT((int)fake_jira_issue_count(e.f), 0);
    CHECK_EQ_INT(process_for(e.c, "org_c", "r-c", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT((int)fake_jira_issue_count(e.f), 0);
    CHECK_EQ_INT(process_for(e.c, "org_a", "r-a", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT((int)fake_jira_issue_count(e.f), 1);

    /* A broken integration: left out when it may be skipped ... */
    ints = org_integrations(e.f, ",{\"id\":\"jira-x\",\"skip_invalid\":true,\"rules\":[{\"action\":\"fly\"}]}");
    CHECK(bl_connect_reload(e.c, ints, &err) == 0);
    json_decref(ints);
    CHECK_EQ_INT((int)bl_connect_integration_count(e.c), 2);
    /* ... else the reload fails, naming it, and the running set stays. */
    ints = org_integrations(e.f, ",{\"id\":\"jira-x\",\"rules\":[{\"action\":\"fly\"}]}");
    CHECK(bl_connect_reload(e.c, ints, &err) != 0);
    CHECK(strstr(err.msg, "integration 3") != NULL);
    json_decref(ints);
    CHECK_EQ_INT((int)bl_connect_integration_count(e.c), 2);
    CHECK_EQ_INT(process_for(e.c, "org_b", "r-b2", msg, sizeof msg).kind, BL_OUTCOME_DEAD_LETTER);
    env_close(&e);
}

int main(void)
{
    BL_RUN(bad_settings_or_templates_are_refused_at_start_naming_the_integration);
    BL_RUN(jira_priority_follows_severity_and_description_is_adf);
    BL_RUN(jira_resolve_comments_in_adf_and_transitions_to_done);
    BL_RUN(jira_health_checks_the_credentials);
    BL_RUN(jira_429_retry_after_is_honoured);
    BL_RUN(jira_validation_error_goes_to_dead_letter_with_jiras_message);
    BL_RUN(jira_refused_credentials_are_refreshed_once_else_dead_lettered);
    BL_RUN(jira_one_issue_per_risk_even_when_the_link_was_lost);
    BL_RUN(reloaded_integrations_route_by_organization_and_error_ones_dead_letter);
    return bl_test_summary();
}
