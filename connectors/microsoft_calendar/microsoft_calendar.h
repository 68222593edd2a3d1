/* The Microsoft 365 connector, compiled into busline: its entry, named by its
 * row in connectors/providers.c. */
#ifndef BUSLINE_CONNECTORS_MICROSOFT_CALENDAR_MICROSOFT_CALENDAR_H
#define BUSLINE_CONNECTORS_MICROSOFT_CALENDAR_MICROSOFT_CALENDAR_H

#include "busline/connector.h"

/* The connector's static table (never freed). */
const bl_connector_table *bl_microsoft_365_connector(void);

#endif
