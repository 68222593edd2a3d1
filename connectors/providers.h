/* The SaaS providers busline connects to, in one table: the connector
 * loader's built-ins, the OAuth code's endpoints and apps, and the API's
 * GET /v1/integrations/providers (which the console lists) all read it.
 * A new SaaS connector adds its row to connectors/providers.c (see
 * "Adding a SaaS connector" in connectors/README.md). */
#ifndef BUSLINE_CONNECTORS_PROVIDERS_H
#define BUSLINE_CONNECTORS_PROVIDERS_H

#include "busline/connector.h"
#include "connectors/oauth/oauth.h"

#include <stddef.h>

#define BL_SAAS_SETTINGS_MAX 4

typedef struct bl_saas_provider {
    bl_oauth_provider oauth; /* name, type, flow and the vendor's OAuth endpoints */
    const char *label;       /* for people: "Google Calendar" */
    /* the settings a connection asks for ("tenant"), NULL-ended */
    const char *settings[BL_SAAS_SETTINGS_MAX + 1];
    const bl_connector_table *(*connector)(void); /* the built-in connector's entry */
} bl_saas_provider;

/* How many providers the table holds (at most BL_OAUTH_PROVIDER_MAX). */
size_t bl_saas_provider_count(void);

/* Provider i (0, 1, ... in table order), or NULL past the last; static. */
const bl_saas_provider *bl_saas_provider_at(size_t i);

/* The provider named name ("zoom"), or NULL; static. */
const bl_saas_provider *bl_saas_provider_find(const char *name);

#endif
