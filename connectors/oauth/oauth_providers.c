/* The OAuth view of the provider table (connectors/providers.c) and the
 * integration error codes as the API answers them. */
#include "connectors/oauth/oauth.h"

#include "connectors/providers.h"

#include <string.h>

const bl_oauth_provider *bl_oauth_provider_at(size_t i)
{
    const bl_saas_provider *p = bl_saas_provider_at(i);
    return p ? &p->oauth : NULL;
}

const bl_oauth_provider *bl_oauth_provider_find(const char *name)
{
    const bl_saas_provider *p = bl_saas_provider_find(name);
    return p ? &p->oauth : NULL;
}

static const struct {
    int code;
    const char *name;
    int status;
} codes[] = {
    {BL_OAUTH_E_NOT_FOUND, "INTEGRATION_NOT_FOUND", 404},
    {BL_OAUTH_E_PROVIDER, "PROVIDER_NOT_SUPPORTED", 400},
    {BL_OAUTH_E_OAUTH, "OAUTH_ERROR", 400},
    {BL_OAUTH_E_PERMISSION, "PERMISSION_DENIED", 403},
    {BL_OAUTH_E_RATE, "RATE_LIMIT_EXCEEDED", 429},
    {BL_OAUTH_E_SYNC, "SYNC_FAILED", 409},
    {BL_OAUTH_E_CONNECTION, "CONNECTION_ERROR", 502},
    {BL_OAUTH_E_CREDENTIALS, "INVALID_CREDENTIALS", 409}, /* the caller is fine; the integration's provider credentials are not */
    {BL_OAUTH_E_WEBHOOK, "WEBHOOK_FAILED", 502},
    {BL_OAUTH_E_QUOTA, "API_QUOTA_EXCEEDED", 429},
};

const char *bl_oauth_code_name(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].name;
    return NULL;
}

int bl_oauth_code_status(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].status;
    return 500;
}
