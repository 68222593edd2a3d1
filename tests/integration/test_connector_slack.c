/* The Slack connector against a fake Slack that checks every request. */
#include "connectors/connect.h"
#include "tests/support/fake_slack.h"
#include "tests/support/test.h"

#define HOOK "/services/T000/B000/XXXX"

static const char *const channels[] = {"#risks", "#projects", NULL};

static bl_connect *slack_connect(fake_slack *f, bl_state_store *st, const char *mode, const char *token,
                                 const char *hook)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[{\"id\":\"slack-pmo\",\"settings\":{\"mode\":\"%s\",\"base_url\":\"%s/api\",\"channels\":["
             "{\"event\":\"risk.*\",\"channel\":\"#risks\"},{\"event\":\"project.*\",\"channel\":\"#projects\"},"
             "{\"event\":\"sprint.*\",\"channel\":\"#archived\"}]},"
             "\"credentials\":{\"bot_token\":\"%s\",\"webhook_url\":\"%s%s\"},\"rules\":["
             "{\"events\":[\"risk.*\",\"project.*\",\"sprint.*\"],\"action\":\"post_message\",\"template\":{"
             "\"text\":\"*{type}*: {data.title}\",\"fields\":\"*Severity*\\n{data.severity}\","
             "\"button_url\":\"https://pmo.example.com/projects/{data.project_id}\",\"button_text\":\"Open project\"}}]}]",
             mode, fake_slack_url(f), token, fake_slack_url(f), hook);
    json_t *ints = json_loads(text, 0, NULL);
    bl_connect_config cfg = {.connector = "slack", .integrations = ints, .state = st};
    bl_err err = {0};
    bl_connect *c = bl_connect_new(&cfg, &err);
    if (!c)
        fprintf(stderr, "  connect: %s\n", err.msg);
    json_decref(ints);
    return c;
}

static bl_outcome post(bl_connect *c, const char *id, const char *type, const char *title, char *msg, size_t cap)
{
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "id", id, "type", type, "time",
                           "2026-11-25T08:00:00.000Z", "organization_id", "org_1", "subject", "p-1", "data", "title",
                           title, "severity", "CRITICAL", "project_id", "p-1");
    bl_outcome o = bl_connect_process(c, ev, 1, msg, cap);
    json_decref(ev);
    return o;
}

static void slack_messages_are_routed_per_event_type_with_blocks_and_a_button(void)
{
    fake_slack *f = fake_slack_start("xoxb-1", channels, HOOK);
    bl_state_store *st = bl_state_store_new(NULL);
    bl_connect *c = f ? slack_connect(f, st, "api", "xoxb-1", HOOK) : NULL;
    REQUIRE(c);
    char msg[600];
    CHECK_EQ_INT(post(c, "e1", "risk.escalated", "Vendor <late> & over", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT(post(c, "e2", "project.status_changed", "Apollo is RED", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    REQUIRE(fake_slack_message_count(f) == 2);
    json_t *m1 = fake_slack_message(f, 0), *m2 = fake_slack_message(f, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(m1, "channel")), "#risks");
    CHECK_EQ_STR(json_string_value(json_object_get(m2, "channel")), "#projects");
    json_t *body = json_object_get(m1, "body");
    CHECK_EQ_STR(json_string_value(json_object_get(body, "text")), "*risk.escalated*: Vendor &lt;late&gt; &amp; over");
    json_t *blocks = json_object_get(body, "blocks");
    CHECK(fake_slack_blocks_problem(blocks) == NULL);
    json_t *section = json_array_get(blocks, 0), *actions = json_array_get(blocks, 1);
    CHECK_EQ_STR(json_string_value(json_object_get(section, "type")), "section");
    CHECK_EQ_INT(json_array_size(json_object_get(section, "fields")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(section, "fields"), 1), "text")),
                 "CRITICAL");
    json_t *button = json_array_get(json_object_get(actions, "elements"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(button, "type")), "button");
    CHECK_EQ_STR(json_string_value(json_object_get(button, "url")), "https://pmo.example.com/projects/p-1");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(button, "text"), "text")), "Open project");
    json_decref(m1);
    json_decref(m2);
    /* Redelivered: the done marker keeps it from posting twice. */
    CHECK_EQ_INT(post(c, "e1", "risk.escalated", "Vendor <late> & over", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    CHECK_EQ_INT(fake_slack_message_count(f), 2);
    bl_connect_free(c);
    bl_state_store_free(st);
    fake_slack_stop(f);
}

static void slack_ok_false_bodies_are_classified(void)
{
    fake_slack *f = fake_slack_start("xoxb-1", channels, HOOK);
    bl_state_store *st = bl_state_store_new(NULL);
    bl_connect *c = f ? slack_connect(f, st, "api", "xoxb-1", HOOK) : NULL;
    REQUIRE(c);
    char msg[600];
    /* sprint.* routes to a channel that does not exist: permanent. */
    bl_outcome o = post(c, "e1", "sprint.completed", "Sprint 4", msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "channel_not_found") != NULL);
    /* ratelimited with Retry-After: retry after that long. */
    fake_slack_rate_limit(f, 1, 3);
    o = post(c, "e2", "risk.escalated", "Late", msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_RETRY);
    CHECK_EQ_INT(o.retry_after_ms, 3000);
    CHECK_EQ_INT(post(c, "e2", "risk.escalated", "Late", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    bl_connect_free(c);
    /* invalid_auth: auth expired; nothing can refresh a bot token here. */
    c = slack_connect(f, st, "api", "xoxb-revoked", HOOK);
    REQUIRE(c);
    o = post(c, "e3", "risk.escalated", "Late", msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "auth expired") && strstr(msg, "invalid_auth"));
    CHECK_EQ_INT(fake_slack_message_count(f), 1);
    bl_connect_free(c);
    bl_state_store_free(st);
    fake_slack_stop(f);
}

static void slack_incoming_webhook_posts_text_and_blocks(void)
{
    fake_slack *f = fake_slack_start("xoxb-1", channels, HOOK);
    bl_state_store *st = bl_state_store_new(NULL);
    bl_connect *c = f ? slack_connect(f, st, "webhook", "", HOOK) : NULL;
    REQUIRE(c);
    char msg[600];
    CHECK_EQ_INT(post(c, "e1", "risk.escalated", "Late", msg, sizeof msg).kind, BL_OUTCOME_DONE);
    REQUIRE(fake_slack_message_count(f) == 1);
    json_t *m = fake_slack_message(f, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(m, "body"), "text")), "*risk.escalated*: Late");
    json_decref(m);
    bl_connect_free(c);
    /* A hook that was removed: Slack answers 404 no_service. */
    c = slack_connect(f, st, "webhook", "", "/services/T000/B000/GONE");
    REQUIRE(c);
    bl_outcome o = post(c, "e2", "risk.escalated", "Late", msg, sizeof msg);
    CHECK_EQ_INT(o.kind, BL_OUTCOME_DEAD_LETTER);
    CHECK(strstr(msg, "no_service") != NULL);
    bl_connect_free(c);
    bl_state_store_free(st);
    fake_slack_stop(f);
}

int main(void)
{
    BL_RUN(slack_messages_are_routed_per_event_type_with_blocks_and_a_button);
    BL_RUN(slack_ok_false_bodies_are_classified);
    BL_RUN(slack_incoming_webhook_posts_text_and_blocks);
    return bl_test_summary();
}
