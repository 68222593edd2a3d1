/* Attendance-X -> calendar between runs, driven by the domain's events: a
 * consumer group on events.attendance.event. Each event.created,
 * event.updated or event.cancelled sends that one event to every connected
 * Google Calendar or Microsoft 365 integration of its organization whose
 * direction includes attendance_to_external, by the run's own rules (run_outbound.c): the
 * current row and its link decide, so a repeated or late event changes
 * nothing, and an event the sync itself caused (origin = the integration)
 * is never written back. An item the calendar refuses is logged and left
 * to the next run, which finds the link's version behind. Offsets are
 * committed after each message is handled. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_PUSH_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_PUSH_H

#include "connectors/calendar_sync/run.h"

typedef struct bl_calsync_pusher bl_calsync_pusher;

/* What a consumer of the attendance events does with one event (the
 * CloudEvent as JSON {"id","type","organization_id","data",...}, borrowed):
 * returns 0 when it is done (committed), -1 with err to read it again. */
typedef int (*bl_attendance_event_fn)(void *arg, const json_t *event, bl_err *err);

typedef struct bl_calsync_pusher_opts {
    bl_calsync_deps deps;     /* as for runs; sender unused */
    bl_attendance_event_fn on_event; /* NULL: the calendar push; else this handler (the Zoom meetings, Slack) */
    void *on_event_arg;
    const char *brokers;      /* required */
    const char *group;        /* NULL: "busline-sync" */
    const char *topic;        /* NULL: "events.attendance.event" */
    const char *registry_url; /* required: decodes the events */
} bl_calsync_pusher_opts;

/* Subscribes (strings copied). Returns the pusher or NULL with err. The
 * same consumer serves other reactions to the attendance events with
 * on_event (each in its own group). */
bl_calsync_pusher *bl_calsync_pusher_new(const bl_calsync_pusher_opts *o, bl_err *err);

/* Closes the consumer (leaving the group) and frees; accepts NULL. */
void bl_calsync_pusher_free(bl_calsync_pusher *p);

/* Handles the messages that arrive within timeout_ms (one poll, then what
 * is already there). Returns how many were handled, or -1 with err. */
int bl_calsync_pusher_poll(bl_calsync_pusher *p, int timeout_ms, bl_err *err);

/* Sends the current state of event_id of org to each eligible integration.
 * *writes (may be NULL) gets how many calendar items were changed. Returns
 * 0, or -1 with err when the database failed. */
int bl_calsync_push_event(const bl_calsync_deps *deps, const char *org, const char *event_id, int *writes,
                          bl_err *err);

#endif
