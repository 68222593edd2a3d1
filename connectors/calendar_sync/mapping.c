/* Settings-driven mapping between Attendance-X events and calendar items
 * (mapping.h). */
#include "connectors/calendar_sync/mapping.h"

#include <stdio.h>
#include <string.h>

static int get_bool(const json_t *o, const char *key, bool *out, const char *path, bl_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return bl_err_set(err, BL_EINVAL, "settings.%s%s: not a boolean", path, key);
    *out = json_is_true(v);
    return 0;
}

static int get_str(const json_t *o, const char *key, char *out, size_t cap, const char *path, bl_err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) >= cap)
        return bl_err_set(err, BL_EINVAL, "settings.%s%s: not a string of at most %zu bytes", path, key, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

/* A boolean setting that may be absent: -1, else 0 / 1. */
static int get_tristate(const json_t *o, const char *key, int *out, const char *path, bl_err *err)
{
    bool v = false;
    *out = -1;
    if (!json_object_get(o, key))
        return 0;
    if (get_bool(o, key, &v, path, err) != 0)
        return -1;
    *out = v;
    return 0;
}

static int load_microsoft(const json_t *s, bl_calsync_mapping *m, bl_err *err)
{
    const json_t *o = json_object_get(s, "outlookSettings"), *t = json_object_get(s, "teamsIntegration");
    const json_t *d = json_object_get(t, "defaultMeetingSettings");
    bool enabled = false, automatic = false;
    if (get_str(o, "categoryColor", m->category_color, sizeof m->category_color, "outlookSettings.", err) ||
        get_str(o, "importance", m->importance, sizeof m->importance, "outlookSettings.", err) ||
        get_str(o, "showAs", m->show_as, sizeof m->show_as, "outlookSettings.", err) ||
        get_bool(t, "enabled", &enabled, "teamsIntegration.", err) ||
        get_bool(t, "autoCreateMeetings", &automatic, "teamsIntegration.", err) ||
        get_tristate(d, "allowAnonymous", &m->meeting_anonymous, "teamsIntegration.defaultMeetingSettings.", err) ||
        get_tristate(d, "recordAutomatically", &m->meeting_record, "teamsIntegration.defaultMeetingSettings.", err) ||
        get_tristate(d, "allowTranscription", &m->meeting_transcription, "teamsIntegration.defaultMeetingSettings.",
                     err))
        return -1;
    m->teams_meetings = enabled && automatic;
    return 0;
}

int bl_calsync_mapping_load(const json_t *s, bl_calsync_mapping *m, bl_err *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->calendar_id, sizeof m->calendar_id, "primary");
    m->include_description = m->include_location = true;
    const json_t *em = json_object_get(s, "eventMapping"), *f = json_object_get(s, "filters");
    const json_t *n = json_object_get(s, "notifications");
    bool exclude_private = true;
    if (get_str(s, "calendarId", m->calendar_id, sizeof m->calendar_id, "", err) ||
        get_str(s, "calendar_id", m->calendar_id, sizeof m->calendar_id, "", err) ||
        get_str(s, "eventPrefix", m->title_prefix, sizeof m->title_prefix, "", err) ||
        get_str(em, "titlePrefix", m->title_prefix, sizeof m->title_prefix, "eventMapping.", err) ||
        get_bool(s, "includeDescription", &m->include_description, "", err) ||
        get_bool(em, "includeDescription", &m->include_description, "eventMapping.", err) ||
        get_bool(em, "includeAttendees", &m->include_attendees, "eventMapping.", err) ||
        get_bool(em, "includeLocation", &m->include_location, "eventMapping.", err) ||
        get_str(em, "colorId", m->color_id, sizeof m->color_id, "eventMapping.", err) ||
        get_bool(f, "excludePrivate", &exclude_private, "filters.", err) ||
        get_bool(n, "reminders", &m->reminders, "notifications.", err))
        return -1;
    if (load_microsoft(s, m, err) != 0)
        return -1;
    bool sync_private = !exclude_private;
    if (get_bool(s, "syncPrivateEvents", &sync_private, "", err))
        return -1;
    m->sync_private = sync_private;
    const json_t *types = json_object_get(f, "eventTypes"), *v;
    size_t i;
    if (types && (!json_is_array(types) || json_array_size(types) > 8))
        return bl_err_set(err, BL_EINVAL, "settings.filters.eventTypes: an array of at most 8 types");
    json_array_foreach(types, i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof m->event_types[0])
            return bl_err_set(err, BL_EINVAL, "settings.filters.eventTypes[%zu]: not an event type", i);
        snprintf(m->event_types[m->n_event_types++], sizeof m->event_types[0], "%s", json_string_value(v));
    }
    const json_t *md = json_object_get(f, "minDuration");
    if (md && (!json_is_integer(md) || json_integer_value(md) < 0 || json_integer_value(md) > 10080))
        return bl_err_set(err, BL_EINVAL, "settings.filters.minDuration: minutes from 0 to 10080");
    m->min_duration_min = md ? (long)json_integer_value(md) : 0;
    const json_t *mins = json_object_get(n, "reminderMinutes");
    if (mins && (!json_is_array(mins) || json_array_size(mins) > BL_CALSYNC_REMINDERS_MAX))
        return bl_err_set(err, BL_EINVAL, "settings.notifications.reminderMinutes: at most %d numbers",
                          BL_CALSYNC_REMINDERS_MAX);
    json_array_foreach(mins, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 40320)
            return bl_err_set(err, BL_EINVAL, "settings.notifications.reminderMinutes[%zu]: 0 to 40320", i);
        m->reminder_minutes[m->n_reminders++] = (int)json_integer_value(v);
    }
    return 0;
}

