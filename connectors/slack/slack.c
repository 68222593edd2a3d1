/* The Slack connector: posts a Block Kit message per event, either to an
 * incoming webhook (POST to the hook URL; the answer is the text "ok" or
 * an error word such as "invalid_payload", "channel_not_found") or with
 * chat.postMessage (POST {base_url}/chat.postMessage, Bearer bot token;
 * HTTP 200 with {"ok":false,"error":"..."} on failure, HTTP 429 with
 * Retry-After when rate limited).
 *
 * Settings: {"mode": "api"|"webhook", "base_url": "https://slack.com/api",
 *            "channels": [{"event": "risk.*", "channel": "#risks"},
 *                         {"event": "*", "channel": "C0123"}]}
 * Credentials: bot_token (api; else the host's OAuth token) or webhook_url.
 * Template fields: text (mrkdwn, required), fields (one section field per
 * line), button_url and button_text (an actions block with a link button),
 * channel (overrides the routing). */
#include "connectors/slack/slack.h"

#include "connectors/vendor_http.h"
#include "consumers/event_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_URL_MAX 1024
#define SLACK_SECTION_FIELDS_MAX 10 /* Block Kit's limit per section */
#define SLACK_FIELD_TEXT_MAX 2000
#define SLACK_TEXT_MAX 3000

typedef struct slack {
    const bl_connector_host *host;
    int webhook;
    char base_url[512];
    json_t *channels; /* [{"event","channel"}] */
} slack;

static const char *const slack_actions[] = {"post_message", NULL};

static const bl_connector_field slack_fields[] = {
    {"text", BL_CONNECTOR_ESCAPE_MRKDWN, 1, NULL},
    {"fields", BL_CONNECTOR_ESCAPE_MRKDWN, 0, NULL},
    {"button_url", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"button_text", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"channel", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {NULL, 0, 0, NULL},
};

static int slack_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                      size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    slack *k = calloc(1, sizeof *k);
    if (!k || !json_is_object(s)) {
        snprintf(err, err_len, "slack: settings: %s", k ? jerr.text : "out of memory");
        goto fail;
    }
    k->host = host;
    const char *mode = json_string_value(json_object_get(s, "mode"));
    k->webhook = mode && strcmp(mode, "webhook") == 0;
    if (mode && !k->webhook && strcmp(mode, "api") != 0) {
        snprintf(err, err_len, "slack: settings.mode: \"api\" or \"webhook\"");
        goto fail;
    }
    const char *base = json_string_value(json_object_get(s, "base_url"));
    snprintf(k->base_url, sizeof k->base_url, "%s", base ? base : "https://slack.com/api");
    size_t bl = strlen(k->base_url);
    while (bl > 0 && k->base_url[bl - 1] == '/')
        k->base_url[--bl] = '\0';
    if (k->webhook && !host->secret(host->ctx, "webhook_url")) {
        snprintf(err, err_len, "slack: webhook mode needs the credential webhook_url");
        goto fail;
    }
    const json_t *channels = json_object_get(s, "channels");
    if (channels && !json_is_array(channels)) {
        snprintf(err, err_len, "slack: settings.channels: an array of {event, channel} is required");
        goto fail;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(channels, i, c) {
        const char *ev = json_string_value(json_object_get(c, "event"));
        const char *ch = json_string_value(json_object_get(c, "channel"));
        bl_err e = {0};
        if (!ev || !ch || !*ch || bl_event_type_pattern_check(ev, &e) != 0) {
            snprintf(err, err_len, "slack: settings.channels[%zu]: an event pattern and a channel are required%s%s",
                     i, e.msg[0] ? ": " : "", e.msg);
            goto fail;
        }
    }
    k->channels = channels ? json_incref((json_t *)channels) : json_array();
    json_decref(s);
    *instance = k;
    return 0;
fail:
    json_decref(s);
    free(k);
    return -1;
}

static void slack_shutdown(void *instance)
{
    slack *k = instance;
    if (!k)
        return;
    json_decref(k->channels);
    free(k);
}

static const char *route_channel(const slack *k, const bl_connector_event *ev)
{
    const char *over = bl_connector_event_field(ev, "channel");
    if (over && *over)
        return over;
    size_t i;
    const json_t *c;
    json_array_foreach(k->channels, i, c)
        if (bl_event_type_matches(json_string_value(json_object_get(c, "event")), ev->type))
            return json_string_value(json_object_get(c, "channel"));
    return NULL;
}

/* Block Kit: a section with the text and up to ten fields, then an actions
 * block with a link button when a URL is set. */
static json_t *message_blocks(const bl_connector_event *ev, const char *text)
{
    json_t *section = json_pack("{s:s, s:{s:s, s:s%}}", "type", "section", "text", "type", "mrkdwn", "text", text,
                                strlen(text) < SLACK_TEXT_MAX ? strlen(text) : (size_t)SLACK_TEXT_MAX);
    const char *fields = bl_connector_event_field(ev, "fields");
    if (fields && *fields) {
        json_t *arr = json_array();
        const char *p = fields;
        while (*p && json_array_size(arr) < SLACK_SECTION_FIELDS_MAX) {
            size_t n = strcspn(p, "\n");
            if (n > 0)
                json_array_append_new(arr, json_pack("{s:s, s:s%}", "type", "mrkdwn", "text", p,
                                                     n < SLACK_FIELD_TEXT_MAX ? n : (size_t)SLACK_FIELD_TEXT_MAX));
            p += n + (p[n] == '\n');
        }
        json_object_set_new(section, "fields", arr);
    }
    json_t *blocks = json_pack("[o]", section);
    const char *url = bl_connector_event_field(ev, "button_url");
    if (url && *url) {
        const char *label = bl_connector_event_field(ev, "button_text");
        json_t *button = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "type", "button", "text", "type", "plain_text",
                                   "text", label && *label ? label : "Open", "url", url, "action_id",
                                   "busline_open");
        json_array_append_new(blocks, json_pack("{s:s, s:[o]}", "type", "actions", "elements", button));
    }
    return blocks;
}

