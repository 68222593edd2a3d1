/* The checks an Attendance-X event's fields pass, shared by the domain
 * (producers/attendance, which refuses a command that fails them) and the
 * attendance API surface (which lists every failing field before sending):
 * the event types, IANA time zones, e-mail addresses. Pure functions. */
#ifndef BUSLINE_PRODUCERS_ATTENDANCE_RULES_H
#define BUSLINE_PRODUCERS_ATTENDANCE_RULES_H

#include <stdbool.h>

/* The event types of migrations/082 (attendance_events.event_type), ended
 * by NULL, and the same as one text for messages. */
extern const char *const bl_attendance_event_types[];
#define BL_ATTENDANCE_EVENT_TYPES_TEXT "training, meeting, conference, workshop, webinar, other"

/* The attendance statuses of attendance_records, ended by NULL. */
extern const char *const bl_attendance_statuses[];

/* Whether type is one of bl_attendance_event_types (NULL: false). */
bool bl_attendance_event_type_ok(const char *type);

/* Whether tz names a zone of the IANA database installed on this machine
 * (a TZif file under /usr/share/zoneinfo, or BUSLINE_ZONEINFO_DIR): "UTC",
 * "Europe/Paris". Names with "..", a leading '/', or characters other than
 * letters, digits, '_', '-', '+' and '/' are refused without looking. */
bool bl_attendance_timezone_ok(const char *tz);

/* Whether s is a well-formed e-mail address: local@domain, at most 254
 * bytes, a local part of 1 to 64 atext characters and dots (no leading,
 * trailing or double dot), a domain of at least two dot-separated labels
 * of letters, digits and inner hyphens. */
bool bl_attendance_email_ok(const char *s);

#endif
