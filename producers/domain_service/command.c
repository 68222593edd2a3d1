/* The derived-event list and the permanent/transient split of apply errors,
 * shared by every domain. */
#include "producers/domain_service/command.h"

#include "core/pg_pool.h"

#include <stdlib.h>
#include <string.h>

int bl_domain_events_add(bl_domain_events *ev, const char *type, const char *subject, json_t *data,
                      bl_err *err)
{
    return bl_domain_events_add_timed(ev, type, subject, NULL, NULL, data, err);
}

int bl_domain_events_add_timed(bl_domain_events *ev, const char *type, const char *subject,
                               const char *organization_id, const char *id_seed, json_t *data,
                               bl_err *err)
{
    if (!data)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory building the event", type);
    if (ev->count == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 4;
        bl_domain_event *items = realloc(ev->items, cap * sizeof *items);
        if (!items) {
            json_decref(data);
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        }
        ev->items = items;
        ev->cap = cap;
    }
    bl_domain_event *e = &ev->items[ev->count];
    e->type = strdup(type);
    e->subject = strdup(subject);
    e->data = data;
    e->organization_id = organization_id ? strdup(organization_id) : NULL;
    e->id_seed = id_seed ? strdup(id_seed) : NULL;
    if (!e->type || !e->subject || (organization_id && !e->organization_id) ||
        (id_seed && !e->id_seed)) {
        free(e->type);
        free(e->subject);
        free(e->organization_id);
        free(e->id_seed);
        json_decref(data);
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    }
    ev->count++;
    return 0;
}

void bl_domain_events_clear(bl_domain_events *ev)
{
    for (size_t i = 0; i < ev->count; i++) {
        free(ev->items[i].type);
        free(ev->items[i].subject);
        free(ev->items[i].organization_id);
        free(ev->items[i].id_seed);
        json_decref(ev->items[i].data);
    }
    free(ev->items);
    *ev = (bl_domain_events){0};
}

int bl_domain_error_is_permanent(const bl_err *err, const char **error_class)
{
    const char *cls = "infra";
    int permanent = 0;
    char state[6];
    switch (err->code) {
    case BL_EINVAL:
        cls = "invalid";
        permanent = 1;
        break;
    case BL_ENOTFOUND:
        cls = "not_found";
        permanent = 1;
        break;
    case BL_ECONFLICT:
        cls = "conflict";
        permanent = 1;
        break;
    case BL_EPG:
        /* 22: data exception (bad timestamp text...), 23: constraint violated. */
        if (bl_pg_err_sqlstate(err, state) == 0 && (strncmp(state, "22", 2) == 0 ||
                                                    strncmp(state, "23", 2) == 0)) {
            cls = "invalid";
            permanent = 1;
        }
        break;
    default:
        break;
    }
    if (error_class)
        *error_class = cls;
    return permanent;
}


int bl_domain_dispatch(const char *domain, const bl_domain_aggregate *aggs, size_t n,
                       PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                       bl_err *err)
{
    if (!cmd->type || !cmd->organization_id || !*cmd->organization_id)
        return bl_err_set(err, BL_EINVAL, "%s: command without type or organization_id", domain);
    if (!json_is_object(cmd->data))
        return bl_err_set(err, BL_EINVAL, "%s: %s: data is not an object", domain, cmd->type);
    const char *dot = strchr(cmd->type, '.');
    size_t entity_len = dot ? (size_t)(dot - cmd->type) : 0;
    for (size_t i = 0; dot && i < n; i++) {
        if (strlen(aggs[i].entity) == entity_len &&
            strncmp(aggs[i].entity, cmd->type, entity_len) == 0)
            return aggs[i].apply(conn_in_tx, cmd, dot + 1, out, err);
    }
    return bl_err_set(err, BL_EINVAL, "%s: unknown command type '%s'", domain, cmd->type);
}