/* Slack error words that mean the token is no good any more. */
static int auth_error(const char *e)
{
    static const char *const words[] = {"invalid_auth", "not_authed", "token_expired", "token_revoked",
                                        "account_inactive", NULL};
    for (size_t i = 0; words[i]; i++)
        if (strcmp(e, words[i]) == 0)
            return 1;
    return 0;
}

/* Slack's own transient failures. */
static int transient_error(const char *e)
{
    static const char *const words[] = {"ratelimited", "rate_limited", "internal_error", "fatal_error",
                                        "service_unavailable", "request_timeout", "rollup_error", NULL};
    for (size_t i = 0; words[i]; i++)
        if (strcmp(e, words[i]) == 0)
            return 1;
    return 0;
}

/* Classifies a Slack error word (from ok:false or a webhook's text). */
static void slack_error(const char *what, const char *word, const bl_connector_http_response *resp, int64_t now,
                        bl_connector_result *r)
{
    if (auth_error(word)) {
        bl_vendor_result(r, BL_CONNECTOR_AUTH_EXPIRED, "%s: %s", what, word);
    } else if (transient_error(word)) {
        r->retry_after_ms = -1;
        bl_connector_result tmp = {0};
        /* Reuse the Retry-After parsing of a 429. */
        bl_connector_http_response fake = *resp;
        fake.status = 429;
        (void)bl_vendor_classify(0, &fake, what, word, now, &tmp);
        r->retry_after_ms = tmp.retry_after_ms;
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "%s: %s", what, word);
    } else {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: %s", what, word);
    }
}

static void post_webhook(const slack *k, const bl_connector_event *ev, json_t *body, bl_connector_result *r)
{
    bl_connector_http_response resp;
    int rc = bl_vendor_json_call(k->host, "POST", k->host->secret(k->host->ctx, "webhook_url"), NULL, 0, body, &resp);
    int64_t now = k->host->now_ms(k->host->ctx);
    (void)ev;
    if (rc == 0 && resp.status >= 200 && resp.status < 300) {
        bl_vendor_result(r, BL_CONNECTOR_OK, "slack webhook: posted");
    } else if (rc == 0 && resp.status != 429 && resp.status < 500 && resp.body_len > 0 && resp.body_len < 64) {
        /* The answer is one error word; a 404/410 is about the channel, not the URL. */
        slack_error("slack webhook", resp.body, &resp, now, r);
    } else {
        (void)bl_vendor_classify(rc, &resp, "slack webhook", NULL, now, r);
    }
    k->host->http_release(k->host->ctx, &resp);
}

static void post_api(const slack *k, const bl_connector_event *ev, json_t *body, bl_connector_result *r)
{
    const char *channel = route_channel(k, ev);
    if (!channel) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "slack: no channel routes event type %s", ev->type);
        return;
    }
    json_object_set_new(body, "channel", json_string(channel));
    char token[4096], auth[4200], url[SLACK_URL_MAX];
    const char *bot = k->host->secret(k->host->ctx, "bot_token");
    if (bot && strlen(bot) < sizeof token)
        snprintf(token, sizeof token, "%s", bot);
    else if (k->host->auth_token(k->host->ctx, token, sizeof token) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_AUTH_EXPIRED, "slack: no bot token");
        return;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    snprintf(url, sizeof url, "%s/chat.postMessage", k->base_url);
    const char *headers[] = {auth};
    bl_connector_http_response resp;
    int rc = bl_vendor_json_call(k->host, "POST", url, headers, 1, body, &resp);
    int64_t now = k->host->now_ms(k->host->ctx);
    json_t *answer = rc == 0 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    if (bl_vendor_classify(rc, &resp, "slack chat.postMessage", json_string_value(json_object_get(answer, "error")),
                           now, r)) {
        const json_t *ok = json_object_get(answer, "ok");
        if (json_is_true(ok)) {
            snprintf(r->external_id, sizeof r->external_id, "%s",
                     json_string_value(json_object_get(answer, "ts")) ? json_string_value(json_object_get(answer, "ts"))
                                                                     : "");
            bl_vendor_result(r, BL_CONNECTOR_OK, "slack: posted to %s", channel);
        } else {
            const char *word = json_string_value(json_object_get(answer, "error"));
            slack_error("slack chat.postMessage", word ? word : "unknown_error", &resp, now, r);
        }
    } else if (rc == 0 && resp.status == 429 && r->retry_after_ms < 0) {
        r->retry_after_ms = 1000; /* Slack always sends Retry-After; be safe when it did not */
    }
    json_decref(answer);
    k->host->http_release(k->host->ctx, &resp);
}

static void slack_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const slack *k = instance;
    const char *text = bl_connector_event_field(ev, "text");
    if (!text || !*text) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "slack: the text rendered empty");
        return;
    }
    json_t *body = json_pack("{s:s, s:o}", "text", text, "blocks", message_blocks(ev, text));
    if (!body) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "slack: cannot build the message (not UTF-8?)");
        return;
    }
    if (k->webhook)
        post_webhook(k, ev, body, r);
    else
        post_api(k, ev, body, r);
    json_decref(body);
}

static const bl_connector_table slack_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = "slack",
    .version = "1.0.0",
    .actions = slack_actions,
    .fields = slack_fields,
    .init = slack_init,
    .handle = slack_handle,
    .health = NULL,
    .shutdown = slack_shutdown,
};

const bl_connector_table *bl_slack_connector(void)
{
    return &slack_table;
}