static json_int_t num(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

const char *bl_calsync_mapping_skips_event(const bl_calsync_mapping *m, const json_t *row)
{
    if (json_is_true(json_object_get(row, "is_private")) && !m->sync_private)
        return "private";
    if (m->n_event_types > 0) {
        const char *type = json_string_value(json_object_get(row, "event_type")) ?: "";
        int listed = 0;
        for (int i = 0; i < m->n_event_types; i++)
            listed |= strcmp(m->event_types[i], type) == 0;
        if (!listed)
            return "event type";
    }
    if ((num(row, "ends_at") - num(row, "starts_at")) < (json_int_t)m->min_duration_min * 60000)
        return "shorter than minDuration";
    return NULL;
}

const char *bl_calsync_mapping_skips_item(const bl_calsync_mapping *m, const json_t *item)
{
    if (json_is_true(json_object_get(item, "private")) && !m->sync_private)
        return "private";
    if ((num(item, "ends_at") - num(item, "starts_at")) < (json_int_t)m->min_duration_min * 60000)
        return "shorter than minDuration";
    return NULL;
}

json_t *bl_calsync_mapping_to_item(const bl_calsync_mapping *m, const json_t *row, const char *external_id,
                                   const char *integration_id)
{
    char title[1200];
    snprintf(title, sizeof title, "%s%s", m->title_prefix, json_string_value(json_object_get(row, "title")) ?: "");
    json_t *it = json_pack("{s:s, s:O, s:O, s:O, s:O, s:s, s:s}", "title", title, "starts_at",
                           json_object_get(row, "starts_at"), "ends_at", json_object_get(row, "ends_at"), "timezone",
                           json_object_get(row, "timezone"), "private", json_object_get(row, "is_private"),
                           "busline_event_id", json_string_value(json_object_get(row, "event_id")) ?: "",
                           "busline_integration_id", integration_id);
    if (!it)
        return NULL;
    if (external_id)
        json_object_set_new(it, "id", json_string(external_id));
    /* null (not absent) clears the field on a patch */
    const json_t *d = json_object_get(row, "description"), *l = json_object_get(row, "location");
    if (m->include_description)
        json_object_set(it, "description", d ? (json_t *)d : json_null());
    if (m->include_location)
        json_object_set(it, "location", l ? (json_t *)l : json_null());
    if (m->color_id[0])
        json_object_set_new(it, "color_id", json_string(m->color_id));
    if (m->include_attendees) {
        json_t *people = json_array();
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(row, "attendees"), i, a) {
            const char *email = json_string_value(json_object_get(a, "email"));
            if (email && strchr(email, '@'))
                json_array_append_new(people, json_pack("{s:s, s:O?}", "email", email, "name",
                                                        json_object_get(a, "name")));
        }
        json_object_set_new(it, "attendees", people);
    }
    json_t *mins = json_array();
    const json_t *own = json_object_get(row, "reminder_minutes");
    if (json_is_integer(own))
        json_array_append(mins, (json_t *)own);
    for (int i = 0; m->reminders && i < m->n_reminders && json_array_size(mins) < BL_CALSYNC_REMINDERS_MAX; i++)
        if (!json_is_integer(own) || json_integer_value(own) != m->reminder_minutes[i])
            json_array_append_new(mins, json_integer(m->reminder_minutes[i]));
    if (json_array_size(mins) > 0)
        json_object_set_new(it, "reminder_minutes", mins);
    else
        json_decref(mins);
    const char *const outlook[][2] = {{"category_color", m->category_color}, {"importance", m->importance},
                                      {"show_as", m->show_as}};
    for (size_t i = 0; i < 3; i++)
        if (outlook[i][1][0])
            json_object_set_new(it, outlook[i][0], json_string(outlook[i][1]));
    if (m->teams_meetings) {
        json_t *meeting = json_object();
        const char *keys[] = {"allow_anonymous", "record_automatically", "allow_transcription"};
        int values[] = {m->meeting_anonymous, m->meeting_record, m->meeting_transcription};
        for (size_t i = 0; i < 3; i++)
            if (values[i] >= 0)
                json_object_set_new(meeting, keys[i], json_boolean(values[i]));
        json_object_set_new(it, "online_meeting", meeting);
    }
    return it;
}

