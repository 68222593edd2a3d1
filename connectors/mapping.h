/* Mapping rules of one integration: which events (type patterns plus
 * payload conditions in consumers/event_filter.h's form, compiled by the
 * transform engine, connectors/transform/expr.h, whose path walk also
 * looks up every placeholder: one engine) trigger which
 * connector action, and the templates of the action's fields:
 *
 *   [{"events": ["risk.escalated"],
 *     "conditions": [{"field":"data.severity","operator":"in","value":["HIGH","CRITICAL"]}],
 *     "action": "create_issue",
 *     "template": {"summary": "[{data.project_name}] {data.title}",
 *                  "description": "{data.description}"}}]
 *
 * Placeholders: {path} where path is a dot path into the event JSON
 * ({id}, {type}, {time}, {source}, {subject}, {organization_id},
 * {data.title}, {data.tags.0}); a bare name that is not an envelope field
 * is a data field, camelCase accepted for snake_case ({eventName} =
 * data.event_name, {attendanceRate} = data.attendance_rate). "{{" and "}}"
 * are literal braces. Everything is checked when rules are saved (compiled):
 * unbalanced braces, empty or malformed placeholders, unknown roots, unknown
 * actions and fields, missing required fields. */
#ifndef BUSLINE_CONNECTORS_MAPPING_H
#define BUSLINE_CONNECTORS_MAPPING_H

#include "busline/connector.h"
#include "core/err.h"
#include "schemas/catalog.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BL_MAPPING_MAX_RULES 64
#define BL_TEMPLATE_MAX 8192           /* longest template text */
#define BL_TEMPLATE_OUTPUT_MAX (64 * 1024) /* longest rendered value */

/* Says whether name (a data field, snake_case) exists in some event type
 * matching one of patterns[0..n). */
typedef bool (*bl_mapping_field_known_fn)(const char *const *patterns, size_t n, const char *name,
                                          void *ctx);

/* A bl_mapping_field_known_fn over a loaded catalog (ctx: const bl_catalog *):
 * true when a matching event record has that field. */
bool bl_mapping_catalog_field_known(const char *const *patterns, size_t n, const char *name,
                                    void *ctx);

/* Checks one template: braces balanced, placeholders well formed, roots
 * known (data fields through known; NULL known accepts any data field).
 * Errors give the byte offset: "unbalanced '{' at 4". Returns 0 or -1
 * (BL_EINVAL). */
int bl_template_check(const char *tmpl, const char *const *patterns, size_t n_patterns,
                      bl_mapping_field_known_fn known, void *known_ctx, bl_err *err);

/* Renders tmpl for event (borrowed), escaping every substituted value per
 * escape (a bl_connector_escape); literal text is kept. A missing or null
 * value renders as "", strings as they are, numbers and booleans as JSON
 * text, objects and arrays as compact JSON. Returns a malloc'd string, or
 * NULL with err (bad template, output over BL_TEMPLATE_OUTPUT_MAX). */
char *bl_template_render(const char *tmpl, const json_t *event, int escape, bl_err *err);

/* Appends value escaped per escape to nothing: returns a malloc'd copy, or
 * NULL when out of memory. For connectors that build text themselves. */
char *bl_escape_text(const char *value, int escape);

typedef struct bl_mapping bl_mapping;

/* Validates and compiles rules (a JSON array, borrowed) for the connector
 * described by table (borrowed; must outlive the mapping). known may be
 * NULL. Errors name the rule: "rule 2: template.summary: unknown
 * placeholder root \"titel\" at 1". Returns the mapping (free with
 * bl_mapping_free) or NULL with err (BL_EINVAL). */
bl_mapping *bl_mapping_new(const json_t *rules, const bl_connector_table *table,
                           bl_mapping_field_known_fn known, void *known_ctx, bl_err *err);

void bl_mapping_free(bl_mapping *m);

size_t bl_mapping_rule_count(const bl_mapping *m);

/* The index of the first rule at or after from that matches (type, event),
 * or -1. */
int bl_mapping_match(const bl_mapping *m, size_t from, const char *type, const json_t *event);

/* The action of rule i (borrowed). */
const char *bl_mapping_action(const bl_mapping *m, size_t i);

/* Rule i rendered for one event: names borrowed from the mapping, values
 * owned (free with bl_mapping_rendered_clear). */
typedef struct bl_mapping_rendered {
    bl_connector_field_value *fields;
    size_t n;
} bl_mapping_rendered;

/* Renders every template field of rule i for event with the field's escape.
 * Returns 0, or -1 with err. */
int bl_mapping_render(const bl_mapping *m, size_t i, const json_t *event, bl_mapping_rendered *out,
                      bl_err *err);

void bl_mapping_rendered_clear(bl_mapping_rendered *r);

#endif
