/* The SaaS provider table: each provider's connector, its label and
 * settings for people, and its OAuth endpoints and parameters as its vendor
 * documents them:
 *  - Google: accounts.google.com/o/oauth2/v2/auth (access_type=offline,
 *    prompt=consent, PKCE S256), oauth2.googleapis.com/token (form, client
 *    secret in the body), oauth2.googleapis.com/revoke, userinfo v3.
 *  - Microsoft identity platform v2: login.microsoftonline.com/{tenant}/
 *    oauth2/v2.0/authorize + /token (form, PKCE, rotating refresh tokens,
 *    client_credentials with https://graph.microsoft.com/.default); no
 *    token revocation endpoint; Graph /v1.0/me.
 *  - Zoom server-to-server: zoom.us/oauth/token?grant_type=account_credentials
 *    &account_id=..., HTTP Basic client_id:secret, no refresh token;
 *    zoom.us/oauth/revoke; api.zoom.us/v2/users/me.
 *  - Atlassian 3LO: auth.atlassian.com/authorize (audience=api.atlassian.com,
 *    prompt=consent), auth.atlassian.com/oauth/token with a JSON body,
 *    rotating refresh tokens (offline_access); no revocation endpoint;
 *    api.atlassian.com/ex/jira/{cloud_id}/rest/api/3/myself.
 *  - Slack: slack.com/oauth/v2/authorize, slack.com/api/oauth.v2.access (form,
 *    errors as {"ok":false} on 200, comma-separated scopes), auth.revoke,
 *    auth.test.
 *  - Azure DevOps: a PAT (Basic ":PAT"), no OAuth; connectionData as health. */
#include "connectors/providers.h"

#include "connectors/azure_devops/azure_devops.h"
#include "connectors/google_calendar/google_calendar.h"
#include "connectors/jira/jira.h"
#include "connectors/microsoft_calendar/microsoft_calendar.h"
#include "connectors/slack/slack.h"
#include "connectors/zoom/zoom.h"

#include <string.h>

static const bl_saas_provider providers[] = {
    {.label = "Jira", .connector = bl_jira_connector, .settings = {NULL},
     .oauth = {.name = "jira", .type = "issue_tracker", .flow = BL_OAUTH_FLOW_CODE,
               .authorize_url = "https://auth.atlassian.com/authorize",
               .token_url = "https://auth.atlassian.com/oauth/token",
               .whoami_url = "https://api.atlassian.com/ex/jira/{cloud_id}/rest/api/3/myself",
               .scopes = "read:jira-work write:jira-work read:jira-user offline_access",
               .authorize_extra = "audience=api.atlassian.com&prompt=consent",
               .json_token_body = true, .scope_separator = ' '}},
    {.label = "Slack", .connector = bl_slack_connector, .settings = {NULL},
     .oauth = {.name = "slack", .type = "chat", .flow = BL_OAUTH_FLOW_CODE,
               .authorize_url = "https://slack.com/oauth/v2/authorize",
               .token_url = "https://slack.com/api/oauth.v2.access",
               .revoke_url = "https://slack.com/api/auth.revoke",
               .whoami_url = "https://slack.com/api/auth.test",
               .scopes = "chat:write,channels:read", .ok_field = true, .scope_separator = ','}},
    {.label = "Azure DevOps", .connector = bl_azure_devops_connector,
     .settings = {"organization", "project", NULL},
     .oauth = {.name = "azure_devops", .type = "work_items", .flow = BL_OAUTH_FLOW_PAT,
               .whoami_url = "https://dev.azure.com/{organization}/_apis/connectionData",
               .scope_separator = ' '}},
    {.label = "Google Calendar", .connector = bl_google_calendar_connector,
     .settings = {"calendar_id", NULL},
     .oauth = {.name = "google_calendar", .type = "calendar", .flow = BL_OAUTH_FLOW_CODE,
               .authorize_url = "https://accounts.google.com/o/oauth2/v2/auth",
               .token_url = "https://oauth2.googleapis.com/token",
               .revoke_url = "https://oauth2.googleapis.com/revoke",
               .whoami_url = "https://www.googleapis.com/oauth2/v3/userinfo",
               .scopes = "openid email https://www.googleapis.com/auth/calendar.events",
               .authorize_extra = "access_type=offline&prompt=consent&include_granted_scopes=true",
               .pkce = true, .scope_separator = ' '}},
    {.label = "Microsoft 365", .connector = bl_microsoft_365_connector,
     .settings = {"tenant", NULL},
     .oauth = {.name = "microsoft_365", .type = "calendar", .flow = BL_OAUTH_FLOW_CODE,
               .client_credentials = true,
               .authorize_url = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
               .token_url = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
               .whoami_url = "https://graph.microsoft.com/v1.0/me",
               .scopes = "offline_access User.Read Calendars.ReadWrite OnlineMeetings.ReadWrite",
               .app_scopes = "https://graph.microsoft.com/.default",
               .authorize_extra = "response_mode=query", .pkce = true, .scope_separator = ' '}},
    {.label = "Zoom", .connector = bl_zoom_connector, .settings = {"account_id", NULL},
     .oauth = {.name = "zoom", .type = "meetings", .flow = BL_OAUTH_FLOW_ACCOUNT_CREDENTIALS,
               .token_url = "https://zoom.us/oauth/token",
               .revoke_url = "https://zoom.us/oauth/revoke",
               .whoami_url = "https://api.zoom.us/v2/users/me",
               .basic_client_auth = true, .scope_separator = ' '}},
};

_Static_assert(sizeof providers / sizeof providers[0] <= BL_OAUTH_PROVIDER_MAX,
               "raise BL_OAUTH_PROVIDER_MAX (connectors/oauth/oauth.h)");

size_t bl_saas_provider_count(void)
{
    return sizeof providers / sizeof providers[0];
}

const bl_saas_provider *bl_saas_provider_at(size_t i)
{
    return i < bl_saas_provider_count() ? &providers[i] : NULL;
}

const bl_saas_provider *bl_saas_provider_find(const char *name)
{
    for (size_t i = 0; name && i < bl_saas_provider_count(); i++)
        if (strcmp(providers[i].oauth.name, name) == 0)
            return &providers[i];
    return NULL;
}
