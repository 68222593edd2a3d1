#include "tests/support/fake_slack.h"

#include "core/http_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_slack {
    bl_http_server *server;
    char url[64];
    char token[256];
    char webhook_path[256];
    json_t *channels;
    json_t *messages;
    json_t *users; /* e-mail -> Slack user id */
    pthread_mutex_t lock;
    int rate_limit, retry_after_s;
    unsigned long ts;
};

static const char *text_object_problem(const json_t *t, size_t max, int plain_only)
{
    const char *type = json_string_value(json_object_get(t, "type"));
    const char *text = json_string_value(json_object_get(t, "text"));
    if (!type || (strcmp(type, "plain_text") != 0 && (plain_only || strcmp(type, "mrkdwn") != 0)))
        return plain_only ? "text object must be plain_text" : "text object type must be mrkdwn or plain_text";
    if (!text || !*text || strlen(text) > max)
        return "text object text must be 1..max characters";
    return NULL;
}

const char *fake_slack_blocks_problem(const json_t *blocks)
{
    if (!json_is_array(blocks) || json_array_size(blocks) > 50)
        return "blocks must be an array of at most 50";
    size_t i, k;
    json_t *b, *e;
    json_array_foreach(blocks, i, b) {
        const char *type = json_string_value(json_object_get(b, "type"));
        if (!type)
            return "block without type";
        if (strcmp(type, "section") == 0) {
            const json_t *text = json_object_get(b, "text"), *fields = json_object_get(b, "fields");
            if (!text && !fields)
                return "section needs text or fields";
            const char *p;
            if (text && (p = text_object_problem(text, 3000, 0)))
                return p;
            if (fields && (!json_is_array(fields) || json_array_size(fields) > 10))
                return "section fields: at most 10";
            json_array_foreach(fields, k, e)
                if ((p = text_object_problem(e, 2000, 0)))
                    return p;
        } else if (strcmp(type, "actions") == 0) {
            const json_t *els = json_object_get(b, "elements");
            if (!json_is_array(els) || json_array_size(els) == 0 || json_array_size(els) > 25)
                return "actions elements: 1..25";
            json_array_foreach(els, k, e) {
                const char *et = json_string_value(json_object_get(e, "type"));
                if (!et || strcmp(et, "button") != 0)
                    return "only buttons expected in actions";
                const char *p = text_object_problem(json_object_get(e, "text"), 75, 1);
                if (p)
                    return p;
                const char *url = json_string_value(json_object_get(e, "url"));
                if (url && (strlen(url) > 3000 || strncmp(url, "http", 4) != 0))
                    return "button url invalid";
            }
        } else if (strcmp(type, "divider") != 0 && strcmp(type, "header") != 0 && strcmp(type, "context") != 0) {
            return "unknown block type";
        }
    }
    return NULL;
}

static int slack_answer(bl_http_response *resp, int status, json_t *body)
{
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

static int slack_fail(bl_http_response *resp, const char *error)
{
    return slack_answer(resp, 200, json_pack("{s:b, s:s}", "ok", 0, "error", error));
}

static int on_post_message(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_slack *f = ctx;
    pthread_mutex_lock(&f->lock);
    int limited = f->rate_limit > 0;
    if (limited)
        f->rate_limit--;
    int retry = f->retry_after_s;
    pthread_mutex_unlock(&f->lock);
    if (limited) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry);
        bl_http_response_header(resp, "Retry-After", v);
        return slack_answer(resp, 429, json_pack("{s:b, s:s}", "ok", 0, "error", "ratelimited"));
    }
    const char *auth = bl_http_request_header(req, "Authorization");
    if (!auth)
        return slack_fail(resp, "not_authed");
    if (strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, f->token) != 0)
        return slack_fail(resp, "invalid_auth");
    const char *ct = bl_http_request_header(req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        return slack_fail(resp, "invalid_form_data");
    json_t *body = bl_http_request_json(req, NULL);
    if (!body)
        return slack_fail(resp, "invalid_json");
    const char *channel = json_string_value(json_object_get(body, "channel"));
    const json_t *blocks = json_object_get(body, "blocks");
    const char *text = json_string_value(json_object_get(body, "text"));
    const char *error = NULL;
    int known = 0;
    size_t i;
    json_t *c;
    json_array_foreach(f->channels, i, c)
        known |= channel && strcmp(json_string_value(c), channel) == 0;
    if (!channel || !known)
        error = "channel_not_found";
    else if ((!text || !*text) && !blocks)
        error = "no_text";
    else if (blocks && fake_slack_blocks_problem(blocks))
        error = "invalid_blocks";
    if (error) {
        json_decref(body);
        return slack_fail(resp, error);
    }
    pthread_mutex_lock(&f->lock);
    char ts[40];
    snprintf(ts, sizeof ts, "1700000000.%06lu", ++f->ts);
    json_array_append_new(f->messages, json_pack("{s:s, s:O}", "channel", channel, "body", body));
    pthread_mutex_unlock(&f->lock);
    json_t *out = json_pack("{s:b, s:s, s:s, s:{s:s, s:O}}", "ok", 1, "channel", "C0123456789", "ts", ts, "message",
                            "type", "message", "text", json_object_get(body, "text"));
    json_decref(body);
    return slack_answer(resp, 200, out);
}

