/* The calendar behind an integration's provider name (run.h). */
#include "connectors/calendar_sync/google_sync.h"
#include "connectors/calendar_sync/graph_sync.h"
#include "connectors/calendar_sync/run.h"

#include <string.h>

bl_calsync_provider *bl_calsync_provider_open(const bl_calsync_deps *deps, const char *provider,
                                              const char *integration_id, bl_err *err)
{
    if (strcmp(provider, "google_calendar") == 0) {
        bl_calsync_google_opts go = {.store = deps->store, .integration_id = integration_id,
                                     .base_url = deps->google_base_url, .page_size = deps->page_size,
                                     .max_wait_ms = deps->max_wait_ms};
        return bl_calsync_google_new(&go, err);
    }
    if (strcmp(provider, "microsoft_365") == 0) {
        bl_calsync_graph_opts mo = {.store = deps->store, .integration_id = integration_id,
                                    .base_url = deps->graph_base_url, .max_wait_ms = deps->max_wait_ms};
        return bl_calsync_graph_new(&mo, err);
    }
    bl_err_set(err, BL_OAUTH_E_PROVIDER, "calendar sync: %s is not a calendar this worker syncs", provider);
    return NULL;
}
