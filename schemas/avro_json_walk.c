/* Where a walk is (its JSON path) and how it fails: errors name the path. */
#include "schemas/avro_json_internal.h"

#include <stdarg.h>
#include <stdio.h>

const char *bl_avro_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

size_t bl_avro_path_push(bl_avro_walk *w, const char *fmt, ...)
{
    size_t saved = w->plen;
    if (w->plen < sizeof w->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->path + w->plen, sizeof w->path - w->plen, fmt, ap);
        va_end(ap);
        if (n > 0)
            w->plen += (size_t)n < sizeof w->path - w->plen ? (size_t)n : sizeof w->path - w->plen - 1;
    }
    return saved;
}

void bl_avro_path_pop(bl_avro_walk *w, size_t saved)
{
    w->plen = saved;
    w->path[saved] = '\0';
}

int bl_avro_fail(bl_avro_walk *w, const char *fmt, ...)
{
    char msg[BL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bl_err_set(w->err, BL_EINVAL, "%s: %s", w->path, msg);
}

int bl_avro_expected(bl_avro_walk *w, const char *what, const json_t *v)
{
    return bl_avro_fail(w, "expected %s, got %s", what, bl_avro_json_kind(v));
}

int bl_avro_rc(bl_avro_walk *w, int rc)
{
    return rc == 0 ? 0 : bl_avro_fail(w, "avro: %s", avro_strerror());
}
