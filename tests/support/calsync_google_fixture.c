#include "tests/support/calsync_google_fixture.h"

#include "core/clock.h"
#include "core/time_format.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gsync_state gsync;

PGresult *gsync_sql(const char *q, int n, const char *const *p)
{
    return bl_calsync_fx_sql(&gsync.fx, q, n, p);
}

long gsync_count1(const char *q, const char *param)
{
    return bl_calsync_fx_count(&gsync.fx, q, param);
}

/* A fresh calendar and a clean slate for the next test. */
void gsync_reset(const char *settings_extra)
{
    static int n;
    snprintf(gsync.calendar, sizeof gsync.calendar, "cal%d", ++n);
    char settings[1024];
    snprintf(settings, sizeof settings,
             "{\"calendarId\":\"%s\",\"eventMapping\":{\"titlePrefix\":\"" PREFIX "\",\"includeDescription\":true,"
             "\"includeLocation\":true,\"colorId\":\"2\"}%s%s}",
             gsync.calendar, settings_extra ? "," : "", settings_extra ? settings_extra : "");
    bl_calsync_fx_reset(&gsync.fx, settings);
}

/* Attendance-X changes: the domain's commands, applied. */
void gsync_put_event(const char *id, const char *title, int hours, const char *type, int is_private)
{
    if (bl_calsync_fx_create_event(&gsync.fx, id, title, hours, type, is_private) != 0)
        fprintf(stderr, "  event.create %s failed\n", id);
}

void gsync_change_event(const char *id, const char *title)
{
    if (bl_calsync_fx_retitle_event(&gsync.fx, id, title) != 0)
        fprintf(stderr, "  event.update %s failed\n", id);
}

void gsync_cancel_event(const char *id)
{
    if (bl_calsync_fx_cancel_event(&gsync.fx, id) != 0)
        fprintf(stderr, "  event.cancel %s failed\n", id);
}

/* A person's event in the calendar (hours from now). */
void gsync_put_item(const char *id, const char *summary, int hours)
{
    char s[40], e[40];
    int64_t base = (bl_clock_wall_ms() / 3600000 + hours) * 3600000;
    bl_rfc3339_format_millis(base, s, sizeof s);
    bl_rfc3339_format_millis(base + 3600000, e, sizeof e);
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s}}", "id", id, "summary", summary, "start",
                           "dateTime", s, "timeZone", "Europe/Paris", "end", "dateTime", e, "timeZone",
                           "Europe/Paris", "organizer", "email", "someone@example.com");
    bl_fake_google_put(&gcal, gsync.calendar, ev);
    json_decref(ev);
}

bl_calsync_worker_opts gsync_worker_opts(void)
{
    return bl_calsync_fx_worker_opts(&gsync.fx);
}

int gsync_queue_run(const char *direction, int dry, int force, char run_id[40])
{
    return bl_calsync_fx_queue(&gsync.fx, "manual", direction, dry, force, run_id);
}

json_t *gsync_run_row(const char *run_id)
{
    return bl_calsync_fx_run_row(&gsync.fx, run_id);
}

long gsync_stat_of(const json_t *run, const char *key)
{
    return bl_calsync_fx_stat(run, key);
}

json_t *gsync_sync_now(const char *direction, int dry, int force)
{
    return bl_calsync_fx_sync(&gsync.fx, direction, dry, force);
}

/* The commands the sync sent and the service applies. */
long gsync_apply_commands(void)
{
    return bl_calsync_fx_apply(&gsync.fx);
}

typedef struct commands_seen {
    long n;
    json_t *list;
} commands_seen;

static void collect(const bl_kafka_msg *m, void *user)
{
    commands_seen *s = user;
    size_t len = 0;
    const void *v = bl_kafka_msg_value(m, &len);
    bl_err err = {0};
    json_t *env = bl_domain_codec_decode_command(gsync.fx.dom.codec, v, len, &err);
    if (!env)
        fprintf(stderr, "  decode: %s\n", err.msg);
    else
        json_array_append_new(s->list, env);
    s->n++;
}

/* Every command on the topic (new array of envelopes). */
json_t *gsync_all_commands(void)
{
    commands_seen s = {0, json_array()};
    int64_t total = fixture_end_total(commands_topic, 1);
    if (total > 0)
        fixture_read(commands_topic, (int)total, 30000, collect, &s);
    return s.list;
}

/* Both sides hold the same set: every scheduled event has exactly one live
 * copy with its title, and the calendar holds nothing else. */
int gsync_converged(void)
{
    const char *p[] = {org, integration_id};
    PGresult *r = gsync_sql("SELECT e.event_id, e.title, l.external_id FROM attendance_events e LEFT JOIN"
                      " integration_event_links l ON l.event_id = e.event_id AND l.integration_id::text = $2"
                      " AND l.removed_at IS NULL WHERE e.organization_id = $1 AND e.status = 'scheduled'", 2, p);
    if (!r)
        return 0;
    int ok = 1;
    for (int i = 0; i < PQntuples(r) && ok; i++) {
        json_t *item = PQgetisnull(r, i, 2) ? NULL : bl_fake_google_event(&gcal, PQgetvalue(r, i, 2));
        char want[600];
        snprintf(want, sizeof want, PREFIX "%s", PQgetvalue(r, i, 1));
        const char *summary = json_string_value(json_object_get(item, "summary"));
        const char *status = json_string_value(json_object_get(item, "status"));
        if (!item || !summary || (strcmp(summary, want) && strcmp(summary, PQgetvalue(r, i, 1))) ||
            !strcmp(status ? status : "", "cancelled")) {
            fprintf(stderr, "  not converged: %s \"%s\" -> %s \"%s\"\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                    PQgetisnull(r, i, 2) ? "(no copy)" : PQgetvalue(r, i, 2), summary ? summary : "(none)");
            ok = 0;
        }
        json_decref(item);
    }
    size_t live = bl_fake_google_live(&gcal, gsync.calendar);
    if ((long)live != PQntuples(r)) {
        fprintf(stderr, "  not converged: %zu live items, %d scheduled events\n", live, PQntuples(r));
        ok = 0;
    }
    PQclear(r);
    return ok;
}

int gsync_setup(void)
{
    setenv("BUSLINE_LOG_LEVEL", "warn", 1);
    if (bl_calsync_fx_start(&gsync.fx, "google_calendar") != 0)
        return -1;
    bl_test_unique_name(gsync.name, sizeof gsync.name, "calsync");
    snprintf(gsync.log_path, sizeof gsync.log_path, "/tmp/%s.log", gsync.name);
    snprintf(gsync.events_topic, sizeof gsync.events_topic, "events.attendance.event-%s", gsync.name);
    const char *topics[] = {gsync.events_topic};
    return fixture_topics_create(topics, 1, 1);
}

void gsync_teardown(void)
{
    if (bl_test_failures) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", gsync.log_path);
        if (system(cmd) != 0)
            fprintf(stderr, "  (no worker log)\n");
    }
    if (gsync.events_topic[0]) {
        const char *topics[] = {gsync.events_topic};
        fixture_topics_delete(topics, 1);
    }
    unlink(gsync.log_path);
    bl_calsync_fx_stop(&gsync.fx);
}
