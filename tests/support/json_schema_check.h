/* JSON Schema validation for tests by an implementation independent of
 * busline: tests/tools/json_schema_check.py (Python's jsonschema, draft
 * 2020-12, formats checked). */
#ifndef BUSLINE_TEST_JSON_SCHEMA_CHECK_H
#define BUSLINE_TEST_JSON_SCHEMA_CHECK_H

#include <jansson.h>
#include <stddef.h>

#define BL_TEST_VERDICT_MAX 320

/* Validates each case of cases ([{"schema", "instance"}], borrowed);
 * verdicts[i] gets "valid" or "invalid <first error>" for case i, at most
 * max lines. Returns the number of verdicts (fewer than the cases when the
 * validator failed: it printed why). */
size_t bl_test_json_schema_check(const json_t *cases, char verdicts[][BL_TEST_VERDICT_MAX], size_t max);

#endif
