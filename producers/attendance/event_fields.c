/* Reading an event command's attributes into the event's state record (the
 * plain JSON of event.created without version and origin), each checked:
 * what create and update share. */
#include "producers/attendance/event_fields.h"

#include "core/time_format.h"
#include "producers/attendance/rules.h"

#include <inttypes.h>
#include <string.h>

#define TITLE_MAX 500
#define TEXT_MAX 4000
#define ATTENDEES_MAX 5000
#define URL_MAX 2048

static int bad(const bl_domain_command *c, bl_err *err, const char *field, const char *what)
{
    return bl_err_set(err, BL_EINVAL, "%s: data.%s: %s", c->type, field, what);
}

static int set(json_t *state, const char *key, json_t *v, bl_err *err)
{
    if (!v || json_object_set_new(state, key, v) != 0)
        return bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
    return 0;
}

static int read_text(const bl_domain_command *c, json_t *state, const char *field, size_t max,
                     bool non_empty, bl_err *err)
{
    const json_t *v = json_object_get(c->data, field);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(c, err, field, "must be a string");
    if (non_empty && json_string_length(v) == 0)
        return bad(c, err, field, "must not be empty");
    if (json_string_length(v) > max)
        return bad(c, err, field, "too long");
    return set(state, field, json_string(json_string_value(v)), err);
}

static int read_time(const bl_domain_command *c, json_t *state, const char *field, bl_err *err)
{
    const json_t *v = json_object_get(c->data, field);
    if (!v || json_is_null(v))
        return 0;
    int64_t ms;
    if (json_is_integer(v))
        ms = (int64_t)json_integer_value(v);
    else if (!json_is_string(v) || bl_rfc3339_parse_millis(json_string_value(v), &ms) != 0)
        return bad(c, err, field, "must be an RFC 3339 time or epoch milliseconds");
    return set(state, field, json_integer((json_int_t)ms), err);
}

/* {email, name} with a well-formed e-mail. */
static json_t *read_person(const bl_domain_command *c, const json_t *v, const char *path, bool with_id,
                           bl_err *err)
{
    char field[96];
    const json_t *id = json_object_get(v, "person_id"), *name = json_object_get(v, "name");
    const json_t *email = json_object_get(v, "email");
    if (with_id && (!json_is_string(id) || json_string_length(id) == 0)) {
        snprintf(field, sizeof field, "%s.person_id", path);
        bad(c, err, field, "missing or empty");
        return NULL;
    }
    if (with_id ? !json_is_string(name) : (name && !json_is_null(name) && !json_is_string(name))) {
        snprintf(field, sizeof field, "%s.name", path);
        bad(c, err, field, with_id ? "missing or not a string" : "must be a string");
        return NULL;
    }
    bool email_required = !with_id;
    if ((email_required || (email && !json_is_null(email))) &&
        !bl_attendance_email_ok(json_string_value(email))) {
        snprintf(field, sizeof field, "%s.email", path);
        bad(c, err, field, email ? "not a well-formed e-mail address" : "missing");
        return NULL;
    }
    json_t *p = with_id ? json_pack("{s:O, s:O, s:O}", "person_id", id, "name", name, "email",
                                    email ? (json_t *)email : json_null())
                        : json_pack("{s:O, s:O}", "email", email, "name", name ? (json_t *)name : json_null());
    if (!p)
        bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
    return p;
}

static int read_organizer(const bl_domain_command *c, json_t *state, bl_err *err)
{
    const json_t *v = json_object_get(c->data, "organizer");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return bad(c, err, "organizer", "must be a record {email, name}");
    json_t *p = read_person(c, v, "organizer", false, err);
    return p ? set(state, "organizer", p, err) : -1;
}

