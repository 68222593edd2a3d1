/* The per-provider schemas of integration settings (see
 * integration_settings.h), as tables of nodes walked against the JSON. */
#include "api/attendance/integration_settings.h"

#include "connectors/slack/message_templates.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef enum node_kind { K_STRING, K_BOOL, K_INT, K_OBJECT, K_ARRAY } node_kind;

/* What a string must look like beyond its length. */
typedef enum node_format {
    F_ANY = 0,
    F_HTTPS_URL,    /* https://host/... */
    F_CHANNEL,      /* a Slack channel: #name */
    F_TEMPLATE,     /* a Slack message template named by the node's key */
    F_TIME_ZONE,    /* an IANA name: Europe/Paris, UTC */
    F_IDENTIFIER,   /* an id segment: letters, digits, '.', '_', '-', '@' */
} node_format;

typedef struct node {
    const char *key;            /* NULL ends a table */
    node_kind kind;
    const struct node *fields;  /* K_OBJECT: its fields; K_ARRAY: the item (one node) */
    const char *const *one_of;  /* K_STRING: the allowed values, NULL-ended */
    long min, max;              /* K_INT bounds; K_STRING and K_ARRAY: max length (0 = 512 / 32) */
    node_format format;
    const char *about;          /* for the JSON Schema's description */
} node;

static const char *const directions[] = {"bidirectional", "attendance_to_external", "external_to_attendance", NULL};
static const char *const event_types[] = {"training", "meeting", "conference", "workshop", "webinar", "other", NULL};
static const char *const importance[] = {"low", "normal", "high", NULL};
static const char *const show_as[] = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown", NULL};
static const char *const zoom_types[] = {"instant", "scheduled", "recurring_no_fixed_time", "recurring_fixed_time",
                                         NULL};
static const char *const recordings[] = {"local", "cloud", "none", NULL};
static const char *const slack_notices[] = {"event_reminders", "attendance_alerts", "system_notifications",
                                            "weekly_reports", NULL};
