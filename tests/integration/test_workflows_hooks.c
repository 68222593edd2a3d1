/* `webhook` workflow triggers over the real API, PostgreSQL and a real
 * `busline workflows` process: an admin draws the workflow's secret; a
 * POST signed per Standard Webhooks with it starts one execution whose input
 * is the body (202 with its id) and which the orchestrator runs; a replayed
 * webhook-id (409), a bad or stale signature, an old secret after a new one
 * (401 invalid_signature), and a workflow of another trigger (404) start
 * nothing. */
#include "connectors/webhook/policy/signature.h"
#include "core/clock.h"
#include "core/kafka_admin.h"
#include "core/pg_pool.h"
#include "tests/support/api_fixture.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"
#include "tests/support/wf_fixture.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 60000

static bl_test_api t;
static char topic[200], group[128], log_path[256];

static pid_t start_orchestrator(void)
{
    return bl_test_wf_start(&t, topic, group, log_path, 2);
}

static long create_workflow(const char *trigger, char id[64])
{
    char body[2048];
    snprintf(body, sizeof body,
             "{\"name\":\"hooked\",\"trigger\":%s,\"steps\":[{\"id\":\"pick\",\"type\":\"transformation\","
             "\"config\":{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.input.ticket.title\","
             "\"target\":\"$.title\"}]}}]}",
             trigger);
    bl_test_reply r;
    long st = bl_test_api_call(&t, "POST", "/v1/workflows", t.admin_token, NULL, body, &r);
    snprintf(id, 64, "%s", st == 201 ? json_string_value(json_object_get(r.json, "id")) : "");
    if (st != 201)
        fprintf(stderr, "  create: %ld %s\n", st, r.body);
    bl_test_reply_clear(&r);
    return st;
}

/* Draws a new hook secret of workflow wid into secret. Returns the status. */
static long new_secret(const char *wid, char secret[BL_WEBHOOK_SECRET_TEXT_MAX])
{
    char path[160];
    snprintf(path, sizeof path, "/v1/workflows/%s/hook-secret", wid);
    bl_test_reply r;
    long st = bl_test_api_call(&t, "POST", path, t.admin_token, NULL, "{}", &r);
    const char *s = json_string_value(json_object_get(r.json, "secret"));
    snprintf(secret, BL_WEBHOOK_SECRET_TEXT_MAX, "%s", s ? s : "");
    bl_test_reply_clear(&r);
    return st;
}

static size_t keep_body(char *data, size_t size, size_t n, void *user)
{
    size_t len = strlen(user), add = size * n;
    if (len + add < 4096) {
        memcpy((char *)user + len, data, add);
        ((char *)user)[len + add] = '\0';
    }
    return add;
}

/* POSTs body to wid's hook signed with secret (NULL: a wrong signature) at
 * time ts as msg_id. Returns the status; the answer's JSON in *answer (new
 * reference, may be NULL). */
static long post_hook(const char *wid, const char *secret, const char *msg_id, int64_t ts, const char *body,
                      json_t **answer)
{
    char sig[BL_WEBHOOK_SIG_MAX] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    bl_webhook_secret s;
    bl_err err = {0};
    if (secret && (bl_webhook_secret_parse(secret, &s, &err) != 0 ||
                   bl_webhook_sign_v1(s.key, s.len, msg_id, ts, body, strlen(body), sig, sizeof sig, &err) != 0))
        return -1;
    char url[256], h_id[320], h_ts[64], h_sig[128], got[4096] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/workflows/%s/hooks", bl_api_server_port(t.server), wid);
    snprintf(h_id, sizeof h_id, "webhook-id: %s", msg_id);
    snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", (long long)ts);
    snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, h_id);
    h = curl_slist_append(h, h_ts);
    h = curl_slist_append(h, h_sig);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, got);
    long st = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (answer)
        *answer = json_loads(got, 0, NULL);
    return st;
}

static const char *error_code(const json_t *answer)
{
    const char *c = json_string_value(json_object_get(json_object_get(answer, "error"), "code"));
    return c ? c : "";
}

static long sql_count(const char *sql, const char *param)
{
    char n[32] = "";
    const char *p[] = {param};
    if (bl_test_sql_value(t.pool, sql, 1, p, n, sizeof n) != 0)
        return -1;
    return strtol(n, NULL, 10);
}

#define TICKET "{\"ticket\":{\"title\":\"Pump 4 leaks\",\"site\":\"Lyon\"}}"

