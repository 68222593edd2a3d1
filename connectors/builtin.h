/* The connectors compiled into busline; each returns its static table. */
#ifndef BUSLINE_CONNECTORS_BUILTIN_H
#define BUSLINE_CONNECTORS_BUILTIN_H

#include "busline/connector.h"

const bl_connector_table *bl_jira_connector(void);
const bl_connector_table *bl_slack_connector(void);
const bl_connector_table *bl_azure_devops_connector(void);
const bl_connector_table *bl_google_calendar_connector(void);
const bl_connector_table *bl_microsoft_365_connector(void);
const bl_connector_table *bl_zoom_connector(void);

#endif
