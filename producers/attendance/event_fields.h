/* An event command's attributes read into the event's state record. Private
 * to the attendance domain. */
#ifndef BUSLINE_PRODUCERS_ATTENDANCE_EVENT_FIELDS_H
#define BUSLINE_PRODUCERS_ATTENDANCE_EVENT_FIELDS_H

#include "producers/domain_service/command.h"

/* Sets in state (a JSON object, changed in place) every attribute data
 * gives non-null (title, description, location, event_type, timezone,
 * starts_at, ends_at, organizer, attendees, is_private, reminder_minutes),
 * each checked (event type in the enum, an installed IANA zone, well-formed
 * e-mails, unique attendee ids) and normalized (organizer {email, name},
 * attendees [{person_id, name, email}]). Returns 0, or -1 with err
 * (BL_EINVAL naming the field, BL_ENOMEM). */
int att_event_fields_read(const bl_domain_command *c, json_t *state, bl_err *err);

/* Checks a whole state: the required attributes present, ends_at after
 * starts_at. Returns 0, or -1 with err (BL_EINVAL). */
int att_event_state_check(const bl_domain_command *c, const json_t *state, bl_err *err);

#endif
