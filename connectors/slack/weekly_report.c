/* The Slack weekly report (weekly_report.h). */
#include "connectors/slack/weekly_report.h"

#include "connectors/mapping.h"
#include "connectors/slack/message_templates.h"
#include "connectors/slack/notices_internal.h"
#include "core/log.h"
#include "core/pg_timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOW_EVENTS_MAX "5"
#define NOTICE_ID_MAX 128

/* Monday 08:00 UTC after now. */
#define NEXT_DUE_SQL                                                                                          \
    "((date_trunc('week', (now() - interval '8 hours') AT TIME ZONE 'UTC') + interval '1 week 8 hours')"      \
    " AT TIME ZONE 'UTC')"

static const bl_pg_timer report_timers = {"slack_report_timers", "integration_id", "uuid"};

static const bl_slack_notice_kind weekly = {NULL, "weeklyReport", "reports", "weeklyReports", "weekly_reports",
                                            "\xF0\x9F\x93\x8A Rapport hebdomadaire de pr\xC3\xA9sence"};

/* The week before due ($2) in organization $1: one row of counts, the
 * low events as JSON [{title, rate}], and the week's first and last day. */
static const char counts_sql[] =
    "WITH ev AS (SELECT organization_id, event_id, title, status, attendees FROM attendance_events"
    "   WHERE organization_id = $1 AND ends_at >= $2::timestamptz - interval '7 days' AND ends_at < $2::timestamptz),"
    " held AS (SELECT ev.event_id, ev.title,"
    "   count(*) FILTER (WHERE r.status IN ('PRESENT', 'LATE')) AS present,"
    "   count(*) FILTER (WHERE r.status = 'LATE') AS late,"
    "   count(*) FILTER (WHERE r.status = 'ABSENT') AS absent,"
    "   count(*) FILTER (WHERE r.status = 'EXCUSED') AS excused,"
    "   jsonb_array_length(ev.attendees) + count(r.person_id) FILTER (WHERE NOT EXISTS"
    "     (SELECT 1 FROM jsonb_array_elements(ev.attendees) a WHERE a->>'person_id' = r.person_id)) AS expected"
    "   FROM ev LEFT JOIN attendance_records r ON r.organization_id = ev.organization_id"
    "     AND r.event_id = ev.event_id WHERE ev.status = 'scheduled' GROUP BY ev.event_id, ev.title, ev.attendees)"
    " SELECT (SELECT count(*) FROM held), (SELECT count(*) FROM ev WHERE status = 'cancelled'),"
    "  (SELECT coalesce(sum(present), 0) FROM held), (SELECT coalesce(sum(late), 0) FROM held),"
    "  (SELECT coalesce(sum(absent), 0) FROM held), (SELECT coalesce(sum(excused), 0) FROM held),"
    "  (SELECT coalesce(sum(expected), 0) FROM held),"
    "  (SELECT coalesce(json_agg(json_build_object('title', title, 'rate', rate) ORDER BY rate, title), '[]')"
    "     FROM (SELECT title, round(100.0 * present / expected)::int AS rate FROM held"
    "       WHERE expected > 0 AND present * 2 < expected ORDER BY present::float8 / expected, title"
    "       LIMIT " LOW_EVENTS_MAX ") low)::text,"
    "  to_char(($2::timestamptz - interval '7 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD'),"
    "  to_char(($2::timestamptz - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

/* Appends the low events of json (text) to out as "title (rate %)". */
static void add_low_events(const char *json, char *out, size_t cap)
{
    json_t *low = json_loads(json, 0, NULL);
    size_t i, n = strlen(out);
    const json_t *e;
    json_array_foreach(low, i, e) {
        char *title = bl_escape_text(json_string_value(json_object_get(e, "title")), BL_CONNECTOR_ESCAPE_MRKDWN);
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s (%d %%)", i ? ", " : "\n\xE2\x80\xA2 Faible pr\xC3\xA9sence (< 50 %) : ",
                              title ? title : "", (int)json_integer_value(json_object_get(e, "rate")));
        free(title);
        if (n >= cap)
            break;
    }
    json_decref(low);
}

/* The report text of org for the week before due: heading, then counts.
 * Returns 0, or -1 with err. */
