/* busline fieldservice [run] | send FILE: the field-service domain service
 * (clients, interventions), and a tool that puts one command on its topic. */
#include "cli/commands.h"
#include "cli/domain_role.h"
#include "producers/fieldservice/domain.h"

static const bl_setting fieldservice_settings[] =
    BL_DOMAIN_ROLE_SETTINGS("fieldservice", "FIELDSERVICE", "field-service");

int bl_cmd_fieldservice(int argc, char **argv)
{
    return bl_domain_role_main(&bl_fieldservice_rules, fieldservice_settings, argc, argv);
}