/* The item's title without this sync's prefix (a copy read back). */
static const char *plain_title(const bl_calsync_mapping *m, const json_t *item)
{
    const char *t = json_string_value(json_object_get(item, "title"));
    if (!t || !*t)
        return "(untitled)";
    size_t n = strlen(m->title_prefix);
    return n && strncmp(t, m->title_prefix, n) == 0 && t[n] ? t + n : t;
}

static json_t *people_of(const json_t *item)
{
    json_t *out = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(item, "attendees"), i, a) {
        const char *email = json_string_value(json_object_get(a, "email"));
        const char *name = json_string_value(json_object_get(a, "name"));
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "person_id", email, "name", name ? name : email,
                                             "email", email));
    }
    return out;
}

static json_t *organizer_of(const bl_calsync_mapping *m, const json_t *item)
{
    const json_t *o = json_object_get(item, "organizer");
    if (json_string_value(json_object_get(o, "email")))
        return json_pack("{s:O, s:O?}", "email", json_object_get(o, "email"), "name", json_object_get(o, "name"));
    return json_pack("{s:s, s:n}", "email", m->calendar_id, "name");
}

static json_t *reminder_of(const json_t *item)
{
    const json_t *first = json_array_get(json_object_get(item, "reminder_minutes"), 0);
    return first ? json_incref((json_t *)first) : json_null();
}

json_t *bl_calsync_mapping_create_data(const bl_calsync_mapping *m, const json_t *item, const char *event_id,
                                       const json_t *origin)
{
    const json_t *d = json_object_get(item, "description"), *l = json_object_get(item, "location");
    return json_pack("{s:s, s:s, s:O, s:s, s:O, s:O, s:O, s:O, s:o, s:o, s:b, s:o, s:O}", "event_id", event_id,
                     "title", plain_title(m, item), "description", d ? d : json_null(), "event_type", "meeting",
                     "location", l ? l : json_null(), "starts_at", json_object_get(item, "starts_at"), "ends_at",
                     json_object_get(item, "ends_at"), "timezone", json_object_get(item, "timezone"), "organizer",
                     organizer_of(m, item), "attendees", people_of(item), "is_private",
                     json_is_true(json_object_get(item, "private")), "reminder_minutes", reminder_of(item), "origin",
                     origin);
}

json_t *bl_calsync_mapping_update_data(const bl_calsync_mapping *m, const json_t *item, const char *event_id,
                                       long version, const json_t *origin)
{
    json_t *clear = json_array();
    json_t *data = json_pack("{s:s, s:s, s:O, s:O, s:O, s:b, s:O}", "event_id", event_id, "title",
                             plain_title(m, item), "starts_at", json_object_get(item, "starts_at"), "ends_at",
                             json_object_get(item, "ends_at"), "timezone", json_object_get(item, "timezone"),
                             "is_private", json_is_true(json_object_get(item, "private")), "origin", origin);
    if (!data || !clear) {
        json_decref(data);
        json_decref(clear);
        return NULL;
    }
    const char *fields[][2] = {{"description", "description"}, {"location", "location"}};
    bool included[] = {m->include_description, m->include_location};
    for (size_t i = 0; i < 2; i++) {
        if (!included[i])
            continue; /* not copied out, so the calendar's value says nothing */
        const json_t *v = json_object_get(item, fields[i][0]);
        if (json_is_string(v) && *json_string_value(v))
            json_object_set(data, fields[i][1], (json_t *)v);
        else
            json_array_append_new(clear, json_string(fields[i][1]));
    }
    if (m->include_attendees)
        json_object_set_new(data, "attendees", people_of(item));
    json_object_set_new(data, "clear", clear);
    if (version > 0)
        json_object_set_new(data, "expected_version", json_integer(version));
    return data;
}
