/* The Slack connector, compiled into busline: its entry, named by its
 * row in connectors/providers.c. */
#ifndef BUSLINE_CONNECTORS_SLACK_SLACK_H
#define BUSLINE_CONNECTORS_SLACK_SLACK_H

#include "busline/connector.h"

/* The connector's static table (never freed). */
const bl_connector_table *bl_slack_connector(void);

#endif
