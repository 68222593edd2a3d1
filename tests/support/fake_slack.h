/* A fake Slack on 127.0.0.1 for connector tests: the Web API's
 * chat.postMessage (POST /api/chat.postMessage, Bearer token, JSON body)
 * answering HTTP 200 {"ok":true,"channel","ts","message"} or
 * {"ok":false,"error":"channel_not_found" | "not_authed" | "invalid_auth" |
 * "no_text" | "invalid_blocks"}, HTTP 429 {"ok":false,"error":"ratelimited"}
 * with Retry-After; and incoming webhooks (POST /services/T/B/X) answering
 * "ok", or 400 "invalid_payload" / 404 "no_service" / 404
 * "channel_not_found". Block Kit is checked against Slack's limits
 * (section text or fields, at most 10 fields of 2000 chars, mrkdwn or
 * plain_text objects, buttons with plain_text text and a url). */
#ifndef BUSLINE_TEST_FAKE_SLACK_H
#define BUSLINE_TEST_FAKE_SLACK_H

#include <jansson.h>
#include <stddef.h>

typedef struct fake_slack fake_slack;

/* bot_token: the accepted token; channels: NULL-terminated names that
 * exist ("#risks"); webhook_path: the one valid hook path
 * ("/services/T000/B000/XXXX"). Returns NULL after printing why. */
fake_slack *fake_slack_start(const char *bot_token, const char *const *channels, const char *webhook_path);
void fake_slack_stop(fake_slack *f);

/* "http://127.0.0.1:<port>" (borrowed). */
const char *fake_slack_url(const fake_slack *f);

/* The next n Web API calls get HTTP 429 ratelimited with Retry-After. */
void fake_slack_rate_limit(fake_slack *f, int n, int retry_after_s);

/* Messages accepted so far and a copy of message i:
 * {"channel", "body": the request body} (json_decref it). */
size_t fake_slack_message_count(fake_slack *f);
json_t *fake_slack_message(fake_slack *f, size_t i);

/* users.lookupByEmail (GET /api/users.lookupByEmail?email=, Bearer) knows
 * email as user_id ("U012AB3CD"); others answer users_not_found. */
void fake_slack_add_user(fake_slack *f, const char *email, const char *user_id);

/* Block Kit check; NULL when blocks is valid, else a static reason. */
const char *fake_slack_blocks_problem(const json_t *blocks);

#endif
