/* Slack notices of Attendance-X (notices.h). */
#include "connectors/slack/notices.h"

#include "connectors/slack/message_templates.h"
#include "connectors/slack/notices_internal.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_URL_MAX 2048
#define MENTIONS_MAX 20

static const bl_slack_notice_kind notices[] = {
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

/* Appends " <@U…>" for email to text when Slack knows it. */
static void mention(const bl_calsync_http *h, const char *email, char *text, size_t cap)
{
    char url[SLACK_URL_MAX], enc[700];
    if (!email || bl_calsync_url_escape(email, enc, sizeof enc) != 0)
        return;
    snprintf(url, sizeof url, "%s/users.lookupByEmail?email=%s", h->base, enc);
    bl_err why = {0};
    json_t *a = bl_slack_api_call(h, "GET", url, NULL, &why);
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

static int post_one(const bl_slack_notices *s, PGconn *conn, const bl_slack_dest *d,
                    const bl_slack_notice_kind *n, const json_t *event, const char *notice_id, bl_err *err)
{
    const char *org = json_string_value(json_object_get(event, "organization_id"));
    const char *event_id = json_string_value(json_object_get(json_object_get(event, "data"), "event_id"));
    const char *channel = bl_slack_notice_channel(d->settings, n);
    if (!bl_slack_notice_on(d->settings, n) || (!channel && !d->webhook_url))
        return 0;
    int seen = bl_slack_notice_seen(conn, d->integration_id, notice_id, err);
    if (seen != 0)
        return seen < 0 ? -1 : 0;
    bl_err why = {0};
    char *rendered = bl_slack_template_render(n->template_name, bl_slack_notice_template(d->settings, n), event,
                                              &why);
    if (!rendered) {
        bl_log_warn("slack notices: template not rendered", BL_FS("integration_id", d->integration_id),
                    BL_FS("template", n->template_name), BL_FS("error", why.msg));
        return 0;
    }
    char text[BL_SLACK_TEXT_MAX];
    snprintf(text, sizeof text, "%s", rendered);
    free(rendered);
    if (!d->webhook_url) { /* mentions are looked up with the bot token */
        bl_calsync_http h;
        bl_slack_api_init(&h, s, d->integration_id);
        add_mentions(conn, &h, d->settings, org, event_id, text, sizeof text);
    }
    return bl_slack_notice_send(s, conn, d, n, channel, notice_id, text, NULL, err);
}

int bl_slack_notices_on_event(void *arg, const json_t *event, bl_err *err)
{
    const bl_slack_notices *s = arg;
    const char *type = json_string_value(json_object_get(event, "type"));
    const char *org = json_string_value(json_object_get(event, "organization_id"));
    const json_t *data = json_object_get(event, "data");
    const bl_slack_notice_kind *n = NULL;
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
    PGresult *r = due == 1 ? bl_pg_exec(conn, "SELECT id::text, settings::text,"
                                              " access_token_ciphertext IS NULL FROM integrations WHERE"
                                              " organization_id::text = $1 AND provider = 'slack' AND"
                                              " status = 'connected' ORDER BY id", 1, p, err)
                           : NULL;
    int rc = due < 0 || (due == 1 && !r) ? -1 : 0;
    for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
        json_t *settings = json_loads(PQgetvalue(r, i, 1), 0, NULL);
        bl_slack_dest d;
        bl_slack_dest_init(&d, PQgetvalue(r, i, 0), settings, PQgetvalue(r, i, 2)[0] == 't');
        rc = post_one(s, conn, &d, n, shown, notice_id, err);
        json_decref(settings);
    }
    PQclear(r);
    json_decref(shown);
    bl_pg_pool_release(s->pool, conn);
    return rc;
}
