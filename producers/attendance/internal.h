/* What the attendance apply files share. Private to the domain. */
#ifndef BUSLINE_PRODUCERS_ATTENDANCE_INTERNAL_H
#define BUSLINE_PRODUCERS_ATTENDANCE_INTERNAL_H

#include "producers/attendance/domain.h"
#include "producers/domain_service/fields.h"

/* The apply function of each aggregate; same contract as
 * bl_attendance_apply for the types of their entity (verb: "create"...). */
int att_apply_event(PGconn *conn, const bl_domain_command *c, const char *verb, bl_domain_events *out,
                    bl_err *err);
/* event.record_attendance (apply_attendance.c): one attendee's record. */
int att_apply_record_attendance(PGconn *conn, const bl_domain_command *c, bl_domain_events *out, bl_err *err);

/* The command's origin (data.origin) as a new normalized record
 * {integration_id, provider, external_id, external_version}, or a new JSON
 * null when absent; NULL with err (BL_EINVAL) when malformed. */
json_t *att_origin(const bl_domain_command *c, bl_err *err);

#endif
