/* The OpenAPI operations of the event routes of the attendance surface
 * (served at <attendance prefix>/openapi.json): bodies, query parameters
 * and answers with the surface's field names, the Event schema as a
 * component. */
#include "api/attendance/att_events_api.h"

#include <jansson.h>
#include <stddef.h>

#define STR "{\"type\":\"string\"}"
#define NSTR "{\"type\":[\"string\",\"null\"]}"
#define INT "{\"type\":\"integer\"}"
#define TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define TYPES "{\"enum\":[\"training\",\"meeting\",\"conference\",\"workshop\",\"webinar\",\"other\"]}"
#define EVENT_REF "{\"$ref\":\"#/components/schemas/AttendanceEvent\"}"
#define PERSON "{\"type\":\"object\",\"required\":[\"email\"],\"properties\":{\"email\":{\"type\":\"string\",\"format\":\"email\"},\"name\":" NSTR "}}"
#define ATTENDEE "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":" STR ",\"name\":" STR ",\"email\":" NSTR "}}"
#define WRITABLE                                                                                            \
    "\"title\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":500},\"description\":" NSTR ",\"type\":" TYPES \
    ",\"location\":" NSTR ",\"startDate\":" TIME ",\"endDate\":" TIME                                         \
    ",\"timezone\":{\"type\":\"string\",\"description\":\"an IANA time zone, e.g. Europe/Paris\"},"            \
    "\"organizer\":" PERSON ",\"attendees\":{\"type\":\"array\",\"items\":" ATTENDEE "},\"isPrivate\":"        \
    "{\"type\":\"boolean\"},\"reminderMinutes\":{\"type\":[\"integer\",\"null\"],\"minimum\":0,\"maximum\":40320}"
#define BODY(schema) "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":" schema "}}}"
#define ENVELOPE(data) "{\"type\":\"object\",\"required\":[\"success\",\"data\"],\"properties\":{\"success\":{\"const\":true},\"data\":" data "}}"
#define ANSWER(code, what, schema) "\"" code "\":{\"description\":\"" what "\",\"content\":{\"application/json\":{\"schema\":" schema "}}}"
#define ACCEPTED ANSWER("202", "the domain had not answered within the bound: statusUrl tells when it has", ENVELOPE("{\"type\":\"object\",\"properties\":{\"id\":" STR ",\"commandId\":" STR ",\"status\":" STR ",\"statusUrl\":" STR "}}"))
#define REFUSED "\"422\":{\"description\":\"an invalid field (every one listed in error.details) or the domain's refusal (error.reason: invalid or conflict, e.g. a stale expectedVersion or a cancelled event)\"}"
#define NOT_FOUND "\"404\":{\"description\":\"EVENT_NOT_FOUND\"}"
#define OP(id, summary, rest) "{\"operationId\":\"" id "\",\"tags\":[\"events\"],\"summary\":\"" summary "\",\"x-busline-idempotent\":true," rest "}"
#define READ_OP(id, summary, rest) "{\"operationId\":\"" id "\",\"tags\":[\"events\"],\"summary\":\"" summary "\"," rest "}"
#define QUERY(name, schema, what) "{\"name\":\"" name "\",\"in\":\"query\",\"schema\":" schema ",\"description\":\"" what "\"}"

#define EVENT_SCHEMA                                                                                        \
    "{\"type\":\"object\",\"properties\":{\"id\":" STR "," WRITABLE ",\"meetingUrl\":{\"type\":[\"string\",\"null\"],\"readOnly\":true,\"description\":\"join URL of the Zoom meeting made for the event\"},\"status\":{\"enum\":[\"scheduled\",\"cancelled\"]}," \
    "\"cancelReason\":" NSTR ",\"version\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"1 at creation, +1 per change\"}," \
    "\"origin\":{\"type\":[\"object\",\"null\"],\"description\":\"the calendar sync that made the last change\","  \
    "\"properties\":{\"integrationId\":" STR ",\"provider\":" STR ",\"externalId\":" STR ",\"externalVersion\":" NSTR "}}," \
    "\"createdAt\":" TIME ",\"updatedAt\":" TIME "}}"