static int read_attendees(const bl_domain_command *c, json_t *state, bl_err *err)
{
    const json_t *v = json_object_get(c->data, "attendees");
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bad(c, err, "attendees", "must be an array");
    if (json_array_size(v) > ATTENDEES_MAX)
        return bad(c, err, "attendees", "too many (at most 5000)");
    json_t *list = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(v, i, a)
    {
        char path[48];
        snprintf(path, sizeof path, "attendees[%zu]", i);
        json_t *p = json_is_object(a) ? read_person(c, a, path, true, err) : NULL;
        if (!p && json_is_object(a)) {
            json_decref(list);
            return -1;
        }
        if (!p) {
            json_decref(list);
            return bad(c, err, path, "must be a record {person_id, name, email}");
        }
        const char *id = json_string_value(json_object_get(p, "person_id"));
        for (size_t j = 0; j < json_array_size(list); j++) {
            if (strcmp(id, json_string_value(json_object_get(json_array_get(list, j), "person_id"))) == 0) {
                json_decref(p);
                json_decref(list);
                return bad(c, err, path, "person_id appears twice");
            }
        }
        if (!list || json_array_append_new(list, p) != 0) {
            json_decref(list);
            return bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
        }
    }
    return set(state, "attendees", list, err);
}

int att_event_fields_read(const bl_domain_command *c, json_t *state, bl_err *err)
{
    const json_t *v;
    if (read_text(c, state, "title", TITLE_MAX, true, err) != 0 ||
        read_text(c, state, "description", TEXT_MAX, false, err) != 0 ||
        read_text(c, state, "location", TEXT_MAX, false, err) != 0 ||
        read_text(c, state, "event_type", 32, true, err) != 0 ||
        read_text(c, state, "timezone", 64, true, err) != 0 || read_time(c, state, "starts_at", err) != 0 ||
        read_time(c, state, "ends_at", err) != 0 || read_organizer(c, state, err) != 0 ||
        read_attendees(c, state, err) != 0 || read_text(c, state, "meeting_url", URL_MAX, true, err) != 0)
        return -1;
    const char *url = json_string_value(json_object_get(c->data, "meeting_url"));
    if (url && (strncmp(url, "https://", 8) != 0 || strcspn(url, " \t\r\n\"<>") != strlen(url)))
        return bad(c, err, "meeting_url", "must be an https:// URL");
    if ((v = json_object_get(c->data, "is_private")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return bad(c, err, "is_private", "must be a boolean");
        if (set(state, "is_private", json_boolean(json_is_true(v)), err) != 0)
            return -1;
    }
    if ((v = json_object_get(c->data, "reminder_minutes")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 40320)
            return bad(c, err, "reminder_minutes", "must be an integer in 0..40320 (four weeks)");
        if (set(state, "reminder_minutes", json_integer(json_integer_value(v)), err) != 0)
            return -1;
    }
    const char *type = json_string_value(json_object_get(c->data, "event_type"));
    if (type && !bl_attendance_event_type_ok(type))
        return bl_err_set(err, BL_EINVAL, "%s: data.event_type: '%s' is not one of " BL_ATTENDANCE_EVENT_TYPES_TEXT,
                          c->type, type);
    const char *tz = json_string_value(json_object_get(c->data, "timezone"));
    if (tz && !bl_attendance_timezone_ok(tz))
        return bl_err_set(err, BL_EINVAL, "%s: data.timezone: '%s' is not an IANA time zone", c->type, tz);
    return 0;
}

int att_event_state_check(const bl_domain_command *c, const json_t *state, bl_err *err)
{
    static const char *const required[] = {"title", "event_type", "starts_at", "ends_at", "timezone",
                                           "organizer"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const json_t *v = json_object_get(state, required[i]);
        if (!v || json_is_null(v))
            return bad(c, err, required[i], "missing");
    }
    json_int_t starts = json_integer_value(json_object_get(state, "starts_at"));
    json_int_t ends = json_integer_value(json_object_get(state, "ends_at"));
    if (ends <= starts)
        return bl_err_set(err, BL_EINVAL, "%s: data.ends_at: must be after starts_at (%" JSON_INTEGER_FORMAT
                          " <= %" JSON_INTEGER_FORMAT ")", c->type, ends, starts);
    return 0;
}
