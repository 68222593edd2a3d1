/* busline attendance [run] | send FILE: the Attendance-X domain service
 * (events, attendance records, the reminder timer), and a tool that puts
 * one command on its topic. */
#include "cli/commands.h"
#include "cli/domain_role.h"
#include "producers/attendance/domain.h"

static const bl_setting attendance_settings[] =
    BL_DOMAIN_ROLE_SETTINGS("attendance", "ATTENDANCE", "attendance");

int bl_cmd_attendance(int argc, char **argv)
{
    return bl_domain_role_main(&bl_attendance_rules, attendance_settings, argc, argv);
}
