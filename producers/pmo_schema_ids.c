/* TEMPORARY registry-free schema ids; see pmo_schema_ids.h. */
#include "producers/pmo_schema_ids.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bl_pmo_schema_ids {
    const bl_catalog *cat;
    size_t count;
    int32_t *ids; /* ids[i] is the id of bl_catalog_topic_at(cat, i) */
};

static int topic_index(const bl_catalog *cat, const char *name, size_t name_len, size_t *out)
{
    for (size_t i = 0; i < bl_catalog_topic_count(cat); i++) {
        const char *t = bl_catalog_topic_at(cat, i)->name;
        if (strlen(t) == name_len && strncmp(t, name, name_len) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* Applies one "topic=id" entry of len bytes. */
static int apply_entry(bl_pmo_schema_ids *ids, const char *entry, size_t len, bl_err *err)
{
    const char *eq = memchr(entry, '=', len);
    size_t idx;
    if (!eq || topic_index(ids->cat, entry, (size_t)(eq - entry), &idx) != 0)
        return bl_err_set(err, BL_EINVAL, "pmo: schema ids: '%.*s' is not <catalog topic>=<id>",
                          (int)len, entry);
    char digits[16];
    size_t dlen = len - (size_t)(eq + 1 - entry);
    if (dlen == 0 || dlen >= sizeof digits)
        return bl_err_set(err, BL_EINVAL, "pmo: schema ids: bad id in '%.*s'", (int)len, entry);
    memcpy(digits, eq + 1, dlen);
    digits[dlen] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol(digits, &end, 10);
    if (errno || *end || v <= 0 || v > INT32_MAX)
        return bl_err_set(err, BL_EINVAL, "pmo: schema ids: bad id in '%.*s'", (int)len, entry);
    ids->ids[idx] = (int32_t)v;
    return 0;
}

bl_pmo_schema_ids *bl_pmo_schema_ids_new(const bl_catalog *cat, const char *map, bl_err *err)
{
    bl_pmo_schema_ids *ids = calloc(1, sizeof *ids);
    size_t n = bl_catalog_topic_count(cat);
    if (!ids || !(ids->ids = calloc(n ? n : 1, sizeof *ids->ids))) {
        free(ids);
        bl_err_set(err, BL_ENOMEM, "pmo: out of memory");
        return NULL;
    }
    ids->cat = cat;
    ids->count = n;
    for (size_t i = 0; i < n; i++)
        ids->ids[i] = (int32_t)(i + 1);
    for (const char *p = map; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len > 0 && apply_entry(ids, p, len, err) != 0)
            goto fail;
        p += len + (p[len] == ',');
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (ids->ids[i] == ids->ids[k]) {
                bl_err_set(err, BL_EINVAL, "pmo: schema ids: id %d given to %s and %s",
                           (int)ids->ids[i], bl_catalog_topic_at(cat, i)->name,
                           bl_catalog_topic_at(cat, k)->name);
                goto fail;
            }
    return ids;
fail:
    bl_pmo_schema_ids_free(ids);
    return NULL;
}

void bl_pmo_schema_ids_free(bl_pmo_schema_ids *ids)
{
    if (!ids)
        return;
    free(ids->ids);
    free(ids);
}

int bl_pmo_schema_ids_get(const bl_pmo_schema_ids *ids, const char *topic, int32_t *id, bl_err *err)
{
    size_t idx;
    if (topic_index(ids->cat, topic, strlen(topic), &idx) != 0)
        return bl_err_set(err, BL_ENOTFOUND, "pmo: no schema for topic %s", topic);
    *id = ids->ids[idx];
    return 0;
}

char *bl_pmo_schema_ids_fetch(void *ctx, int32_t id, bl_err *err)
{
    const bl_pmo_schema_ids *ids = ctx;
    for (size_t i = 0; i < ids->count; i++) {
        if (ids->ids[i] != id)
            continue;
        char *text = strdup(bl_catalog_topic_at(ids->cat, i)->schema_json);
        if (!text)
            bl_err_set(err, BL_ENOMEM, "pmo: out of memory");
        return text;
    }
    bl_err_set(err, BL_ENOTFOUND, "pmo: schema id %d unknown", (int)id);
    return NULL;
}
