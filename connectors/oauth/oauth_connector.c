/* The OAuth store as the token source of connector hosts (see oauth.h). */
#include "connectors/oauth/oauth.h"

#include <stdlib.h>
#include <string.h>

int bl_oauth_connector_token(void *store, const char *integration_id, int refresh, char *out, size_t cap,
                             bl_err *err)
{
    char *token = NULL;
    if (bl_oauth_access_token(store, integration_id, refresh != 0, &token, err) != 0)
        return -1;
    size_t len = strlen(token);
    int rc = 0;
    if (len >= cap)
        rc = bl_err_set(err, BL_EINVAL, "oauth: the access token of %s is longer than %zu bytes", integration_id,
                        cap - 1);
    else
        memcpy(out, token, len + 1);
    memset(token, 0, len);
    free(token);
    return rc;
}
