/* The engine's expression language (connectors/transform/README.md): paths
 * into the input ($ the root, @ the current item: $.a.b, $.tags[0],
 * $['odd key'], $.items[*].price), literals ('text', "text", 12, 1.5, true,
 * false, null, [1, 2]), comparisons (== != < <= > >=, in, contains),
 * boolean (&& || !), arithmetic (+ - * / %), cond ? a : b, and the functions
 * length lower upper concat coalesce round exists now. It reads only the
 * values it is given: no host access, bounded depth, bounded output.
 * Compile errors carry the byte offset: "at offset 7: expected ')'". */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_EXPR_H
#define BUSLINE_CONNECTORS_TRANSFORM_EXPR_H

#include "connectors/transform/transform.h"
#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BL_TX_EXPR_MAX 4096          /* longest expression text, bytes */
#define BL_TX_EXPR_DEPTH_MAX 64      /* deepest nesting of the parsed tree */
#define BL_TX_PATH_SEGMENTS_MAX 32   /* most segments in one path */
#define BL_TX_VALUE_ITEMS_MAX 10000  /* most elements a value may gather */
#define BL_TX_STRING_MAX (64 * 1024) /* longest string a value may build */

typedef struct bl_tx_expr bl_tx_expr;

/* What an evaluation sees: root is $, current is @ (NULL: @ is $), ctx as in
 * bl_transform_ctx (may be NULL). All borrowed for the call. */
typedef struct bl_tx_scope {
    const json_t *root;
    const json_t *current;
    const bl_transform_ctx *ctx;
} bl_tx_scope;

/* Parses src (NUL-terminated). Returns the expression (free with
 * bl_tx_expr_free) or NULL with err (BL_EINVAL): "at offset 4: unknown
 * function \"upcase\"". */
bl_tx_expr *bl_tx_expr_compile(const char *src, bl_err *err);

void bl_tx_expr_free(bl_tx_expr *e);

/* The text e was compiled from (borrowed). */
const char *bl_tx_expr_source(const bl_tx_expr *e);

/* True when e is a path alone ($..., @...), i.e. usable as a target. */
bool bl_tx_expr_is_path(const bl_tx_expr *e);

/* Evaluates e. Returns 0 with *out a new reference, or *out NULL when the
 * value is missing (a path that leads nowhere); -1 with err on a runtime
 * error ("at offset 3: '+' needs numbers, got string") or a bound passed. */
int bl_tx_expr_eval(const bl_tx_expr *e, const bl_tx_scope *scope, json_t **out, bl_err *err);

/* Evaluates e as a condition: true only for JSON true; false for false, null
 * and missing; any other value is an error ("condition gave a number, not a
 * boolean"). Returns 0 with *out, or -1 with err. */
int bl_tx_expr_test(const bl_tx_expr *e, const bl_tx_scope *scope, bool *out, bl_err *err);

/* --- paths --- */

/* Looks up a dot path ("data.owner.id"; a segment of digits indexes an
 * array, "data.tags.0"), the first len bytes of path, in root (borrowed).
 * The engine's path walk, the same semantics as bl_event_field_lookup.
 * Returns the borrowed value or NULL. */
const json_t *bl_tx_path_lookup(const json_t *root, const char *path, size_t len);

/* Checks that target can be written: a path from $ without a wildcard.
 * Returns 0, or -1 with err ("target: a wildcard [*] names no single place"). */
int bl_tx_target_check(const bl_tx_expr *target, bl_err *err);

/* Sets the value at target (a path expression: $.a.b, $.list[2], $['k'])
 * inside *doc to value (stolen), creating objects along the way; a target of
 * $ alone replaces *doc. Returns 0 or -1 with err ("target $.a.b: $.a is a
 * string, not an object"). */
int bl_tx_path_set(const bl_tx_expr *target, json_t **doc, json_t *value, bl_err *err);

/* Removes the value at target inside doc (nothing when absent). Returns 0,
 * or -1 with err when target is $ alone or has a wildcard. */
int bl_tx_path_delete(const bl_tx_expr *target, json_t *doc, bl_err *err);

/* --- conditions in the event-filter form --- */

/* Compiles a conditions array of consumers/event_filter.h's form
 * ([{"field","operator","value"}], all must hold; NULL or [] always holds)
 * into one expression of the language with the same meaning; validation and
 * its messages are event_filter's ("condition 2: unknown operator"). The
 * expression's paths start at root ($.data.severity). Returns the
 * expression or NULL with err. */
bl_tx_expr *bl_tx_expr_from_conditions(const json_t *conditions, bl_err *err);

#endif