static const char *const color_ids[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", NULL};
static const char *const modes[] = {"delegated", "client_credentials", NULL};

#define STR(k, about) {k, K_STRING, NULL, NULL, 0, 0, F_ANY, about}
#define STR_F(k, max, f, about) {k, K_STRING, NULL, NULL, 0, max, f, about}
#define ENUM(k, values, about) {k, K_STRING, NULL, values, 0, 0, F_ANY, about}
#define BOOL(k, about) {k, K_BOOL, NULL, NULL, 0, 0, F_ANY, about}
#define INT(k, lo, hi, about) {k, K_INT, NULL, NULL, lo, hi, F_ANY, about}
#define OBJ(k, fields, about) {k, K_OBJECT, fields, NULL, 0, 0, F_ANY, about}
#define ARR(k, item, max, about) {k, K_ARRAY, item, NULL, 0, max, F_ANY, about}
#define END {NULL, K_BOOL, NULL, NULL, 0, 0, F_ANY, NULL}

static const node event_type_item[] = {ENUM("eventType", event_types, "an Attendance-X event type"), END};
static const node minutes_item[] = {INT("minutes", 0, 40320, "minutes before the start"), END};
static const node notice_item[] = {ENUM("notificationType", slack_notices, NULL), END};

/* Fields every provider's settings share: document 001's
 * PUT /integrations/:id/settings names them at the top of the body and
 * connect puts them in settings; they are kept in the integration's columns. */
#define SYNC_FIELDS                                                                                          \
    ENUM("syncDirection", directions, "which way events are copied"),                                         \
        BOOL("autoSync", "sync every syncInterval seconds"),                                                  \
        INT("syncInterval", 60, 604800, "seconds between automatic syncs")

static const node event_mapping[] = {
    STR_F("titlePrefix", 100, F_ANY, "put before each copied title"),
    BOOL("includeAttendees", NULL),
    BOOL("includeDescription", NULL),
    BOOL("includeLocation", NULL),
    {"colorId", K_STRING, NULL, color_ids, 0, 0, F_ANY, "Google Calendar's event colour, 1 to 11"},
    END,
};
static const node filters[] = {
    ARR("eventTypes", event_type_item, 6, "only events of these types"),
    BOOL("excludePrivate", "leave private events out"),
    INT("minDuration", 0, 1440, "only events of at least this many minutes"),
    END,
};
static const node calendar_notifications[] = {
    BOOL("reminders", "copy reminders"),
    ARR("reminderMinutes", minutes_item, 5, "reminders, minutes before the start"),
    END,
};

/* the calendar fields of PUT .../settings' example */
#define CALENDAR_FIELDS                                                                                      \
    STR_F("calendarId", 256, F_IDENTIFIER, "the calendar copies go to (primary by default)"),                  \
        STR_F("eventPrefix", 100, F_ANY, "put before each copied title (eventMapping.titlePrefix wins)"),       \
        BOOL("includeDescription", NULL), BOOL("syncPrivateEvents", "copy private events (default false)"),   \
        OBJ("eventMapping", event_mapping, NULL), OBJ("filters", filters, NULL),                              \
        OBJ("notifications", calendar_notifications, NULL)

static const node google[] = {SYNC_FIELDS, CALENDAR_FIELDS, END};

static const node teams_meeting[] = {
    BOOL("allowAnonymous", NULL),
    BOOL("recordAutomatically", NULL),
    BOOL("allowTranscription", NULL),
    END,
};
static const node teams[] = {
    BOOL("enabled", NULL),
    BOOL("autoCreateMeetings", "make a Teams meeting for each copied event"),
    OBJ("defaultMeetingSettings", teams_meeting, NULL),
    END,
};
static const node outlook[] = {
    STR_F("categoryColor", 64, F_ANY, "the Outlook category of the copies"),
    ENUM("importance", importance, NULL),
    ENUM("showAs", show_as, NULL),
    END,
};
static const node microsoft[] = {
    SYNC_FIELDS,
    CALENDAR_FIELDS,
    OBJ("teamsIntegration", teams, NULL),
    OBJ("outlookSettings", outlook, NULL),
    STR_F("tenant", 128, F_IDENTIFIER, "the Microsoft Entra tenant (default common)"),
    ENUM("mode", modes, "delegated (a user's consent) or client_credentials (the app's)"),
    END,
};

static const node slack_channels[] = {
    STR_F("default", 81, F_CHANNEL, NULL),
    STR_F("alerts", 81, F_CHANNEL, NULL),
    STR_F("reports", 81, F_CHANNEL, "where the weekly report goes (default: channels.default)"),
    END,
};
static const node slack_templates[] = {
    STR_F("eventReminder", 2000, F_TEMPLATE, "filled from event.reminder_due: {eventName}, {timeUntil}, ..."),
    STR_F("attendanceAlert", 2000, F_TEMPLATE, "filled from attendance.updated: {eventName}, {attendanceRate}, ..."),
    STR_F("weeklyReport", 2000, F_TEMPLATE,
          "no placeholders: the heading of the report posted every Monday 08:00 UTC with the past week's attendance counts"),
    END,
};
static const node slack_mentions[] = {
    BOOL("enabled", NULL),
    BOOL("mentionManagers", NULL),
    BOOL("mentionOrganizers", NULL),
    END,
};
static const node slack_notifications[] = {
    BOOL("eventReminders", NULL),
    BOOL("attendanceAlerts", NULL),
    BOOL("weeklyReports", "false: no weekly report"),
    END,
};
static const node slack[] = {
    SYNC_FIELDS,
    STR_F("webhookUrl", 2048, F_HTTPS_URL,
          "a Slack incoming webhook: without a bot token, every reminder, alert and weekly report is posted there"),
    STR_F("defaultChannel", 81, F_CHANNEL, NULL),
    ARR("notificationTypes", notice_item, 4, NULL),
    OBJ("channels", slack_channels, NULL),
    OBJ("messageTemplates", slack_templates, NULL),
    OBJ("userMentions", slack_mentions, NULL),
    OBJ("notifications", slack_notifications, NULL),
    END,
};

static const node zoom_recording[] = {
    ENUM("autoRecording", recordings, NULL),
    BOOL("recordingAuthentication",
         "only signed-in users view the cloud recording (PATCH /meetings/{id}/recordings/settings after the create)"),
    END,
};
static const node zoom_defaults[] = {
    ENUM("type", zoom_types, NULL),
    INT("duration", 1, 1440, "minutes"),
    STR_F("timezone", 64, F_TIME_ZONE, "an IANA time zone"),
    BOOL("password", "give each meeting a passcode"),
    BOOL("waitingRoom", NULL),
    BOOL("joinBeforeHost", NULL),
    BOOL("muteUponEntry", NULL),
    OBJ("recordingSettings", zoom_recording, NULL),
    END,
};
static const node zoom_tracking[] = {
    BOOL("enabled", NULL),
    BOOL("syncAttendance", "pull the participants report after the meeting"),
    INT("minimumDuration", 0, 1440, "minutes in the meeting to count as present"),
    END,
};
static const node zoom[] = {
    SYNC_FIELDS,
    BOOL("autoCreateMeetings", "make a meeting for each event of filters.eventTypes"),
    OBJ("meetingDefaults", zoom_defaults, NULL),
    OBJ("attendanceTracking", zoom_tracking, NULL),
    OBJ("filters", filters, NULL),
    STR_F("account_id", 128, F_IDENTIFIER, "the Zoom account of the server-to-server app"),
    END,
};

static const struct {
    const char *provider;
    const node *root;
} schemas[] = {
    {"google_calendar", google},
    {"microsoft_365", microsoft},
    {"slack", slack},
    {"zoom", zoom},
};

static const node *root_of(const char *provider)
{
    for (size_t i = 0; provider && i < sizeof schemas / sizeof schemas[0]; i++)
        if (strcmp(schemas[i].provider, provider) == 0)
            return schemas[i].root;
    return NULL;
}

static const node *field_of(const node *table, const char *key)
{
    for (const node *n = table; n && n->key; n++)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

bool bl_integration_settings_has_schema(const char *provider)
{
    return root_of(provider) != NULL;
}

bool bl_integration_settings_known(const char *provider, const char *key)
{
    return field_of(root_of(provider), key) != NULL;
}

static void note(json_t *problems, const char *path, const char *message)
{
    json_object_set_new(problems, path, json_string(message));
}

static bool format_ok(node_format f, const char *s)
{
    switch (f) {
    case F_HTTPS_URL: {
        if (strncmp(s, "https://", 8) != 0 || !s[8] || s[8] == '/')
            return false;
        for (const char *c = s; *c; c++)
            if ((unsigned char)*c <= ' ')
                return false;
        return true;
    }
    case F_CHANNEL:
        if (s[0] != '#' || !s[1])
            return false;
        for (const char *c = s + 1; *c; c++)
            if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
                return false;
        return true;
    case F_TIME_ZONE:
    case F_IDENTIFIER:
        if (!*s)
            return false;
        for (const char *c = s; *c; c++)
            if (!isalnum((unsigned char)*c) && !strchr(f == F_TIME_ZONE ? "/_+-" : "._-@", *c))
                return false;
        return true;
    default:
        return true;
    }
}

static const char *format_words(node_format f)
{
    switch (f) {
    case F_HTTPS_URL: return "an https:// URL";
    case F_CHANNEL: return "a channel name: '#' then lower-case letters, digits, '-', '_', '.'";
    case F_TIME_ZONE: return "an IANA time zone such as Europe/Paris";
    case F_IDENTIFIER: return "letters, digits, '.', '_', '-', '@'";
    default: return "text";
    }
}

static void check_value(const node *n, const json_t *v, const char *path, const bl_catalog *cat, json_t *problems);

static void check_object(const node *fields, const json_t *v, const char *path, bool strict, const bl_catalog *cat,
                         json_t *problems)
{
    const char *key;
    json_t *child;
    json_object_foreach ((json_t *)v, key, child) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        const node *f = field_of(fields, key);
        if (f)
            check_value(f, child, sub, cat, problems);
        else if (strict)
            note(problems, sub, "unknown field");
    }
}

static void check_value(const node *n, const json_t *v, const char *path, const bl_catalog *cat, json_t *problems)
{
    char msg[512];
    switch (n->kind) {
    case K_BOOL:
        if (!json_is_boolean(v))
            note(problems, path, "a boolean");
        return;
    case K_INT:
        if (!json_is_integer(v) || json_integer_value(v) < n->min || json_integer_value(v) > n->max) {
            snprintf(msg, sizeof msg, "an integer from %ld to %ld", n->min, n->max);
            note(problems, path, msg);
        }
        return;
    case K_STRING: {
        const char *s = json_string_value(v);
        size_t max = n->max ? (size_t)n->max : 512;
        if (!s) {
            note(problems, path, "a string");
            return;
        }
        if (n->one_of) {
            bool found = false;
            size_t o = (size_t)snprintf(msg, sizeof msg, "one of");
            for (size_t i = 0; n->one_of[i]; i++) {
                found = found || strcmp(s, n->one_of[i]) == 0;
                if (o < sizeof msg)
                    o += (size_t)snprintf(msg + o, sizeof msg - o, "%s %s", i ? "," : "", n->one_of[i]);
            }
            if (!found)
                note(problems, path, msg);
            return;
        }
        if (strlen(s) > max) {
            snprintf(msg, sizeof msg, "at most %zu characters", max);
            note(problems, path, msg);
        } else if (n->format == F_TEMPLATE) {
            bl_err err = {0};
            if (bl_slack_template_check(n->key, s, cat, &err) != 0)
                note(problems, path, err.msg);
        } else if (!format_ok(n->format, s)) {
            note(problems, path, format_words(n->format));
        }
        return;
    }
    case K_OBJECT:
        if (!json_is_object(v))
            note(problems, path, "an object");
        else
            check_object(n->fields, v, path, true, cat, problems);
        return;
    case K_ARRAY: {
        size_t max = n->max ? (size_t)n->max : 32;
        if (!json_is_array(v) || json_array_size(v) > max) {
            snprintf(msg, sizeof msg, "an array of at most %zu items", max);
            note(problems, path, msg);
            return;
        }
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            check_value(n->fields, item, sub, cat, problems);
        }
        return;
    }
    }
}

