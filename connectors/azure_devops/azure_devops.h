/* The Azure DevOps connector, compiled into busline: its entry, named by its
 * row in connectors/providers.c. */
#ifndef BUSLINE_CONNECTORS_AZURE_DEVOPS_AZURE_DEVOPS_H
#define BUSLINE_CONNECTORS_AZURE_DEVOPS_AZURE_DEVOPS_H

#include "busline/connector.h"

/* The connector's static table (never freed). */
const bl_connector_table *bl_azure_devops_connector(void);

#endif
