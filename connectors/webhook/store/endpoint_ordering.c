/* An endpoint's delivery order by name (see endpoint_ordering.h). */
#include "connectors/webhook/store/endpoint_ordering.h"

#include <string.h>

int bl_webhook_ordering_parse(const char *name, bool *strict)
{
    if (!name)
        return -1;
    if (strcmp(name, "fifo") == 0)
        *strict = true;
    else if (strcmp(name, "none") == 0)
        *strict = false;
    else
        return -1;
    return 0;
}

const char *bl_webhook_ordering_name(bool strict)
{
    return strict ? "fifo" : "none";
}
