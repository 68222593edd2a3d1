/* How a Slack notice is sent and recorded (notices_internal.h). */
#include "connectors/slack/incoming_webhook.h"
#include "connectors/slack/notices_internal.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_URL_MAX 2048
#define SECTION_TEXT_MAX 3000 /* Block Kit's limit of a section's text */

static bool flag(const json_t *obj, const char *key, bool def)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

void bl_slack_dest_init(bl_slack_dest *d, const char *integration_id, const json_t *settings, bool no_token)
{
    const char *hook = json_string_value(json_object_get(settings, "webhookUrl"));
    *d = (bl_slack_dest){.integration_id = integration_id, .settings = settings,
                         .webhook_url = no_token && hook && *hook ? hook : NULL};
}

bool bl_slack_notice_on(const json_t *settings, const bl_slack_notice_kind *n)
{
    if (!flag(json_object_get(settings, "notifications"), n->notification, true))
        return false;
    const json_t *types = json_object_get(settings, "notificationTypes");
    if (!json_is_array(types))
        return true;
    size_t i;
    const json_t *t;
    json_array_foreach(types, i, t)
        if (json_is_string(t) && strcmp(json_string_value(t), n->notification_type) == 0)
            return true;
    return false;
}

const char *bl_slack_notice_channel(const json_t *settings, const bl_slack_notice_kind *n)
{
    const json_t *channels = json_object_get(settings, "channels");
    const char *c = json_string_value(json_object_get(channels, n->channel_key));
    if (!c)
        c = json_string_value(json_object_get(channels, "default"));
    return c ? c : json_string_value(json_object_get(settings, "defaultChannel"));
}

const char *bl_slack_notice_template(const json_t *settings, const bl_slack_notice_kind *n)
{
    const char *t = json_string_value(json_object_get(json_object_get(settings, "messageTemplates"),
                                                      n->template_name));
    return t ? t : n->default_text;
}

/* Slack's 429 and 5xx are worth another try. */
static int classify(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    snprintf(msg, cap, "%.*s", (int)(r->body_len < 120 ? r->body_len : 120), r->body ? r->body : "");
    *again = r->status == 429 || r->status >= 500;
    return bl_calsync_status_code(r->status, r->status == 429, false);
}

void bl_slack_api_init(bl_calsync_http *h, const bl_slack_notices *s, const char *integration_id)
{
    bl_calsync_http_init(h, s->store, integration_id, "slack", s->base_url, BL_SLACK_API_BASE, s->max_wait_ms,
                         classify);
}

json_t *bl_slack_api_call(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                          bl_err *err)
{
    json_t *a = bl_calsync_http_call(h, method, url, body, err);
    if (a && !json_is_true(json_object_get(a, "ok"))) {
        const char *e = json_string_value(json_object_get(a, "error"));
        bl_err_set(err, BL_OAUTH_E_SYNC, "slack: %s", e ? e : "unknown_error");
        json_decref(a);
        return NULL;
    }
    return a;
}

int bl_slack_notice_seen(PGconn *conn, const char *integration_id, const char *notice_id, bl_err *err)
{
    const char *p[] = {integration_id, notice_id};
    PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM slack_notices WHERE integration_id::text = $1 AND message_id = $2",
                             2, p, err);
    if (!r)
        return -1;
    int seen = PQntuples(r) > 0;
    PQclear(r);
    return seen;
}

/* Posts body to the hook of d. 0, or -1 with why. */
static int post_hook(const bl_slack_notices *s, const bl_slack_dest *d, const json_t *body, bl_err *why)
{
    char *text = json_dumps(body, JSON_COMPACT);
    int rc = text ? bl_slack_webhook_post(d->webhook_url, s->allow, text, strlen(text), s->max_wait_ms, NULL, why)
                  : bl_err_set(why, BL_ENOMEM, "slack: out of memory");
    free(text);
    return rc;
}

int bl_slack_notice_send(const bl_slack_notices *s, PGconn *conn, const bl_slack_dest *d,
                         const bl_slack_notice_kind *n, const char *channel, const char *notice_id, const char *text,
                         bool *posted, bl_err *err)
{
    if (posted)
        *posted = false;
    size_t len = strlen(text);
    json_t *body = json_pack("{s:s, s:[{s:s, s:{s:s, s:s%}}]}", "text", text, "blocks", "type", "section", "text",
                             "type", "mrkdwn", "text", text, len < SECTION_TEXT_MAX ? len : (size_t)SECTION_TEXT_MAX);
    bl_err why = {0};
    json_t *answer = NULL;
    int sent = -1;
    if (!body) {
        bl_err_set(&why, BL_EINVAL, "slack: the message is not UTF-8");
    } else if (d->webhook_url) {
        channel = "(webhook)";
        sent = post_hook(s, d, body, &why);
    } else {
        bl_calsync_http h;
        bl_slack_api_init(&h, s, d->integration_id);
        char url[SLACK_URL_MAX];
        snprintf(url, sizeof url, "%s/chat.postMessage", h.base);
        json_object_set_new(body, "channel", json_string(channel));
        answer = bl_slack_api_call(&h, "POST", url, body, &why);
        sent = answer ? 0 : -1;
    }
    json_decref(body);
    if (sent != 0) {
        bl_log_warn(d->webhook_url ? "slack notices: incoming webhook refused" : "slack notices: chat.postMessage refused",
                    BL_FS("integration_id", d->integration_id), BL_FS("template", n->template_name),
                    BL_FS("channel", channel), BL_FS("error", why.msg));
        return 0;
    }
    if (posted)
        *posted = true;
    const char *ip[] = {d->integration_id, notice_id, n->template_name, channel,
                        json_string_value(json_object_get(answer, "ts"))};
    int rc = bl_pg_exec_cmd(conn, "INSERT INTO slack_notices (integration_id, message_id, template, channel,"
                                  " status, ts) VALUES ($1::uuid, $2, $3, $4, 'posted', $5) ON CONFLICT DO NOTHING",
                            5, ip, err);
    json_decref(answer);
    return rc;
}
