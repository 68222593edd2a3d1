/* Windows to IANA time zone names (graph_zones.h). */
#include "connectors/calendar_sync/graph_zones.h"

#include <string.h>

static const char *const zones[][2] = {
    {"UTC", "UTC"},
    {"Coordinated Universal Time", "UTC"},
    {"tzone://Microsoft/Utc", "UTC"},
    {"GMT Standard Time", "Europe/London"},
    {"Greenwich Standard Time", "Atlantic/Reykjavik"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Romance Standard Time", "Europe/Paris"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"E. Europe Standard Time", "Europe/Chisinau"},
    {"FLE Standard Time", "Europe/Kiev"},
    {"GTB Standard Time", "Europe/Bucharest"},
    {"Russian Standard Time", "Europe/Moscow"},
    {"Turkey Standard Time", "Europe/Istanbul"},
    {"Israel Standard Time", "Asia/Jerusalem"},
    {"South Africa Standard Time", "Africa/Johannesburg"},
    {"Morocco Standard Time", "Africa/Casablanca"},
    {"W. Central Africa Standard Time", "Africa/Lagos"},
    {"Arabian Standard Time", "Asia/Dubai"},
    {"India Standard Time", "Asia/Calcutta"},
    {"China Standard Time", "Asia/Shanghai"},
    {"Singapore Standard Time", "Asia/Singapore"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"Korea Standard Time", "Asia/Seoul"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
    {"New Zealand Standard Time", "Pacific/Auckland"},
    {"Eastern Standard Time", "America/New_York"},
    {"Central Standard Time", "America/Chicago"},
    {"Mountain Standard Time", "America/Denver"},
    {"US Mountain Standard Time", "America/Phoenix"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"Alaskan Standard Time", "America/Anchorage"},
    {"Hawaiian Standard Time", "Pacific/Honolulu"},
    {"Atlantic Standard Time", "America/Halifax"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"Argentina Standard Time", "America/Buenos_Aires"},
    {"Central Standard Time (Mexico)", "America/Mexico_City"},
    {"Canada Central Standard Time", "America/Regina"},
};

const char *bl_calsync_iana_zone(const char *zone)
{
    if (!zone || !*zone)
        return "UTC";
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(zone, zones[i][0]) == 0)
            return zones[i][1];
    /* an IANA name already: Area/Location, no spaces */
    return strchr(zone, '/') && !strchr(zone, ' ') && strncmp(zone, "tzone:", 6) != 0 ? zone : "UTC";
}
