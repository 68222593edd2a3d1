/* Which events an endpoint receives: its event-type patterns ("risk.escalated",
 * "risk.*", "*") and conditions on payload fields, e.g.
 *   [{"field":"data.severity","operator":"in","value":["high","critical"]}]
 * All conditions must hold. Conditions are validated when an endpoint is
 * saved, so matching never meets a malformed one. */
#ifndef BUSLINE_CONSUMERS_EVENT_FILTER_H
#define BUSLINE_CONSUMERS_EVENT_FILTER_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>

#define BL_EVENT_TYPE_MAX 128      /* longest event type or pattern */
#define BL_EVENT_FILTER_MAX_CONDITIONS 32
#define BL_EVENT_FIELD_PATH_MAX 256 /* longest dot path */
#define BL_EVENT_FIELD_DEPTH_MAX 16 /* most segments in a dot path */

/* Checks an event-type pattern: "*", a type of [A-Za-z0-9_-] segments joined
 * by '.', or such a prefix followed by ".*". Returns 0, or -1 with BL_EINVAL. */
int bl_event_type_pattern_check(const char *pattern, bl_err *err);

/* True when type matches pattern: "*" matches every type, "risk.*" every type
 * under "risk." at any depth (not "risk" itself), anything else only the
 * exact type. Case-sensitive. */
bool bl_event_type_matches(const char *pattern, const char *type);

/* Looks up a dot path ("data.owner.id"; a numeric segment indexes an array,
 * "data.tags.0") in a JSON value. Returns the borrowed value or NULL. */
const json_t *bl_event_field_lookup(const json_t *event, const char *path);

typedef struct bl_event_filter bl_event_filter;

/* Validates a conditions array and compiles it. Each element is an object
 * {"field": dot path, "operator": one of equals, not_equals, in, gt, lt,
 * contains, exists, "value": ...}; "in" needs an array, "gt"/"lt" a number or
 * a string, "contains" a scalar, "exists" true or false, "equals"/"not_equals"
 * any JSON value. NULL or an empty array gives a filter that matches every
 * event. Errors name the condition: "condition 2: unknown operator \"like\"".
 * Returns a filter the caller frees with bl_event_filter_free (it keeps its
 * own reference to conditions), or NULL with err filled (BL_EINVAL). */
bl_event_filter *bl_event_filter_new(const json_t *conditions, bl_err *err);

/* bl_event_filter_new of JSON text (e.g. a request body field or a database
 * column). Parse errors give line and column. */
bl_event_filter *bl_event_filter_parse(const char *json_text, bl_err *err);

/* Frees the filter. Accepts NULL. */
void bl_event_filter_free(bl_event_filter *f);

/* True when every condition holds for event (borrowed). Comparisons:
 * numbers compare as numbers, and a string that is entirely a decimal number
 * compares as that number against a numeric value ("5" equals 5); strings
 * compare byte-wise; "gt"/"lt" with a string value compare strings (so
 * RFC 3339 times order correctly). "contains" is substring on a string field
 * and membership on an array field. A missing field satisfies only
 * "not_equals" and "exists": false; a null field counts as absent for
 * "exists" and equals only null. A NULL filter matches every event. */
bool bl_event_filter_matches(const bl_event_filter *f, const json_t *event);

/* --- the operators alone, for other condition forms (the transform engine's
 * expressions, connectors/transform) so that both mean the same --- */

/* The index of operator name (equals 0, not_equals, in, gt, lt, contains,
 * exists 6), or -1. */
int bl_event_condition_op(const char *name);

/* True when condition (op, value) holds for field, the value found at the
 * condition's path (NULL when absent), with the semantics above. op from
 * bl_event_condition_op; value checked as bl_event_filter_new checks it. */
bool bl_event_condition_holds(int op, const json_t *field, const json_t *value);

/* equals of two present values, as the conditions compare them. */
bool bl_event_values_equal(const json_t *a, const json_t *b);

/* Orders a against b as gt/lt do (b a number: a number or a numeric string;
 * b a string: a string). Returns true with *sign (-1, 0, 1) when they
 * compare, false when they do not. */
bool bl_event_values_order(const json_t *a, const json_t *b, int *sign);

/* contains: substring of a string haystack, or membership in an array. */
bool bl_event_value_contains(const json_t *haystack, const json_t *needle);

#endif