static const struct {
    const char *method, *pattern, *operation;
} docs[] = {
    {"GET", "/events",
     READ_OP("list_events", "The organization's events, by start",
             "\"parameters\":[" QUERY("type", TYPES, "event type") "," QUERY("status", "{\"enum\":[\"scheduled\",\"cancelled\"]}", "status") ","
             QUERY("from", STR, "a date or datetime: events ending after it") "," QUERY("to", STR, "a date or datetime: events starting before it (a date: its end)") ","
             QUERY("search", STR, "in title, description, location") "," QUERY("organizer", STR, "the organizer's e-mail address") ","
             QUERY("page", "{\"type\":\"integer\",\"minimum\":1,\"default\":1}", "page") "," QUERY("limit", "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":20}", "page size")
             "],\"responses\":{" ANSWER("200", "{success, data: [events], meta: {page, limit, total, totalPages}}", "{\"type\":\"object\",\"properties\":{\"success\":{\"const\":true},\"data\":{\"type\":\"array\",\"items\":" EVENT_REF "},\"meta\":{\"type\":\"object\",\"properties\":{\"page\":" INT ",\"limit\":" INT ",\"total\":" INT ",\"totalPages\":" INT "}}}}") "},"
             "\"x-busline-components\":{\"AttendanceEvent\":" EVENT_SCHEMA "}")},
    {"POST", "/events",
     OP("create_event", "Create an event (event.create); answered once the attendance domain applied it",
        BODY("{\"type\":\"object\",\"required\":[\"title\",\"type\",\"startDate\",\"endDate\",\"timezone\",\"organizer\"],\"properties\":{" WRITABLE "}}")
        ",\"responses\":{" ANSWER("201", "the event, at version 1", ENVELOPE(EVENT_REF)) "," ACCEPTED "," REFUSED "}")},
    {"GET", "/events/:id", READ_OP("get_event", "One event", "\"responses\":{" ANSWER("200", "the event", ENVELOPE(EVENT_REF)) "," NOT_FOUND "}")},
    {"PUT", "/events/:id",
     OP("update_event", "Change an event (event.update): only what is given; null clears description, location, reminderMinutes",
        BODY("{\"type\":\"object\",\"properties\":{" WRITABLE ",\"expectedVersion\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"refuse the change unless the event is at this version\"}}}")
        ",\"responses\":{" ANSWER("200", "the event (its version +1 when something changed)", ENVELOPE(EVENT_REF)) "," ACCEPTED "," REFUSED "," NOT_FOUND "}")},
    {"DELETE", "/events/:id",
     OP("cancel_event", "Cancel an event (event.cancel); it stays readable and refuses changes",
        "\"parameters\":[" QUERY("reason", STR, "why") "],\"responses\":{" ANSWER("200", "the cancelled event", ENVELOPE(EVENT_REF)) "," ACCEPTED "," REFUSED "," NOT_FOUND "}")},
    {"GET", "/events/:id/attendance",
     READ_OP("list_attendance", "The event's attendance records and counts",
             "\"responses\":{" ANSWER("200", "{success, data: [{personId, name, email, status, durationMinutes, source, recordedAt}], meta: {total, presentCount, expectedCount, attendanceRate}}", "{\"type\":\"object\"}") "," NOT_FOUND "}")},
    {"POST", "/events/:id/attendance",
     OP("record_attendance", "Record one person's attendance (event.record_attendance); attendance.updated carries the counts",
        BODY("{\"type\":\"object\",\"required\":[\"personId\",\"status\"],\"properties\":{\"personId\":" STR ",\"name\":" STR ",\"email\":" STR
             ",\"status\":{\"enum\":[\"present\",\"late\",\"absent\",\"excused\"]},\"durationMinutes\":{\"type\":\"integer\",\"minimum\":0},\"source\":" STR "}}")
        ",\"responses\":{" ANSWER("201", "{success, data: {record, summary}}", "{\"type\":\"object\"}") "," ACCEPTED "," REFUSED "," NOT_FOUND "}")},
    {"GET", "/commands/:id",
     READ_OP("get_command_status", "The status URL of a change answered 202",
             "\"responses\":{" ANSWER("200", "{success, data: {command_id, type, aggregate_id, status, ...}}", "{\"type\":\"object\"}") "}")},
};

int bl_att_events_document(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t jerr;
        json_t *op = json_loads(docs[i].operation, 0, &jerr);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "api: OpenAPI of %s %s: %s", docs[i].method, docs[i].pattern, jerr.text);
        if (bl_api_server_surface_document(s, BL_API_SURFACE_ATTENDANCE, docs[i].method, docs[i].pattern, op, err) != 0)
            return -1;
    }
    return 0;
}
