/* Windows time zone names (what Outlook keeps in originalStartTimeZone)
 * as the IANA names the attendance domain holds, per CLDR's windowsZones
 * table (territory 001) for the zones in common use. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_GRAPH_ZONES_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_GRAPH_ZONES_H

/* The IANA name of zone: zone itself when it already is one ("Area/City"
 * or "UTC"), the CLDR mapping of a known Windows name, else "UTC". Never
 * NULL; the string is static or zone. */
const char *bl_calsync_iana_zone(const char *zone);

#endif
