/* The Google Calendar connector, compiled into busline: its entry, named by its
 * row in connectors/providers.c. */
#ifndef BUSLINE_CONNECTORS_GOOGLE_CALENDAR_GOOGLE_CALENDAR_H
#define BUSLINE_CONNECTORS_GOOGLE_CALENDAR_GOOGLE_CALENDAR_H

#include "busline/connector.h"

/* The connector's static table (never freed). */
const bl_connector_table *bl_google_calendar_connector(void);

#endif
