/* Test-case failures as the sentences people read in a 422 (see
 * bl_transform_failure_text). */
#include "connectors/transform/transform.h"

#include <stdio.h>
#include <stdlib.h>

void bl_transform_failure_text(const json_t *failure, char *out, size_t len)
{
    const char *name = json_string_value(json_object_get(failure, "name"));
    const char *error = json_string_value(json_object_get(failure, "error"));
    if (error) {
        snprintf(out, len, "test case \"%s\" failed: %s", name ? name : "", error);
        return;
    }
    char *expected = json_dumps(json_object_get(failure, "expected"), JSON_COMPACT | JSON_ENCODE_ANY);
    char *actual = json_dumps(json_object_get(failure, "actual"), JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(out, len, "test case \"%s\" failed: expected %.150s, got %.150s", name ? name : "",
             expected ? expected : "?", actual ? actual : "?");
    free(expected);
    free(actual);
}
