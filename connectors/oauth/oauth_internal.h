/* What the oauth files share: the store's layout, provider URLs, token
 * requests and the buffered call log. Not a public API. */
#ifndef BUSLINE_CONNECTORS_OAUTH_INTERNAL_H
#define BUSLINE_CONNECTORS_OAUTH_INTERNAL_H

#include "connectors/oauth/oauth.h"
#include "producers/outbox/domain_events.h"

#include <pthread.h>
#include <stdint.h>

typedef struct oauth_call_entry {
    char org_id[40], integration_id[40], provider[32], operation[16], error_code[32];
    bool success;
    long http_status;
    int64_t duration_us;
} oauth_call_entry;

struct bl_oauth_store {
    bl_pg_pool *pool;
    const bl_keyring *kr;
    bl_oauth_config cfg;
    bl_domain_events *events;
    pthread_mutex_t calls_lock;
    oauth_call_entry *calls;
    size_t call_count;
};

/* Index of p in the provider table. */
size_t oauth_provider_index(const bl_oauth_provider *p);

/* Builds the URL of template for provider p: fills {tenant}, {cloud_id},
 * {organization}, {account_id} from settings (values limited to
 * [A-Za-z0-9._-]; tenant defaults to "common") and swaps scheme and host for
 * the app's base_url when set. Returns 0 or -1 with err (BL_EINVAL). */
int oauth_url(const bl_oauth_store *st, const bl_oauth_provider *p, const char *tmpl,
              const json_t *settings, char *out, size_t cap, bl_err *err);

/* Appends "&key=value" (no '&' when *buf is empty) percent-encoded per
 * application/x-www-form-urlencoded. Returns 0 or -1 when out of room. */
int oauth_form_add(char *buf, size_t cap, const char *key, const char *value);

/* What a token endpoint answered. Owned strings; oauth_tokens_clear. */
typedef struct oauth_tokens {
    char *access_token, *refresh_token, *scope, *account;
    long expires_in; /* seconds; 0 = not given */
} oauth_tokens;
void oauth_tokens_clear(oauth_tokens *t);

/* POSTs a token request of provider p: params (NULL-terminated key, value
 * pairs) as a form or JSON per the provider, with the client's credentials
 * in the body or as HTTP Basic, to url. integration_id (may be NULL) and
 * org_id label the recorded call of operation. On a refusal err is
 * refused_code with the provider's error and description. Returns 0 or -1. */
int oauth_token_request(bl_oauth_store *st, const bl_oauth_provider *p, const char *url,
                        const char *const *params, const char *org_id, const char *integration_id,
                        const char *operation, int refused_code, oauth_tokens *out, bl_err *err);

/* Maps a provider's answer to an oauth code: 401 -> CREDENTIALS, 429 ->
 * RATE, 403 mentioning quota -> QUOTA, other 403 -> PERMISSION, 5xx and
 * transport failures -> CONNECTION; Slack's ok:false errors likewise.
 * Returns 0 for a success. */
int oauth_classify(const bl_oauth_provider *p, const bl_http_sync_result *r, int transport_rc);

/* The token request of Zoom's account credentials or a client credentials
 * grant: the first token of a browserless connect, and its refresh. */
int oauth_grant_direct(bl_oauth_store *st, const bl_oauth_provider *p, const json_t *settings,
                       const char *org_id, const char *integration_id, int refused_code,
                       oauth_tokens *t, bl_err *err);

/* bl_oauth_access_token, also naming the integration's organization and
 * provider (either out may be NULL; "" when the row was not found). */
int oauth_access_token_of(bl_oauth_store *st, const char *id, bool force, char **out, char org_out[40],
                          char provider_out[32], bl_err *err);

/* Counts one provider call; writes the batch when it is full. */
void oauth_calls_record(bl_oauth_store *st, const char *org_id, const char *integration_id,
                        const char *provider, const char *operation, bool success, long status,
                        int64_t duration_us, int code);

#endif
