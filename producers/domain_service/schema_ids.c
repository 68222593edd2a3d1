#include "producers/domain_service/schema_ids.h"

#include "producers/domain_service/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_domain_schema_ids {
    const bl_catalog *cat;
    size_t count;
    int32_t *ids;    /* ids[i]: id of bl_catalog_topic_at(cat, i); 0 outside the domain */
    char **deployed; /* deployed[i]: its deployed name; NULL outside the domain */
};

/* Registers topic i under its deployed name. */
static int register_topic(bl_domain_schema_ids *ids, size_t i, bl_registry_client *rc,
                          const char *commands_topic, const char *events_prefix, bl_err *err)
{
    const bl_catalog_topic *t = bl_catalog_topic_at(ids->cat, i);
    char name[256], subject[sizeof name + 8];
    int n = t->kind == BL_MSG_COMMAND && commands_topic
                ? snprintf(name, sizeof name, "%s", commands_topic)
                : snprintf(name, sizeof name, "%s%s", t->kind == BL_MSG_EVENT && events_prefix ? events_prefix : "",
                           t->name);
    if (n < 0 || (size_t)n >= sizeof name)
        return bl_err_set(err, BL_EINVAL, "schema ids: topic name for %s too long", t->name);
    snprintf(subject, sizeof subject, "%s-value", name);
    int id = 0;
    if (bl_registry_client_register(rc, subject, t->schema_json, &id, err) != 0)
        return bl_err_wrap(err, "schema ids: register %s", subject);
    if (!(ids->deployed[i] = strdup(name)))
        return bl_err_set(err, BL_ENOMEM, "schema ids: out of memory");
    ids->ids[i] = id;
    return 0;
}

bl_domain_schema_ids *bl_domain_schema_ids_new(const bl_catalog *cat, bl_registry_client *rc, const char *domain,
                                         const char *commands_topic, const char *events_prefix,
                                         bl_err *err)
{
    bl_domain_schema_ids *ids = calloc(1, sizeof *ids);
    size_t n = bl_catalog_topic_count(cat);
    if (!ids || !(ids->ids = calloc(n + 1, sizeof *ids->ids)) ||
        !(ids->deployed = calloc(n + 1, sizeof *ids->deployed))) {
        bl_domain_schema_ids_free(ids);
        bl_err_set(err, BL_ENOMEM, "schema ids: out of memory");
        return NULL;
    }
    ids->cat = cat;
    ids->count = n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(bl_catalog_topic_at(cat, i)->domain, domain) == 0 &&
            register_topic(ids, i, rc, commands_topic, events_prefix, err) != 0) {
            bl_domain_schema_ids_free(ids);
            return NULL;
        }
    }
    return ids;
}

void bl_domain_schema_ids_free(bl_domain_schema_ids *ids)
{
    if (!ids)
        return;
    for (size_t i = 0; ids->deployed && i < ids->count; i++)
        free(ids->deployed[i]);
    free(ids->deployed);
    free(ids->ids);
    free(ids);
}

int bl_domain_schema_ids_get(const bl_domain_schema_ids *ids, const char *topic, int32_t *id,
                          const char **deployed, bl_err *err)
{
    for (size_t i = 0; i < ids->count; i++) {
        if (ids->deployed[i] && strcmp(bl_catalog_topic_at(ids->cat, i)->name, topic) == 0) {
            *id = ids->ids[i];
            if (deployed)
                *deployed = ids->deployed[i];
            return 0;
        }
    }
    return bl_err_set(err, BL_ENOTFOUND, "schema ids: no schema for topic %s", topic);
}
