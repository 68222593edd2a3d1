/* The Attendance-X surface's success envelope, shared by its event routes
 * (att_events_api.h) and its integrations routes (ax_integrations.h). */
#ifndef BUSLINE_API_ATTENDANCE_ATT_ANSWER_H
#define BUSLINE_API_ATTENDANCE_ATT_ANSWER_H

#include "core/http_server.h"

#include <jansson.h>

/* Answers status with {"success": true, "data": data (stolen), "meta": meta
 * (stolen, may be NULL)}. Returns 0, or -1 (data NULL, out of memory). */
int bl_att_answer(bl_http_response *resp, int status, json_t *data, json_t *meta);

#endif
