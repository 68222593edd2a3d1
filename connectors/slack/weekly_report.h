/* The Slack weeklyReport of design document 001: every Monday at 08:00 UTC
 * each connected Slack integration gets, in channels.reports (else the
 * default channel; or its incoming webhook), messageTemplates.weeklyReport
 * (default "📊 Rapport hebdomadaire de présence") followed by the
 * attendance domain's counts of the seven days before: the events that
 * ended in them (held, cancelled), the attendance records of the held ones
 * (present with late, absent, excused) against the expected attendees (the
 * planned ones plus walk-ins, as attendance.updated counts them), the
 * week's attendance rate, and the events under 50 % (five at most).
 *
 * The timer is a row of slack_report_timers (migration 177), claimed with
 * core/pg_timer.h (FOR UPDATE SKIP LOCKED and a lease), so one replica
 * makes a week's report and the timer survives restarts. The report of a
 * week is a notice "weeklyReport/<due time>" of slack_notices: claimed
 * again after a crash, it is not posted twice. It is off when
 * notifications.weeklyReports is false, when notificationTypes is given
 * without weekly_reports, or when the integration's notifications.weeklyReport
 * (PUT /integrations/:id/settings) is false; the timer then just moves on. */
#ifndef BUSLINE_CONNECTORS_SLACK_WEEKLY_REPORT_H
#define BUSLINE_CONNECTORS_SLACK_WEEKLY_REPORT_H

#include "connectors/slack/notices.h"

#define BL_SLACK_REPORT_LEASE_MS 300000 /* a report not done in 5 minutes is made again */

/* Arms the timer of every connected Slack integration without one (the
 * next Monday 08:00 UTC), then makes at most max reports now due, claimed
 * for owner (a replica's name). *posted (may be NULL) gets how many were
 * posted. Returns how many timers were run, or -1 with err (a database
 * failure: the claimed timer's lease runs out and it is run again). */
int bl_slack_weekly_reports_due(const bl_slack_notices *s, const char *owner, int max, int *posted, bl_err *err);

#endif
