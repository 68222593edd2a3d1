/* The reader schema cut to what a writer schema can fill, so avro-c's
 * resolver accepts it. */
#include "schemas/avro_json_internal.h"

#include <string.h>

static int same_kind(avro_schema_t a, avro_schema_t b)
{
    a = bl_avro_target(a);
    b = bl_avro_target(b);
    if (avro_typeof(a) != avro_typeof(b))
        return 0;
    return !bl_avro_is_named(a) || !strcmp(avro_schema_name(a), avro_schema_name(b));
}

typedef struct project {
    bl_avro_schema copy; /* schema borrowed from the reader; json is the copy being cut */
    json_t *done;        /* full names of records already cut */
    int changed;
    bl_err *err;
} project;

/* avro-c's resolver copies enum indexes across unchanged, so when the symbol
 * lists differ we read with the writer's list and map by symbol later. */
static int project_enum(project *pj, avro_schema_t rs, json_t *rj, avro_schema_t ws)
{
    int n = avro_schema_enum_number_of_symbols(ws), same = n == avro_schema_enum_number_of_symbols(rs);
    for (int i = 0; same && i < n; i++)
        same = !strcmp(avro_schema_enum_get(rs, i), avro_schema_enum_get(ws, i));
    if (same)
        return 0;
    json_t *symbols = json_array();
    for (int i = 0; symbols && i < n; i++)
        json_array_append_new(symbols, json_string(avro_schema_enum_get(ws, i)));
    if (!symbols || json_object_set_new(rj, "symbols", symbols) != 0)
        return bl_err_set(pj->err, BL_ENOMEM, "avro: out of memory");
    json_object_del(rj, "default");
    pj->changed = 1;
    return 0;
}

static int project_walk(project *pj, avro_schema_t rs, json_t *rj, avro_schema_t ws)
{
    rs = bl_avro_target(rs);
    ws = bl_avro_target(ws);
    rj = (json_t *)bl_avro_node_of(&pj->copy, rs, rj);
    if (is_avro_union(rs)) {
        for (size_t i = 0; i < avro_schema_union_size(rs); i++) {
            avro_schema_t rb = avro_schema_union_branch(rs, i);
            size_t wn = is_avro_union(ws) ? avro_schema_union_size(ws) : 1;
            for (size_t k = 0; k < wn; k++) {
                avro_schema_t wb = is_avro_union(ws) ? avro_schema_union_branch(ws, k) : ws;
                if (same_kind(rb, wb) && project_walk(pj, rb, json_array_get(rj, i), wb) != 0)
                    return -1;
            }
        }
        return 0;
    }
    if (is_avro_union(ws)) {
        for (size_t k = 0; k < avro_schema_union_size(ws); k++) {
            avro_schema_t wb = avro_schema_union_branch(ws, k);
            if (same_kind(rs, wb) && project_walk(pj, rs, rj, wb) != 0)
                return -1;
        }
        return 0;
    }
    if (is_avro_array(rs) && is_avro_array(ws))
        return project_walk(pj, avro_schema_array_items(rs), json_object_get(rj, "items"),
                            avro_schema_array_items(ws));
    if (is_avro_map(rs) && is_avro_map(ws))
        return project_walk(pj, avro_schema_map_values(rs), json_object_get(rj, "values"),
                            avro_schema_map_values(ws));
    if (is_avro_enum(rs) && is_avro_enum(ws))
        return project_enum(pj, rs, rj, ws);
    if (!is_avro_record(rs) || !is_avro_record(ws))
        return 0;
    char full[512];
    bl_avro_full_name(rs, full, sizeof full);
    if (json_object_get(pj->done, full))
        return 0; /* a second reference to a record already cut */
    json_object_set_new(pj->done, full, json_true());
    json_t *fields = json_object_get(rj, "fields");
    /* backwards, so removing field i keeps the earlier indexes aligned with rs */
    for (size_t i = avro_schema_record_size(rs); i-- > 0;) {
        const char *name = avro_schema_record_field_name(rs, (int)i);
        json_t *fj = json_array_get(fields, i);
        int widx = avro_schema_record_field_get_index(ws, name);
        if (widx < 0) {
            if (!json_object_get(fj, "default"))
                return bl_err_set(pj->err, BL_EINVAL,
                                  "avro: reader field %s.%s is not in the writer schema and has no default",
                                  full, name);
            json_array_remove(fields, i);
            pj->changed = 1;
        } else if (project_walk(pj, avro_schema_record_field_get_by_index(rs, (int)i),
                                json_object_get(fj, "type"),
                                avro_schema_record_field_get_by_index(ws, widx)) != 0) {
            return -1;
        }
    }
    return 0;
}

char *bl_avro_schema_project(const bl_avro_schema *reader, avro_schema_t writer, int *changed, bl_err *err)
{
    char *text = NULL;
    project pj = {.err = err};
    pj.copy.schema = reader->schema;
    pj.copy.json = json_deep_copy(reader->json);
    pj.copy.named = json_object();
    pj.done = json_object();
    if (!pj.copy.json || !pj.copy.named || !pj.done) {
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
        goto done;
    }
    bl_avro_index_named(pj.copy.json, "", pj.copy.named);
    if (project_walk(&pj, reader->schema, pj.copy.json, writer) != 0)
        goto done;
    text = json_dumps(pj.copy.json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        bl_err_set(err, BL_ENOMEM, "avro: out of memory");
    *changed = pj.changed;
done:
    json_decref(pj.copy.json);
    json_decref(pj.copy.named);
    json_decref(pj.done);
    return text;
}
