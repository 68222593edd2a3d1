/* Slack notices of Attendance-X (notices.h). */
#include "connectors/slack/notices.h"

#include "connectors/calendar_sync/provider_http.h"
#include "connectors/slack/message_templates.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_API_BASE "https://slack.com/api"
#define SLACK_URL_MAX 2048
#define MENTIONS_MAX 20

/* A notice type: the event that fills it and where it goes. */
typedef struct notice {
    const char *event_type, *template_name, *channel_key, *notification, *notification_type, *default_text;
} notice;

static const notice notices[] = {
    {"event.reminder_due", "eventReminder", "default", "eventReminders", "event_reminders",
     "\xF0\x9F\x93\x85 Rappel: {eventName} commence dans {timeUntil}"},
    {"attendance.updated", "attendanceAlert", "alerts", "attendanceAlerts", "attendance_alerts",
     "\xE2\x9A\xA0\xEF\xB8\x8F Faible taux de pr\xC3\xA9sence pour {eventName}: {attendanceRate}%"},
};

static bool flag(const json_t *obj, const char *key, bool def)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

static bool notice_on(const json_t *settings, const notice *n)
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

static const char *channel_of(const json_t *settings, const notice *n)
{
    const json_t *channels = json_object_get(settings, "channels");
    const char *c = json_string_value(json_object_get(channels, n->channel_key));
    if (!c)
        c = json_string_value(json_object_get(channels, "default"));
    return c ? c : json_string_value(json_object_get(settings, "defaultChannel"));
}

/* Slack's 429 and 5xx are worth another try. */
static int classify(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    snprintf(msg, cap, "%.*s", (int)(r->body_len < 120 ? r->body_len : 120), r->body ? r->body : "");
    *again = r->status == 429 || r->status >= 500;
    return bl_calsync_status_code(r->status, r->status == 429, false);
}

/* A Web API call; Slack's {"ok": false, "error"} becomes err. Returns the
 * answer (new) or NULL with err. */
static json_t *slack_call(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
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

/* Appends " <@U…>" for email to text when Slack knows it. */
static void mention(const bl_calsync_http *h, const char *email, char *text, size_t cap)
{
    char url[SLACK_URL_MAX], enc[700];
    if (!email || bl_calsync_url_escape(email, enc, sizeof enc) != 0)
        return;
    snprintf(url, sizeof url, "%s/users.lookupByEmail?email=%s", h->base, enc);
    bl_err why = {0};
    json_t *a = slack_call(h, "GET", url, NULL, &why);
    const char *id = json_string_value(json_object_get(json_object_get(a, "user"), "id"));
    size_t n = strlen(text);
    char tag[64];
    snprintf(tag, sizeof tag, "<@%s>", id ? id : "");
    if (id && !strstr(text, tag))
        snprintf(text + n, cap - n, " %s", tag);
    else if (!id)
        bl_log_info("slack notices: no Slack user for a mention", BL_FS("error", why.msg));
    json_decref(a);
}

/* The mentions of userMentions for the event into text. */
static void add_mentions(PGconn *conn, const bl_calsync_http *h, const json_t *settings,
                         const char *org, const char *event_id, char *text, size_t cap)
{
    const json_t *m = json_object_get(settings, "userMentions");
    if (!flag(m, "enabled", false))
        return;
    const char *p[] = {org, event_id, flag(m, "mentionOrganizers", false) ? "t" : "f",
                       flag(m, "mentionManagers", false) ? "t" : "f"};
    bl_err err = {0};
    PGresult *r = bl_pg_exec(conn,
        "SELECT email FROM (SELECT 0 AS k, organizer->>'email' AS email FROM attendance_events"
        "   WHERE $3::boolean AND organization_id = $1 AND event_id = $2"
        " UNION ALL SELECT 1, email FROM api_users WHERE $4::boolean AND organization_id::text = $1"
        "   AND role = 'manager' AND active) u WHERE email IS NOT NULL ORDER BY k, email LIMIT 20",
        4, p, &err);
    for (int i = 0; r && i < PQntuples(r) && i < MENTIONS_MAX; i++)
        mention(h, PQgetvalue(r, i, 0), text, cap);
    if (!r)
        bl_log_warn("slack notices: mentions not read", BL_FS("error", err.msg));
    PQclear(r);
}

/* Whether the alert of attendance.updated is due: rate below the mark and
 * the event over. 1, 0, or -1 with err. */
static int alert_due(PGconn *conn, const char *org, const json_t *data, bl_err *err)
{
    if (json_number_value(json_object_get(data, "attendance_rate")) >= BL_SLACK_ALERT_RATE)
        return 0;
    const char *p[] = {org, json_string_value(json_object_get(data, "event_id"))};
    PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM attendance_events WHERE organization_id = $1 AND event_id = $2"
                                   " AND ends_at <= now()", 2, p, err);
    int due = r ? PQntuples(r) == 1 : -1;
    PQclear(r);
    return due;
}

