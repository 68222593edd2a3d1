/* busline pmo [run] | send FILE: the sample PMO domain service, and a tool
 * that puts one command on its topic. */
#include "cli/commands.h"
#include "cli/domain_role.h"
#include "producers/pmo/domain.h"

static const bl_setting pmo_settings[] = BL_DOMAIN_ROLE_SETTINGS("pmo", "PMO", "PMO");

int bl_cmd_pmo(int argc, char **argv)
{
    return bl_domain_role_main(&bl_pmo_rules, pmo_settings, argc, argv);
}
