/* busline fieldservice [run] | send FILE: the field-service domain service
 * (clients, interventions), and a tool that puts one command on its topic. */
#include "cli/commands.h"
#include "cli/domain_role.h"
#include "producers/fieldservice/domain.h"

/* field_service_prefix: the same name, flag and variable as the API's
 * (api/cmd_api.c), so one deployment setting puts the surface and the links
 * of report.generated under the same prefix. */
static const bl_setting fieldservice_settings[] = BL_DOMAIN_ROLE_SETTINGS_WITH(
    "fieldservice", "FIELDSERVICE", "field-service",
    {.name = "field_service_prefix", .env = "BUSLINE_API_FIELD_SERVICE_PREFIX", .flag = "field-service-prefix",
     .type = BL_SETTING_STRING, .def = "/api",
     .help = "where the API mounts the field-service surface: report.generated's download url starts with it"});

int bl_cmd_fieldservice(int argc, char **argv)
{
    return bl_domain_role_main(&bl_fieldservice_rules, fieldservice_settings, argc, argv);
}