int bl_integration_settings_check(const char *provider, const json_t *settings, const char *base, bool strict,
                                  const bl_catalog *cat, json_t *problems)
{
    size_t before = json_object_size(problems);
    const node *root = root_of(provider);
    if (!json_is_object(settings)) {
        note(problems, base, "an object");
        return -1;
    }
    if (!root) {
        if (strict && json_object_size(settings) > 0)
            note(problems, base, "this provider takes no settings");
        return json_object_size(problems) > before ? -1 : 0;
    }
    check_object(root, settings, base, strict, cat, problems);
    return json_object_size(problems) > before ? -1 : 0;
}

static json_t *node_schema(const node *n);

static json_t *object_schema(const node *fields)
{
    json_t *props = json_object();
    for (const node *f = fields; props && f->key; f++)
        json_object_set_new(props, f->key, node_schema(f));
    return props ? json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props, "additionalProperties", 0)
                 : NULL;
}

static json_t *node_schema(const node *n)
{
    json_t *s = NULL;
    switch (n->kind) {
    case K_BOOL: s = json_pack("{s:s}", "type", "boolean"); break;
    case K_INT: s = json_pack("{s:s, s:I, s:I}", "type", "integer", "minimum", (json_int_t)n->min, "maximum",
                              (json_int_t)n->max);
        break;
    case K_STRING: {
        s = json_pack("{s:s, s:I}", "type", "string", "maxLength", (json_int_t)(n->max ? n->max : 512));
        json_t *values = n->one_of ? json_array() : NULL;
        for (size_t i = 0; values && n->one_of[i]; i++)
            json_array_append_new(values, json_string(n->one_of[i]));
        if (s && values)
            json_object_set_new(s, "enum", values);
        if (s && n->format == F_HTTPS_URL)
            json_object_set_new(s, "pattern", json_string("^https://"));
        if (s && n->format == F_CHANNEL)
            json_object_set_new(s, "pattern", json_string("^#[a-z0-9._-]+$"));
        break;
    }
    case K_OBJECT: s = object_schema(n->fields); break;
    case K_ARRAY: s = json_pack("{s:s, s:o, s:I}", "type", "array", "items", node_schema(n->fields), "maxItems",
                                (json_int_t)(n->max ? n->max : 32));
        break;
    }
    if (s && n->about)
        json_object_set_new(s, "description", json_string(n->about));
    return s;
}

json_t *bl_integration_settings_json_schema(const char *provider)
{
    const node *root = root_of(provider);
    return root ? object_schema(root) : NULL;
}