/* GET users.lookupByEmail?email=: {"ok":true,"user":{"id",...}} or
 * {"ok":false,"error":"users_not_found"}. */
static int on_lookup_by_email(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_slack *f = ctx;
    const char *auth = bl_http_request_header(req, "Authorization");
    if (!auth)
        return slack_fail(resp, "not_authed");
    if (strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, f->token) != 0)
        return slack_fail(resp, "invalid_auth");
    const char *email = bl_http_request_query(req, "email");
    if (!email || !*email)
        return slack_fail(resp, "invalid_arguments");
    pthread_mutex_lock(&f->lock);
    const char *id = json_string_value(json_object_get(f->users, email));
    json_t *out = id ? json_pack("{s:b, s:{s:s, s:s, s:{s:s}}}", "ok", 1, "user", "id", id, "name", email, "profile",
                                 "email", email)
                     : NULL;
    pthread_mutex_unlock(&f->lock);
    return out ? slack_answer(resp, 200, out) : slack_fail(resp, "users_not_found");
}

void fake_slack_add_user(fake_slack *f, const char *email, const char *user_id)
{
    pthread_mutex_lock(&f->lock);
    json_object_set_new(f->users, email, json_string(user_id));
    pthread_mutex_unlock(&f->lock);
}

static int on_webhook(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_slack *f = ctx;
    if (strcmp(bl_http_request_path(req), f->webhook_path) != 0) {
        bl_http_response_status(resp, 404);
        return bl_http_response_body_copy(resp, "no_service", 10, "text/html");
    }
    const char *ct = bl_http_request_header(req, "Content-Type");
    json_t *body = bl_http_request_json(req, NULL);
    const char *text = json_string_value(json_object_get(body, "text"));
    const json_t *blocks = json_object_get(body, "blocks");
    if (!ct || strncmp(ct, "application/json", 16) != 0 || !body || ((!text || !*text) && !blocks) ||
        (blocks && fake_slack_blocks_problem(blocks))) {
        json_decref(body);
        bl_http_response_status(resp, 400);
        return bl_http_response_body_copy(resp, "invalid_payload", 15, "text/html");
    }
    pthread_mutex_lock(&f->lock);
    json_array_append_new(f->messages, json_pack("{s:s, s:O}", "channel", "(webhook)", "body", body));
    pthread_mutex_unlock(&f->lock);
    json_decref(body);
    return bl_http_response_body_copy(resp, "ok", 2, "text/html");
}

fake_slack *fake_slack_start(const char *bot_token, const char *const *channels, const char *webhook_path)
{
    fake_slack *f = calloc(1, sizeof *f);
    bl_err err = {0};
    pthread_mutex_init(&f->lock, NULL);
    f->channels = json_array();
    f->messages = json_array();
    f->users = json_object();
    for (size_t i = 0; channels && channels[i]; i++)
        json_array_append_new(f->channels, json_string(channels[i]));
    snprintf(f->token, sizeof f->token, "%s", bot_token);
    snprintf(f->webhook_path, sizeof f->webhook_path, "%s", webhook_path);
    bl_http_server_config cfg = {.drain_timeout_ms = 1000};
    f->server = bl_http_server_new(&cfg, &err);
    if (!f->server || bl_http_server_route(f->server, "POST", "/api/chat.postMessage", on_post_message, f, &err) != 0 ||
        bl_http_server_route(f->server, "POST", "/services/:t/:b/:x", on_webhook, f, &err) != 0 ||
        bl_http_server_route(f->server, "GET", "/api/users.lookupByEmail", on_lookup_by_email, f, &err) != 0 ||
        bl_http_server_start(f->server, &err) != 0) {
        fprintf(stderr, "fake slack: %s\n", err.msg);
        fake_slack_stop(f);
        return NULL;
    }
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", bl_http_server_port(f->server));
    return f;
}

void fake_slack_stop(fake_slack *f)
{
    if (!f)
        return;
    bl_http_server_free(f->server);
    json_decref(f->channels);
    json_decref(f->messages);
    json_decref(f->users);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

const char *fake_slack_url(const fake_slack *f)
{
    return f->url;
}

void fake_slack_rate_limit(fake_slack *f, int n, int retry_after_s)
{
    pthread_mutex_lock(&f->lock);
    f->rate_limit = n;
    f->retry_after_s = retry_after_s;
    pthread_mutex_unlock(&f->lock);
}

size_t fake_slack_message_count(fake_slack *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = json_array_size(f->messages);
    pthread_mutex_unlock(&f->lock);
    return n;
}

json_t *fake_slack_message(fake_slack *f, size_t i)
{
    pthread_mutex_lock(&f->lock);
    json_t *m = json_array_get(f->messages, i);
    json_t *copy = m ? json_deep_copy(m) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}
