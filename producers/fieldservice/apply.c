/* Dispatch of field-service commands to their aggregate, and the address
 * helpers both aggregates use. */
#include "producers/fieldservice/internal.h"

#include <string.h>

const bl_domain_rules bl_fieldservice_rules = {
    .domain = BL_FIELDSERVICE_DOMAIN,
    .processed_table = "fieldservice_processed_commands",
    .apply = bl_fieldservice_apply,
    .api_prefix_setting = "field_service_prefix",
};

static const bl_domain_aggregate aggregates[] = {
    {"client", fs_apply_client},
    {"intervention", fs_apply_intervention},
    {"rapport", fs_apply_rapport},
};

int bl_fieldservice_apply(PGconn *conn_in_tx, const bl_domain_command *cmd, bl_domain_events *out,
                          bl_err *err)
{
    return bl_domain_dispatch(BL_FIELDSERVICE_DOMAIN, aggregates, sizeof aggregates / sizeof aggregates[0],
                              conn_in_tx, cmd, out, err);
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
