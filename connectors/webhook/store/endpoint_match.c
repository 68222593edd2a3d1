/* Endpoint-to-event matching (see endpoint_match.h). */
#include "connectors/webhook/store/endpoint_match.h"

#include <string.h>

static bool types_match(const bl_webhook_endpoint *e, const char *event_type)
{
    for (size_t i = 0; i < e->event_type_count; i++)
        if (bl_event_type_matches(e->event_types[i], event_type))
            return true;
    return false;
}

bool bl_webhook_endpoint_matches(const bl_webhook_endpoint *e, const bl_event_filter *f,
                                 const char *organization_id, const char *event_type, const json_t *event)
{
    if (!organization_id || !event_type || strcmp(e->organization_id, organization_id) != 0 ||
        !types_match(e, event_type))
        return false;
    if (!f)
        return true;
    if (event)
        return bl_event_filter_matches(f, event);
    json_t *empty = json_object();
    bool ok = empty && bl_event_filter_matches(f, empty);
    json_decref(empty);
    return ok;
}