static int post_one(const bl_slack_notices *s, PGconn *conn, const char *integration_id, const json_t *settings,
                    const notice *n, const json_t *event, const char *notice_id, bl_err *err)
{
    const char *org = json_string_value(json_object_get(event, "organization_id"));
    const char *event_id = json_string_value(json_object_get(json_object_get(event, "data"), "event_id"));
    const char *channel = channel_of(settings, n);
    if (!notice_on(settings, n) || !channel)
        return 0;
    const char *p[] = {integration_id, notice_id};
    PGresult *r = bl_pg_exec(conn, "SELECT 1 FROM slack_notices WHERE integration_id::text = $1 AND message_id = $2",
                             2, p, err);
    if (!r)
        return -1;
    int seen = PQntuples(r);
    PQclear(r);
    if (seen)
        return 0;
    const char *tmpl = json_string_value(json_object_get(json_object_get(settings, "messageTemplates"),
                                                         n->template_name));
    bl_err why = {0};
    char *rendered = bl_slack_template_render(n->template_name, tmpl ? tmpl : n->default_text, event, &why);
    if (!rendered) {
        bl_log_warn("slack notices: template not rendered", BL_FS("integration_id", integration_id),
                    BL_FS("template", n->template_name), BL_FS("error", why.msg));
        return 0;
    }
    bl_calsync_http h;
    bl_calsync_http_init(&h, s->store, integration_id, "slack", s->base_url, SLACK_API_BASE, s->max_wait_ms,
                         classify);
    char text[4000];
    snprintf(text, sizeof text, "%s", rendered);
    free(rendered);
    add_mentions(conn, &h, settings, org, event_id, text, sizeof text);
    char url[SLACK_URL_MAX];
    snprintf(url, sizeof url, "%s/chat.postMessage", h.base);
    json_t *body = json_pack("{s:s, s:s}", "channel", channel, "text", text);
    json_t *a = body ? slack_call(&h, "POST", url, body, &why) : NULL;
    json_decref(body);
    if (!a) {
        bl_log_warn("slack notices: chat.postMessage refused", BL_FS("integration_id", integration_id),
                    BL_FS("channel", channel), BL_FS("error", why.msg));
        return 0;
    }
    const char *ts = json_string_value(json_object_get(a, "ts"));
    const char *ip[] = {integration_id, notice_id, n->template_name, channel, ts};
    int rc = bl_pg_exec_cmd(conn, "INSERT INTO slack_notices (integration_id, message_id, template, channel,"
                                  " status, ts) VALUES ($1::uuid, $2, $3, $4, 'posted', $5) ON CONFLICT DO NOTHING",
                            5, ip, err);
    json_decref(a);
    return rc;
}

int bl_slack_notices_on_event(void *arg, const json_t *event, bl_err *err)
{
    const bl_slack_notices *s = arg;
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *org = json_string_value(json_object_get(event, "organization_id"));
    const json_t *data = json_object_get(event, "data");
    const notice *n = NULL;
    for (size_t i = 0; type && i < sizeof notices / sizeof notices[0]; i++)
        if (strcmp(notices[i].event_type, type) == 0)
            n = &notices[i];
    if (!n || !org || !json_is_string(json_object_get(data, "event_id")))
        return 0;
    PGconn *conn = bl_pg_pool_acquire(s->pool, 10000, err);
    if (!conn)
        return -1;
    char notice_id[600];
    int due = 1;
    if (strcmp(n->template_name, "attendanceAlert") == 0) {
        due = alert_due(conn, org, data, err);
        snprintf(notice_id, sizeof notice_id, "attendanceAlert/%s", json_string_value(json_object_get(data, "event_id")));
    } else {
        const char *id = json_string_value(json_object_get(event, "id"));
        snprintf(notice_id, sizeof notice_id, "%s", id ? id : "");
    }
    const char *p[] = {org};
    /* the rate as people read it: 33, not 33.333333333333336 */
    json_t *shown = json_deep_copy(event);
    json_t *rate = json_object_get(json_object_get(shown, "data"), "attendance_rate");
    if (json_is_number(rate))
        json_object_set_new(json_object_get(shown, "data"), "attendance_rate",
                            json_integer((json_int_t)(json_number_value(rate) + 0.5)));
    PGresult *r = due == 1 ? bl_pg_exec(conn, "SELECT id::text, settings::text FROM integrations WHERE"
                                              " organization_id::text = $1 AND provider = 'slack' AND"
                                              " status = 'connected' ORDER BY id", 1, p, err)
                           : NULL;
    int rc = due < 0 || (due == 1 && !r) ? -1 : 0;
    for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
        json_t *settings = json_loads(PQgetvalue(r, i, 1), 0, NULL);
        rc = post_one(s, conn, PQgetvalue(r, i, 0), settings, n, shown, notice_id, err);
        json_decref(settings);
    }
    PQclear(r);
    json_decref(shown);
    bl_pg_pool_release(s->pool, conn);
    return rc;
}
