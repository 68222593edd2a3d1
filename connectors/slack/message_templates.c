/* Document 001's Slack message templates (see message_templates.h). */
#include "connectors/slack/message_templates.h"

#include "connectors/mapping.h"
#include "busline/connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct template_row {
    const char *name, *event_type;
} template_row;

static const template_row templates[] = {
    {"eventReminder", "event.reminder_due"},
    {"attendanceAlert", "attendance.updated"},
    {"weeklyReport", ""},
};

const char *const bl_slack_template_names[] = {"eventReminder", "attendanceAlert", "weeklyReport", NULL};

/* A placeholder computed from the event's fields, for the events that
 * carry its source. */
typedef struct derived_row {
    const char *event_type, *field, *source;
} derived_row;

static const derived_row derived[] = {
    /* "dans {timeUntil}": how long before the start the reminder goes out */
    {"event.reminder_due", "time_until", "remind_before_minutes"},
};

const char *bl_slack_template_event(const char *name)
{
    for (size_t i = 0; name && i < sizeof templates / sizeof templates[0]; i++)
        if (strcmp(templates[i].name, name) == 0)
            return templates[i].event_type;
    return NULL;
}

typedef struct known_ctx {
    const bl_catalog *cat;
    const char *event_type;
} known_ctx;

static bool field_known(const char *const *patterns, size_t n, const char *name, void *arg)
{
    const known_ctx *k = arg;
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++)
        if (strcmp(derived[i].event_type, k->event_type) == 0 && strcmp(derived[i].field, name) == 0)
            return true;
    return k->cat ? bl_mapping_catalog_field_known(patterns, n, name, (void *)k->cat) : true;
}

/* Rejects every placeholder: the template has no event to fill it. */
static bool no_field(const char *const *patterns, size_t n, const char *name, void *arg)
{
    (void)patterns, (void)n, (void)name, (void)arg;
    return false;
}

int bl_slack_template_check(const char *name, const char *text, const bl_catalog *cat, bl_err *err)
{
    const char *type = bl_slack_template_event(name);
    if (!type)
        return bl_err_set(err, BL_EINVAL, "no template named \"%s\"", name ? name : "");
    known_ctx k = {.cat = cat, .event_type = type};
    const char *patterns[] = {type};
    bl_err why = {0};
    if (bl_template_check(text, patterns, 1, type[0] ? field_known : no_field, &k, &why) != 0)
        return bl_err_set(err, BL_EINVAL, "%s%s%s", why.msg, type[0] ? " of " : " (this template has no event)",
                          type[0] ? type : "");
    return 0;
}

/* "15 minutes", "2 hours", "1 day 3 hours": how a person reads a delay. */
static void duration_words(long minutes, char *out, size_t cap)
{
    long days = minutes / 1440, hours = minutes % 1440 / 60, mins = minutes % 60;
    size_t o = 0;
    out[0] = '\0';
    if (days)
        o += (size_t)snprintf(out + o, cap - o, "%ld day%s", days, days == 1 ? "" : "s");
    if (hours && o < cap)
        o += (size_t)snprintf(out + o, cap - o, "%s%ld hour%s", o ? " " : "", hours, hours == 1 ? "" : "s");
    if ((mins || (!days && !hours)) && o < cap)
        snprintf(out + o, cap - o, "%s%ld minute%s", o ? " " : "", mins, mins == 1 ? "" : "s");
}

char *bl_slack_template_render(const char *name, const char *text, const json_t *event, bl_err *err)
{
    const char *type = bl_slack_template_event(name);
    if (!type) {
        bl_err_set(err, BL_EINVAL, "no template named \"%s\"", name ? name : "");
        return NULL;
    }
    json_t *copy = json_deep_copy(event);
    json_t *data = json_object_get(copy, "data");
    if (!copy || !json_is_object(data)) {
        json_decref(copy);
        bl_err_set(err, BL_EINVAL, "the event has no data object");
        return NULL;
    }
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++) {
        json_t *src = json_object_get(data, derived[i].source);
        if (strcmp(derived[i].event_type, type) != 0 || !json_is_integer(src))
            continue;
        char words[64];
        duration_words((long)json_integer_value(src), words, sizeof words);
        json_object_set_new(data, derived[i].field, json_string(words));
    }
    char *out = bl_template_render(text, copy, BL_CONNECTOR_ESCAPE_MRKDWN, err);
    json_decref(copy);
    return out;
}
