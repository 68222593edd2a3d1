/* Field problems of a refused input (see field_problems.h). */
#include "core/field_problems.h"

#include <stdio.h>

void bl_field_problem_v(json_t *problems, const char *field, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    json_t *list = json_object_get(problems, field);
    if (!list) {
        list = json_array();
        if (json_object_set_new(problems, field, list) != 0)
            return;
    }
    json_array_append_new(list, json_string(msg));
}

void bl_field_problem(json_t *problems, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bl_field_problem_v(problems, field, fmt, ap);
    va_end(ap);
}
