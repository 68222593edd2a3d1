/* Dispatch of field-service commands to their aggregate, and the address
 * helpers both aggregates use. */
#include "producers/fieldservice/internal.h"

#include <string.h>

const bl_domain_rules bl_fieldservice_rules = {
    .domain = BL_FIELDSERVICE_DOMAIN,
    .processed_table = "fieldservice_processed_commands",
    .apply = bl_fieldservice_apply,
};

typedef int (*apply_fn)(PGconn *, const bl_domain_command *, const char *, bl_domain_events *,
                        bl_err *);

static const struct {
    const char *entity;
    apply_fn apply;
} aggregates[] = {
    {"client", fs_apply_client},
    {"intervention", fs_apply_intervention},
};

int bl_fieldservice_apply(PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                          bl_err *err)
{
    if (!cmd->type || !cmd->organization_id || !*cmd->organization_id)
        return bl_err_set(err, BL_EINVAL, "fieldservice: command without type or organization_id");
    if (!json_is_object(cmd->data))
        return bl_err_set(err, BL_EINVAL, "fieldservice: %s: data is not an object", cmd->type);
    const char *dot = strchr(cmd->type, '.');
    size_t entity_len = dot ? (size_t)(dot - cmd->type) : 0;
    for (size_t i = 0; dot && i < sizeof aggregates / sizeof aggregates[0]; i++) {
        if (strlen(aggregates[i].entity) == entity_len &&
            strncmp(aggregates[i].entity, cmd->type, entity_len) == 0)
            return aggregates[i].apply(conn_in_tx, cmd, dot + 1, out, err);
    }
    return bl_err_set(err, BL_EINVAL, "fieldservice: unknown command type '%s'", cmd->type);
}

static const char *const address_parts[4] = {"street", "postal_code", "city", "country"};

int fs_get_address(const bl_domain_command *c, const char *field, bool required,
                   const char *out[4], bl_err *err)
{
    json_t *v = json_object_get(c->data, field);
    if (!v || json_is_null(v)) {
        if (required)
            return bl_err_set(err, BL_EINVAL, "%s: data.%s: missing", c->type, field);
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        out[i] = json_is_object(v) ? json_string_value(json_object_get(v, address_parts[i])) : NULL;
        if (!out[i])
            return bl_err_set(err, BL_EINVAL, "%s: data.%s.%s: missing or not a string", c->type,
                              field, address_parts[i]);
    }
    return 1;
}

json_t *fs_address_json(const PGresult *res)
{
    json_t *a = json_object();
    for (int i = 0; a && i < 4; i++)
        a = bl_json_with(a, address_parts[i], bl_col_json_str(res, address_parts[i]));
    return a;
}
