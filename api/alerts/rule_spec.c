/* Reading and checking an alert rule body (rule_spec.h). */
#include "api/alerts/rule_spec.h"

#include "core/field_problems.h"

#include <math.h>
#include <string.h>

const char *const bl_alert_rule_types[] = {"high-latency", "error-rate", "rate-limit", "downtime",
                                           "webhook-failure", NULL};
const char *const bl_alert_rule_severities[] = {"low", "medium", "high", "critical", NULL};
const char *const bl_alert_rule_comparisons[] = {"gt", "gte", "lt", "lte", NULL};

bool bl_alert_rule_one_of(const char *v, const char *const *allowed)
{
    for (size_t i = 0; v && allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return true;
    return false;
}

static bool known_field(const char *name)
{
    static const char *const fields[] = {"type", "customAPIId", "threshold", "comparison", "severity", "window",
                                         "minCalls", "enabled", "channels",
                                         /* read-only, ignored */
                                         "id", "scope", "isDefault", "createdAt", "updatedAt", NULL};
    return bl_alert_rule_one_of(name, fields);
}

/* A string from one of allowed, or def when absent (def NULL: required). */
static const char *read_name(const json_t *body, const char *field, const char *const *allowed, const char *def,
                             const char *words, json_t *problems)
{
    const json_t *v = json_object_get(body, field);
    if (!v) {
        if (!def)
            bl_field_problem(problems, field, "is required: %s", words);
        return def;
    }
    if (!json_is_string(v) || !bl_alert_rule_one_of(json_string_value(v), allowed)) {
        bl_field_problem(problems, field, "must be one of %s", words);
        return def;
    }
    return json_string_value(v);
}

/* An integer between lo and hi, or def when absent. */
static int read_int(const json_t *body, const char *field, int lo, int hi, int def, const char *unit,
                    json_t *problems)
{
    const json_t *v = json_object_get(body, field);
    if (!v)
        return def;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        bl_field_problem(problems, field, "must be an integer from %d to %d (%s)", lo, hi, unit);
        return def;
    }
    return (int)json_integer_value(v);
}

static bool is_percent(const char *type)
{
    return type && (strcmp(type, "error-rate") == 0 || strcmp(type, "rate-limit") == 0 ||
                    strcmp(type, "downtime") == 0);
}

static void read_threshold(const json_t *body, bl_alert_rule_spec *out, json_t *problems)
{
    const json_t *v = json_object_get(body, "threshold");
    if (!v) {
        bl_field_problem(problems, "threshold", "is required");
        return;
    }
    double t = json_number_value(v);
    if (!json_is_number(v) || !isfinite(t) || t < 0)
        bl_field_problem(problems, "threshold", "must be a number of 0 or more");
    else if (is_percent(out->type) && t > 100)
        bl_field_problem(problems, "threshold", "is a percentage for %s: 0 to 100", out->type);
    else
        out->threshold = t;
}

/* A label: 1..100 letters, digits and . _ - : # @ / */
static bool channel_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BL_ALERT_RULE_CHANNEL_LEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._-:#@/", c);
        if (!ok)
            return false;
    }
    return true;
}

static void read_channels(const json_t *body, bl_alert_rule_spec *out, json_t *problems)
{
    const json_t *v = json_object_get(body, "channels");
    if (!v || json_is_null(v))
        return;
    if (!json_is_array(v) || json_array_size(v) > BL_ALERT_RULE_CHANNELS_MAX) {
        bl_field_problem(problems, "channels", "must be an array of at most %d labels", BL_ALERT_RULE_CHANNELS_MAX);
        return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(v, i, c) {
        if (!json_is_string(c) || !channel_ok(json_string_value(c))) {
            bl_field_problem(problems, "channels",
                             "item %zu must be a label of 1 to %d letters, digits and . _ - : # @ /", i,
                             BL_ALERT_RULE_CHANNEL_LEN_MAX);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(v, j)), json_string_value(c)) == 0) {
                bl_field_problem(problems, "channels", "item %zu repeats \"%s\"", i, json_string_value(c));
                return;
            }
    }
    out->channels = v;
}

bool bl_alert_rule_read(const json_t *body, bl_alert_rule_spec *out, json_t *problems)
{
    size_t before = json_object_size(problems);
    *out = (bl_alert_rule_spec){.window_s = 300, .min_calls = 1, .enabled = true};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (!known_field(key))
            bl_field_problem(problems, key, "is not a field of an alert rule");
    }
    out->type = read_name(body, "type", bl_alert_rule_types, NULL,
                          "high-latency, error-rate, rate-limit, downtime or webhook-failure", problems);
    out->severity = read_name(body, "severity", bl_alert_rule_severities, NULL, "low, medium, high or critical",
                              problems);
    const char *cmp_default = out->type && strcmp(out->type, "downtime") == 0 ? "gte" : "gt";
    out->comparison = read_name(body, "comparison", bl_alert_rule_comparisons, cmp_default,
                                "gt, gte, lt or lte", problems);
    read_threshold(body, out, problems);
    out->window_s = read_int(body, "window", BL_ALERT_RULE_WINDOW_MIN, BL_ALERT_RULE_WINDOW_MAX, 300, "seconds",
                             problems);
    out->min_calls = read_int(body, "minCalls", 1, BL_ALERT_RULE_MIN_CALLS_MAX, 1,
                              "calls or deliveries in the window before the rule can fire", problems);
    const json_t *enabled = json_object_get(body, "enabled");
    if (enabled && !json_is_boolean(enabled))
        bl_field_problem(problems, "enabled", "must be true or false");
    else if (enabled)
        out->enabled = json_is_true(enabled);
    const json_t *api = json_object_get(body, "customAPIId");
    if (api && !json_is_null(api) && (!json_is_string(api) || strlen(json_string_value(api)) != 36))
        bl_field_problem(problems, "customAPIId", "must be the id of a custom endpoint, or null for every endpoint");
    else if (api && json_is_string(api))
        out->custom_api_id = json_string_value(api);
    if (out->custom_api_id && out->type && strcmp(out->type, "webhook-failure") == 0)
        bl_field_problem(problems, "customAPIId", "must be null for webhook-failure (it watches webhook deliveries)");
    read_channels(body, out, problems);
    return json_object_size(problems) == before;
}
