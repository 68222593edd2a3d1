/* The Jira Cloud connector, compiled into busline: its entry, named by its
 * row in connectors/providers.c. */
#ifndef BUSLINE_CONNECTORS_JIRA_JIRA_H
#define BUSLINE_CONNECTORS_JIRA_JIRA_H

#include "busline/connector.h"

/* The connector's static table (never freed). */
const bl_connector_table *bl_jira_connector(void);

#endif
