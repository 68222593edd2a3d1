#include "api/command_routes.h"

#include <stdio.h>
#include <string.h>

typedef struct verb_rule {
    const char *verb;
    const char *method;
    bool has_id;
    const char *segment; /* NULL: no trailing segment */
} verb_rule;

static const verb_rule rules[] = {
    {"create", "POST", false, NULL},     {"update", "PUT", true, NULL},
    {"delete", "DELETE", true, NULL},    {"generate", "POST", false, "generate"},
    {"resolve", "PUT", true, "resolve"}, {"approve", "PUT", true, "approve"},
    {"reject", "PUT", true, "reject"},
};

/* English plural of a lower-case noun. */
static int plural(const char *noun, size_t n, char *out, size_t len)
{
    int w;
    char last = n ? noun[n - 1] : '\0', before = n > 1 ? noun[n - 2] : '\0';
    if (last == 'y' && !strchr("aeiou", before))
        w = snprintf(out, len, "%.*sies", (int)(n - 1), noun);
    else if (last == 's' || last == 'x' || (last == 'h' && (before == 'c' || before == 's')))
        w = snprintf(out, len, "%.*ses", (int)n, noun);
    else
        w = snprintf(out, len, "%.*ss", (int)n, noun);
    return w > 0 && (size_t)w < len ? 0 : -1;
}

int bl_api_command_route_of(const char *type, bl_api_command_route *out)
{
    const char *dot = type ? strchr(type, '.') : NULL;
    if (!dot || dot == type || !dot[1] || strchr(dot + 1, '.'))
        return -1;
    memset(out, 0, sizeof *out);
    if (plural(type, (size_t)(dot - type), out->collection, sizeof out->collection) != 0)
        return -1;
    const char *verb = dot + 1;
    verb_rule rule = {verb, "POST", true, verb};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].verb, verb) == 0)
            rule = rules[i];
    char segment[64];
    int w = snprintf(segment, sizeof segment, "%s", rule.segment ? rule.segment : "");
    if (w < 0 || (size_t)w >= sizeof segment)
        return -1;
    for (char *c = segment; *c; c++)
        if (*c == '_')
            *c = '-';
    out->method = rule.method;
    out->has_id = rule.has_id;
    w = snprintf(out->pattern, sizeof out->pattern, "/v1/%s%s%s%s", out->collection,
                 rule.has_id ? "/:id" : "", segment[0] ? "/" : "", segment);
    return w > 0 && (size_t)w < sizeof out->pattern ? 0 : -1;
}
