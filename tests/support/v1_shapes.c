#include "tests/support/v1_shapes.h"

#include "tests/support/test.h"

#include <stdio.h>

/* Checks that o has field of type t; names the miss on stderr. */
void bl_v1_has(const json_t *o, const char *field, jtype t)
{
    const json_t *v = json_object_get(o, field);
    bool ok = false;
    switch (t) {
    case T_STRING: ok = json_is_string(v); break;
    case T_NUMBER: ok = json_is_number(v); break;
    case T_INTEGER: ok = json_is_integer(v); break;
    case T_BOOL: ok = json_is_boolean(v); break;
    case T_ARRAY: ok = json_is_array(v); break;
    case T_OBJECT: ok = json_is_object(v); break;
    case T_STRING_OR_NULL: ok = json_is_string(v) || json_is_null(v); break;
    case T_INTEGER_OR_NULL: ok = json_is_integer(v) || json_is_null(v); break;
    }
    if (!ok) {
        fprintf(stderr, "  field \"%s\" missing or of the wrong type\n", field);
        bl_test_failures++;
    }
}

/* The document's success envelope of a list: data array + pagination. */
void bl_v1_check_page(const json_t *j, long want_limit, long want_offset)
{
    bl_v1_has(j, "data", T_ARRAY);
    const json_t *p = json_object_get(j, "pagination");
    bl_v1_has(j, "pagination", T_OBJECT);
    bl_v1_has(p, "total", T_INTEGER);
    bl_v1_has(p, "limit", T_INTEGER);
    bl_v1_has(p, "offset", T_INTEGER);
    bl_v1_has(p, "has_more", T_BOOL);
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "limit")), want_limit);
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "offset")), want_offset);
}

/* The document's error envelope with code. */
void bl_v1_check_error(const bl_test_reply *r, const char *code)
{
    const json_t *e = json_object_get(r->json, "error");
    bl_v1_has(r->json, "error", T_OBJECT);
    bl_v1_has(e, "code", T_STRING);
    bl_v1_has(e, "message", T_STRING);
    CHECK_EQ_STR(json_string_value(json_object_get(e, "code")) ?: "", code);
}

void bl_v1_insert_project(bl_test_api *api, const char *id, const char *name, const char *rag,
                          long budget_cents, long spent_cents)
{
    char budget[24], spent[24];
    snprintf(budget, sizeof budget, "%ld", budget_cents);
    snprintf(spent, sizeof spent, "%ld", spent_cents);
    const char *p[] = {api->org, id, name, rag, budget, spent};
    CHECK(bl_test_sql(api->pool,
                      "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id, status, progress,"
                      " budget_cents, spent_cents, currency) VALUES ($1, $2, $3, 'u-1', $4, 45, $5, $6, 'EUR')",
                      6, p) == 0);
}
