/* The shapes of the Powalyze document's answers (../shared/seeds/
 * 000_dad3de8e38ff2b0c.txt), checked field by field for the /v1 tests. */
#ifndef BUSLINE_TEST_V1_SHAPES_H
#define BUSLINE_TEST_V1_SHAPES_H

#include "tests/support/api_fixture.h"

#include <jansson.h>

typedef enum { T_STRING, T_NUMBER, T_INTEGER, T_BOOL, T_ARRAY, T_OBJECT, T_STRING_OR_NULL,
               T_INTEGER_OR_NULL } jtype;

/* Checks that o has field of type t; a miss is named on stderr and counted
 * as a test failure. */
void bl_v1_has(const json_t *o, const char *field, jtype t);

/* The document's success envelope of a list: data array + pagination with
 * want_limit and want_offset. */
void bl_v1_check_page(const json_t *j, long want_limit, long want_offset);

/* The document's error envelope {"error":{code,message}} with code. */
void bl_v1_check_error(const bl_test_reply *r, const char *code);

/* Seeds project id of api's organisation straight into pmo_projects
 * (status rag, owner u-1, progress 45, EUR); a failure counts as a test
 * failure. */
void bl_v1_insert_project(bl_test_api *api, const char *id, const char *name, const char *rag,
                          long budget_cents, long spent_cents);

#endif
