/* Slack notices of Attendance-X per design document 001's Slack settings,
 * driven by the domain's events, posted with chat.postMessage (Bearer: the
 * integration's bot token from the OAuth store):
 *
 *   event.reminder_due  -> messageTemplates.eventReminder   -> channels.default
 *   attendance.updated  -> messageTemplates.attendanceAlert -> channels.alerts
 *       once per event, when its attendance rate is below 50 % after the
 *       event has ended (attendance taken during the event, or a Zoom report
 *       pulled after it, announces nothing until the count is final)
 *   a weekly timer      -> messageTemplates.weeklyReport    -> channels.reports
 *       (weekly_report.h: the past week's attendance counts)
 *
 * channels.default falls back to defaultChannel; channels.alerts and
 * channels.reports to the default channel. A notice type is off when
 * notifications.eventReminders / attendanceAlerts / weeklyReports is false,
 * or when notificationTypes is given without event_reminders /
 * attendance_alerts / weekly_reports. A template not configured is the
 * document's own text. Templates are rendered with
 * message_templates.h (the placeholders were checked when the settings
 * were saved). userMentions {enabled, mentionOrganizers, mentionManagers}
 * appends "<@U…>" mentions: the event's organizer and the organization's
 * users of role manager, each found by e-mail (users.lookupByEmail; one
 * Slack does not know is left out).
 *
 * An integration with settings.webhookUrl and no bot token (an incoming
 * webhook instead of a bot) gets every notice POSTed to that hook as
 * {text, blocks} (incoming_webhook.h: through the SSRF guard); the hook's
 * own channel is where it lands, and mentions are left out (looking a user
 * up needs the bot token).
 *
 * A redelivered event is not posted twice: slack_notices (migration 140)
 * keeps one row per (integration, notice) once posted; a crash between the
 * post and that row posts it again (Slack has no idempotency key). */
#ifndef BUSLINE_CONNECTORS_SLACK_NOTICES_H
#define BUSLINE_CONNECTORS_SLACK_NOTICES_H

#include "connectors/oauth/oauth.h"
#include "connectors/webhook/policy/ssrf_guard.h"
#include "core/pg_pool.h"

#include <jansson.h>

#define BL_SLACK_ALERT_RATE 50.0 /* percent: below it, attendanceAlert */

typedef struct bl_slack_notices {
    bl_pg_pool *pool;      /* borrowed */
    bl_oauth_store *store; /* borrowed: the integrations' bot tokens */
    const char *base_url;  /* NULL or "": https://slack.com/api */
    int max_wait_ms;       /* longest rate-limit wait; 0 = 30 s */
    const bl_ssrf_allowlist *allow; /* borrowed: private addresses a webhookUrl may reach; NULL: none */
} bl_slack_notices;

/* A bl_attendance_event_fn (connectors/calendar_sync/push.h), arg = a
 * bl_slack_notices: posts the notice of event to every connected Slack
 * integration of its organization. A refusal by Slack is logged. Returns
 * 0, or -1 with err when the database failed. */
int bl_slack_notices_on_event(void *arg, const json_t *event, bl_err *err);

#endif
