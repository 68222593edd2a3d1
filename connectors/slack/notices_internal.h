/* What the Slack notices (notices.c) and the weekly report (weekly_report.c)
 * share: the notice kinds and their switches, and the one way a notice is
 * sent -- chat.postMessage with the integration's bot token, or, for an
 * integration with settings.webhookUrl and no bot token, its incoming
 * webhook -- and recorded once in slack_notices. */
#ifndef BUSLINE_CONNECTORS_SLACK_NOTICES_INTERNAL_H
#define BUSLINE_CONNECTORS_SLACK_NOTICES_INTERNAL_H

#include "connectors/calendar_sync/provider_http.h"
#include "connectors/slack/notices.h"

#include <stdbool.h>

#define BL_SLACK_API_BASE "https://slack.com/api"
#define BL_SLACK_TEXT_MAX 4000

/* A notice kind: the event that fills it (NULL: the weekly timer), its
 * template, channel key, switches and the document's own text. */
typedef struct bl_slack_notice_kind {
    const char *event_type, *template_name, *channel_key, *notification, *notification_type, *default_text;
} bl_slack_notice_kind;

/* One connected Slack integration (all borrowed). */
typedef struct bl_slack_dest {
    const char *integration_id;
    const json_t *settings;
    const char *webhook_url; /* non-NULL: no bot token; notices go to this hook */
} bl_slack_dest;

/* Fills d from a row of integration_id, settings (parsed), and whether the
 * integration holds no bot token. */
void bl_slack_dest_init(bl_slack_dest *d, const char *integration_id, const json_t *settings, bool no_token);

/* Whether kind n is switched on in settings (notifications.<n->notification>
 * not false; notificationTypes, when given, naming it). */
bool bl_slack_notice_on(const json_t *settings, const bl_slack_notice_kind *n);

/* The channel of kind n: channels.<key>, else channels.default, else
 * defaultChannel; NULL when none. */
const char *bl_slack_notice_channel(const json_t *settings, const bl_slack_notice_kind *n);

/* The template text of kind n in settings, else its default (borrowed). */
const char *bl_slack_notice_template(const json_t *settings, const bl_slack_notice_kind *n);

/* An HTTP client of the Web API for integration_id over s's store. */
void bl_slack_api_init(bl_calsync_http *h, const bl_slack_notices *s, const char *integration_id);

/* A Web API call; Slack's {"ok": false, "error"} becomes err. Returns the
 * answer (new) or NULL with err. */
json_t *bl_slack_api_call(const bl_calsync_http *h, const char *method, const char *url, const json_t *body,
                          bl_err *err);

/* 1 when notice_id was already posted for integration_id, 0 when not, -1
 * with err. */
int bl_slack_notice_seen(PGconn *conn, const char *integration_id, const char *notice_id, bl_err *err);

/* Sends text (mrkdwn; a section block of it goes beside) as notice_id of
 * kind n to d -- its webhook, else chat.postMessage in channel -- and
 * records it in slack_notices. *posted (may be NULL) tells whether Slack
 * took it; a refusal is logged, not an error. Returns 0, or -1 with err
 * when the database failed. */
int bl_slack_notice_send(const bl_slack_notices *s, PGconn *conn, const bl_slack_dest *d,
                         const bl_slack_notice_kind *n, const char *channel, const char *notice_id, const char *text,
                         bool *posted, bl_err *err);

#endif