static void signed_post_starts_one_execution_with_its_body_as_input(void)
{
    char wid[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    REQUIRE(create_workflow("{\"type\":\"webhook\"}", wid) == 201);
    REQUIRE(new_secret(wid, secret) == 201);
    CHECK(strncmp(secret, "whsec_", 6) == 0);
    /* kept sealed, never in plaintext */
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_hooks WHERE workflow_id = $1 AND secret_sealed NOT LIKE"
                           " '%whsec_%'", wid), 1);
    json_t *a = NULL;
    int64_t now = (int64_t)time(NULL);
    CHECK_EQ_INT(post_hook(wid, secret, "msg_hook_1", now, TICKET, &a), 202);
    const char *eid = json_string_value(json_object_get(a, "executionId"));
    REQUIRE(eid);
    char exec_id[64];
    snprintf(exec_id, sizeof exec_id, "%s", eid);
    json_decref(a);
    pid_t pid = start_orchestrator();
    int64_t deadline = bl_clock_mono_ms() + WAIT_MS;
    while (sql_count("SELECT count(*) FROM workflow_executions WHERE id::text = $1 AND status = 'completed'",
                     exec_id) != 1 &&
           bl_clock_mono_ms() < deadline)
        usleep(50000);
    bl_test_wf_stop(pid, SIGTERM);
    char title[64] = "", input[256] = "";
    const char *p[] = {exec_id};
    REQUIRE(bl_test_sql_value(t.pool, "SELECT context -> 'steps' -> 'pick' ->> 'title' FROM workflow_executions"
                              " WHERE id::text = $1 AND status = 'completed'", 1, p, title, sizeof title) == 0);
    CHECK_EQ_STR(title, "Pump 4 leaks");
    REQUIRE(bl_test_sql_value(t.pool, "SELECT input::text FROM workflow_executions WHERE id::text = $1"
                              " AND trigger_id = 'webhook:msg_hook_1' AND input = '" TICKET "'::jsonb",
                              1, p, input, sizeof input) == 0);
    /* the same webhook-id again, freshly signed: refused, nothing started */
    CHECK_EQ_INT(post_hook(wid, secret, "msg_hook_1", (int64_t)time(NULL), TICKET, &a), 409);
    CHECK_EQ_STR(error_code(a), "replayed");
    json_decref(a);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 1);
}

static void bad_stale_or_old_secret_signatures_are_refused(void)
{
    char wid[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX], fresh[BL_WEBHOOK_SECRET_TEXT_MAX];
    REQUIRE(create_workflow("{\"type\":\"webhook\",\"config\":{}}", wid) == 201);
    REQUIRE(new_secret(wid, secret) == 201);
    json_t *a = NULL;
    int64_t now = (int64_t)time(NULL);
    CHECK_EQ_INT(post_hook(wid, NULL, "msg_bad_1", now, TICKET, &a), 401);
    CHECK_EQ_STR(error_code(a), "invalid_signature");
    CHECK(json_object_get(a, "error") != NULL);
    json_decref(a);
    CHECK_EQ_INT(post_hook(wid, secret, "msg_bad_2", now - 600, TICKET, &a), 401); /* past the 5 minutes */
    CHECK_EQ_STR(error_code(a), "invalid_signature");
    json_decref(a);
    /* a new secret: the old one stops verifying, the new one does */
    REQUIRE(new_secret(wid, fresh) == 201);
    CHECK(strcmp(fresh, secret) != 0);
    CHECK_EQ_INT(post_hook(wid, secret, "msg_bad_3", now, TICKET, &a), 401);
    json_decref(a);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 0);
    CHECK_EQ_INT(post_hook(wid, fresh, "msg_bad_4", now, TICKET, &a), 202);
    json_decref(a);
    CHECK_EQ_INT(sql_count("SELECT count(*) FROM workflow_executions WHERE workflow_id = $1", wid), 1);
}

static void workflow_of_another_trigger_has_no_hook(void)
{
    char wid[64], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    REQUIRE(create_workflow("{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}}", wid) == 201);
    CHECK_EQ_INT(new_secret(wid, secret), 409);
    json_t *a = NULL;
    CHECK_EQ_INT(post_hook(wid, NULL, "msg_other_1", (int64_t)time(NULL), TICKET, &a), 404);
    json_decref(a);
    CHECK_EQ_INT(post_hook("00000000-0000-4000-8000-000000000000", NULL, "m", (int64_t)time(NULL), TICKET, &a), 404);
    json_decref(a);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    setenv("BUSLINE_ENCRYPTION_KEYS", "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 1);
    if (bl_test_api_start(&t, 1) == 0) {
        snprintf(topic, sizeof topic, "%sevents.pmo.hooks", t.prefix);
        bl_test_unique_name(group, sizeof group, "wf_hooks");
        snprintf(log_path, sizeof log_path, "/tmp/%s.log", group);
        if (bl_test_wf_topic_make(topic, 1) == 0) {
            BL_RUN(signed_post_starts_one_execution_with_its_body_as_input);
            BL_RUN(bad_stale_or_old_secret_signatures_are_refused);
            BL_RUN(workflow_of_another_trigger_has_no_hook);
        } else {
            bl_test_failures++;
        }
        bl_test_wf_topic_drop(topic);
    } else {
        bl_test_failures++;
    }
    fprintf(stderr, "  orchestrator logs: %s\n", log_path);
    bl_test_api_stop(&t);
    curl_global_cleanup();
    return bl_test_summary();
}
