/* An alert rule as /v1/alert-rules takes it (api/alerts/route_alert_rules.c):
 * the JSON body read and checked field by field against what the evaluator
 * can measure (migrations/151_alerts.sql, 180_alert_rules_api.sql). Field
 * names follow document 002's PerformanceAlert/APIAlert: type, threshold,
 * severity, customAPIId; with comparison, window, minCalls, enabled and
 * channels. */
#ifndef BUSLINE_API_ALERTS_RULE_SPEC_H
#define BUSLINE_API_ALERTS_RULE_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#define BL_ALERT_RULE_CHANNELS_MAX 10
#define BL_ALERT_RULE_CHANNEL_LEN_MAX 100
#define BL_ALERT_RULE_WINDOW_MIN 60
#define BL_ALERT_RULE_WINDOW_MAX 86400
#define BL_ALERT_RULE_MIN_CALLS_MAX 1000000

/* The NULL-ended names the API accepts. */
extern const char *const bl_alert_rule_types[];
extern const char *const bl_alert_rule_severities[];
extern const char *const bl_alert_rule_comparisons[];

/* A rule read from a body; strings and channels borrowed from it. */
typedef struct bl_alert_rule_spec {
    const char *type;
    const char *custom_api_id; /* NULL: bus-wide (every custom endpoint of the organization) */
    double threshold;
    const char *comparison;    /* gt, gte, lt, lte; default gt (gte for downtime) */
    const char *severity;
    int window_s;              /* default 300 */
    int min_calls;             /* default 1 */
    bool enabled;              /* default true */
    const json_t *channels;    /* an array of strings; NULL: none */
} bl_alert_rule_spec;

/* Reads body (borrowed; a whole rule: type, threshold and severity are
 * required) into out, adding every problem to problems (field -> [message],
 * core/field_problems.h). Read-only fields a client echoes back (id, scope,
 * isDefault, createdAt, updatedAt) are ignored; any other unknown field is a
 * problem. Returns true when there was none. */
bool bl_alert_rule_read(const json_t *body, bl_alert_rule_spec *out, json_t *problems);

/* Whether v is one of the NULL-ended allowed names. */
bool bl_alert_rule_one_of(const char *v, const char *const *allowed);

#endif
