/* Mapping rules checked when an integration's settings are saved, the way
 * `busline connect <provider>` compiles them (see route_integrations.h). */
#include "api/routes/route_integrations.h"

#include "connectors/loader.h"
#include "connectors/mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_api_integration_rules_check(const char *provider, const json_t *rules, const bl_catalog *catalog,
                                   json_t *fields)
{
    if (!rules)
        return 0;
    bl_err err = {0};
    bl_connector_lib *lib = bl_connector_open(provider, NULL, &err);
    if (!lib) {
        json_object_set_new(fields, "settings.rules", json_string(err.msg));
        return -1;
    }
    bl_mapping *m = bl_mapping_new(rules, bl_connector_lib_table(lib), catalog ? bl_mapping_catalog_field_known : NULL,
                                   (void *)catalog, &err);
    int rc = m ? 0 : -1;
    if (!m) {
        /* "rule 2: ..." names the rule 1-based; the field is 0-based. */
        unsigned long n = 0;
        char key[48] = "settings.rules";
        if (sscanf(err.msg, "rule %lu:", &n) == 1 && n >= 1)
            snprintf(key, sizeof key, "settings.rules[%lu]", n - 1);
        json_object_set_new(fields, key, json_string(err.msg));
    }
    bl_mapping_free(m);
    bl_connector_lib_close(lib);
    return rc;
}
