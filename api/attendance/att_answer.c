/* The Attendance-X success envelope (att_answer.h). */
#include "api/attendance/att_answer.h"

int bl_att_answer(bl_http_response *resp, int status, json_t *data, json_t *meta)
{
    json_t *body = json_pack("{s:b, s:o}", "success", 1, "data", data);
    if (body && meta && json_object_set_new(body, "meta", meta) != 0) {
        json_decref(body);
        return -1;
    }
    if (!body) {
        json_decref(meta);
        return -1;
    }
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}
