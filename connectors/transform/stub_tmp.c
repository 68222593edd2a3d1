/* Interim: the surface compiles; the engine lands in the next commits. */
#include "connectors/transform/expr.h"
#include "connectors/transform/json_schema.h"
#include "connectors/transform/transform.h"

#include "consumers/event_filter.h"

#include <string.h>

static int todo(bl_err *err) { return bl_err_set(err, BL_EINVAL, "transform: not built yet"); }
bl_transform *bl_transform_compile(const json_t *rule, bl_err *err) { (void)rule; todo(err); return NULL; }
void bl_transform_free(bl_transform *t) { (void)t; }
const char *bl_transform_id(const bl_transform *t) { (void)t; return ""; }
const char *bl_transform_name(const bl_transform *t) { (void)t; return ""; }
const char *bl_transform_type(const bl_transform *t) { (void)t; return ""; }
json_t *bl_transform_apply(const bl_transform *t, const json_t *input, bl_err *err) { return bl_transform_apply_ex(t, input, NULL, NULL, err); }
json_t *bl_transform_apply_ex(const bl_transform *t, const json_t *input, const bl_transform_ctx *ctx, json_t **problems, bl_err *err)
{ (void)t; (void)input; (void)ctx; if (problems) *problems = NULL; todo(err); return NULL; }
int bl_transform_run_tests(const bl_transform *t, json_t **failures) { (void)t; if (failures) *failures = NULL; return -1; }
size_t bl_transform_test_count(const bl_transform *t) { (void)t; return 0; }
bl_transform_chain *bl_transform_chain_compile(const json_t *rules, bl_err *err) { (void)rules; todo(err); return NULL; }
void bl_transform_chain_free(bl_transform_chain *c) { (void)c; }
size_t bl_transform_chain_count(const bl_transform_chain *c) { (void)c; return 0; }
const bl_transform *bl_transform_chain_at(const bl_transform_chain *c, size_t i) { (void)c; (void)i; return NULL; }
const bl_transform *bl_transform_chain_find(const bl_transform_chain *c, const char *id) { (void)c; (void)id; return NULL; }
json_t *bl_transform_chain_apply(const bl_transform_chain *c, const json_t *input, const bl_transform_ctx *ctx, json_t **problems, bl_err *err)
{ (void)c; (void)input; (void)ctx; if (problems) *problems = NULL; todo(err); return NULL; }
int bl_transform_chain_run_tests(const bl_transform_chain *c, json_t **failures) { (void)c; if (failures) *failures = NULL; return -1; }
bl_tx_expr *bl_tx_expr_compile(const char *src, bl_err *err) { (void)src; todo(err); return NULL; }
void bl_tx_expr_free(bl_tx_expr *e) { (void)e; }
const char *bl_tx_expr_source(const bl_tx_expr *e) { (void)e; return ""; }
bool bl_tx_expr_is_path(const bl_tx_expr *e) { (void)e; return false; }
int bl_tx_expr_eval(const bl_tx_expr *e, const bl_tx_scope *scope, json_t **out, bl_err *err) { (void)e; (void)scope; *out = NULL; return todo(err); }
int bl_tx_expr_test(const bl_tx_expr *e, const bl_tx_scope *scope, bool *out, bl_err *err) { (void)e; (void)scope; *out = false; return todo(err); }
const json_t *bl_tx_path_lookup(const json_t *root, const char *path, size_t len)
{ char p[BL_EVENT_FIELD_PATH_MAX + 1]; if (len > BL_EVENT_FIELD_PATH_MAX) return NULL; memcpy(p, path, len); p[len] = 0; return bl_event_field_lookup(root, p); }
int bl_tx_path_set(const bl_tx_expr *target, json_t **doc, json_t *value, bl_err *err) { (void)target; (void)doc; json_decref(value); return todo(err); }
int bl_tx_path_delete(const bl_tx_expr *target, json_t *doc, bl_err *err) { (void)target; (void)doc; return todo(err); }
bl_tx_expr *bl_tx_expr_from_conditions(const json_t *conditions, bl_err *err) { (void)conditions; todo(err); return NULL; }
bl_json_schema *bl_json_schema_compile(const json_t *schema, bl_err *err) { (void)schema; todo(err); return NULL; }
void bl_json_schema_free(bl_json_schema *s) { (void)s; }
json_t *bl_json_schema_validate(const bl_json_schema *s, const json_t *instance) { (void)s; (void)instance; return json_array(); }
int bl_json_schema_problems_err(const json_t *problems, const char *what, bl_err *err) { (void)problems; return bl_err_set(err, BL_EINVAL, "%s: invalid", what); }