static int report_text(PGconn *conn, const json_t *settings, const char *org, const char *due, char *out,
                       size_t cap, bl_err *err)
{
    const char *p[] = {org, due};
    PGresult *r = bl_pg_exec(conn, counts_sql, 2, p, err);
    if (!r)
        return -1;
    bl_err why = {0};
    json_t *no_event = json_pack("{s:{}}", "data");
    char *heading = bl_slack_template_render("weeklyReport", bl_slack_notice_template(settings, &weekly), no_event,
                                             &why);
    if (!heading) { /* checked at save time; an old row falls back to the document's text */
        bl_log_warn("slack weekly report: template not rendered", BL_FS("error", why.msg));
        heading = bl_slack_template_render("weeklyReport", weekly.default_text, no_event, &why);
    }
    json_decref(no_event);
    long held = atol(PQgetvalue(r, 0, 0)), cancelled = atol(PQgetvalue(r, 0, 1));
    long present = atol(PQgetvalue(r, 0, 2)), late = atol(PQgetvalue(r, 0, 3));
    long absent = atol(PQgetvalue(r, 0, 4)), excused = atol(PQgetvalue(r, 0, 5));
    long expected = atol(PQgetvalue(r, 0, 6));
    long rate = expected > 0 ? (present * 100 + expected / 2) / expected : 0;
    snprintf(out, cap,
             "%s\nSemaine du %s au %s\n"
             "\xE2\x80\xA2 \xC3\x89v\xC3\xA9nements tenus : %ld (annul\xC3\xA9s : %ld)\n"
             "\xE2\x80\xA2 Pr\xC3\xA9sents : %ld sur %ld attendus (%ld %%), dont %ld en retard\n"
             "\xE2\x80\xA2 Absents : %ld, excus\xC3\xA9s : %ld",
             heading ? heading : weekly.default_text, PQgetvalue(r, 0, 8), PQgetvalue(r, 0, 9), held, cancelled,
             present, expected, rate, late, absent, excused);
    free(heading);
    add_low_events(PQgetvalue(r, 0, 7), out, cap);
    PQclear(r);
    return 0;
}

/* Makes the report of claimed timer integration_id and moves the timer to
 * the next Monday. 0, or -1 with err (the lease then runs out). */
static int report_one(const bl_slack_notices *s, PGconn *conn, const char *integration_id, const char *owner,
                      int *posted, bl_err *err)
{
    const char *p[] = {integration_id};
    PGresult *r = bl_pg_exec(conn,
        "SELECT i.organization_id::text, i.settings::text, i.access_token_ciphertext IS NULL,"
        " i.status = 'connected' AND i.provider = 'slack' AND coalesce(i.notifications->>'weeklyReport', '') <> 'false',"
        " to_char(t.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM slack_report_timers t JOIN integrations i ON i.id = t.integration_id WHERE t.integration_id = $1::uuid",
        1, p, err);
    if (!r)
        return -1;
    int rc = 0;
    json_t *settings = PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 1), 0, NULL) : NULL;
    if (settings && PQgetvalue(r, 0, 3)[0] == 't' && bl_slack_notice_on(settings, &weekly)) {
        bl_slack_dest d;
        bl_slack_dest_init(&d, integration_id, settings, PQgetvalue(r, 0, 2)[0] == 't');
        const char *channel = bl_slack_notice_channel(settings, &weekly);
        char notice_id[NOTICE_ID_MAX], text[BL_SLACK_TEXT_MAX];
        snprintf(notice_id, sizeof notice_id, "weeklyReport/%s", PQgetvalue(r, 0, 4));
        int seen = channel || d.webhook_url ? bl_slack_notice_seen(conn, integration_id, notice_id, err) : 1;
        bool sent = false;
        if (seen < 0 || (seen == 0 && (report_text(conn, settings, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 4), text,
                                                   sizeof text, err) != 0 ||
                                       bl_slack_notice_send(s, conn, &d, &weekly, channel, notice_id, text, &sent,
                                                            err) != 0)))
            rc = -1;
        if (sent && posted)
            (*posted)++;
    }
    json_decref(settings);
    PQclear(r);
    const char *mp[] = {integration_id, owner};
    return rc == 0 ? bl_pg_exec_cmd(conn, "UPDATE slack_report_timers SET due_at = " NEXT_DUE_SQL ", lease_owner = NULL,"
                                          " lease_until = NULL WHERE integration_id = $1::uuid AND lease_owner = $2",
                                    2, mp, err)
                   : -1;
}

int bl_slack_weekly_reports_due(const bl_slack_notices *s, const char *owner, int max, int *posted, bl_err *err)
{
    if (posted)
        *posted = 0;
    PGconn *conn = bl_pg_pool_acquire(s->pool, 10000, err);
    if (!conn)
        return -1;
    int done = bl_pg_exec_cmd(conn, "INSERT INTO slack_report_timers (integration_id, due_at) SELECT id, " NEXT_DUE_SQL
                                    " FROM integrations WHERE provider = 'slack' AND status = 'connected'"
                                    " ON CONFLICT DO NOTHING",
                              0, NULL, err);
    while (done >= 0 && done < max) {
        char id[64];
        int got = bl_pg_timer_claim(conn, &report_timers, owner, BL_SLACK_REPORT_LEASE_MS, id, sizeof id, err);
        if (got <= 0) {
            done = got < 0 ? -1 : done;
            break;
        }
        if (report_one(s, conn, id, owner, posted, err) != 0)
            done = -1;
        else
            done++;
    }
    bl_pg_pool_release(s->pool, conn);
    return done;
}
