/* What the documents say each route needs, for the permission matrix
 * (permission_rules.h). */
#include "tests/support/permission_rules.h"

#include "tests/support/openapi_instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Routes anyone may call: operations, login, the documents, the console. */
bool bl_test_perm_documented_public(const char *pattern)
{
    static const char *const exact[] = {"/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/api/openapi.json",
                                        "/attendance/api/openapi.json"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(pattern, exact[i]) == 0)
            return true;
    /* a workflow's inbound hook authenticates by its Standard Webhooks signature */
    if (strcmp(pattern, "/v1/workflows/:id/hooks") == 0)
        return true;
    /* custom endpoints authenticate by their own definition (api/custom/caller_auth.h) */
    return starts_with(pattern, "/v1/auth/") || starts_with(pattern, "/api/auth/") || strcmp(pattern, "/console") == 0 ||
           starts_with(pattern, "/console/") || starts_with(pattern, "/custom/");
}

/* The field-service surface (/api) names 401 and 403 by its document, and
 * so does the Attendance-X surface (/attendance/api) by document 001. */
const char *bl_test_perm_code_on(const char *pattern, const char *v1_code)
{
    if (starts_with(pattern, "/attendance/api/"))
        return strcmp(v1_code, "unauthorized") == 0 ? "INVALID_CREDENTIALS"
               : strcmp(v1_code, "forbidden") == 0  ? "PERMISSION_DENIED"
                                                    : v1_code;
    if (!starts_with(pattern, "/api/"))
        return v1_code;
    if (strcmp(v1_code, "unauthorized") == 0)
        return "AUTHENTICATION_ERROR";
    if (strcmp(v1_code, "forbidden") == 0)
        return "AUTHORIZATION_ERROR";
    return v1_code; /* finer words (plan_required) come as its "reason" */
}

/* read = GET, write = GET/POST/PUT, admin = DELETE, the audit trail and key, webhook,
 * organization setting, alert rule and integration management (connect, callback, settings: route_integrations.c). */
bl_api_perm bl_test_perm_documented_need(const char *method, const char *pattern)
{
    /* document 001: integrations need Manager (write) or Admin; analytics Admin */
    if (starts_with(pattern, "/attendance/api/integrations"))
        return strstr(pattern, "/analytics/") ? BL_API_PERM_ADMIN : BL_API_PERM_WRITE;
    /* the SmartLeakPro document: users are admin only, keys are managed by
     * admins as on /v1, and a key's scopes read write = POST/PUT/DELETE */
    if (starts_with(pattern, "/api/utilisateurs") || starts_with(pattern, "/api/api-keys"))
        return BL_API_PERM_ADMIN;
    if (starts_with(pattern, "/api/"))
        return strcmp(method, "GET") == 0 ? BL_API_PERM_READ : BL_API_PERM_WRITE;
    if (strcmp(method, "DELETE") == 0 || starts_with(pattern, "/v1/api-keys") || starts_with(pattern, "/v1/custom-apis") ||
        starts_with(pattern, "/v1/workflows") || strcmp(pattern, "/v1/audit") == 0)
        return BL_API_PERM_ADMIN;
    if ((starts_with(pattern, "/v1/webhooks") || starts_with(pattern, "/v1/alert-rules")) && strcmp(method, "GET") != 0)
        return BL_API_PERM_ADMIN;
    /* an organization's settings (its webhooks' egress proxy) are the admins' */
    if (starts_with(pattern, "/v1/organizations/") && strcmp(method, "GET") != 0)
        return BL_API_PERM_ADMIN;
    if (starts_with(pattern, "/v1/integrations/") &&
        (strstr(pattern, "/connect") || strstr(pattern, "/callback") || strstr(pattern, "/settings")))
        return BL_API_PERM_ADMIN;
    return strcmp(method, "GET") == 0 ? BL_API_PERM_READ : BL_API_PERM_WRITE;
}

/* ---- paths ---- */

/* The first segment after /v1/ or /api/ ("risks"), into out. */
static void collection_of(const char *pattern, char *out, size_t len)
{
    const char *s = starts_with(pattern, "/v1/")               ? pattern + 4
                    : starts_with(pattern, "/api/")            ? pattern + 5
                    : starts_with(pattern, "/attendance/api/") ? pattern + 16
                                                               : "";
    snprintf(out, len, "%.*s", (int)strcspn(s, "/"), s);
}

/* The value of :param in pattern for org f. Returns 1 for an id scoped to
 * an organization, 0 for one that is not (a provider name, a console
 * file), -1 when the test knows no fixture for it. */
static int param_value(const char *pattern, const char *param, const bl_test_perm_org *f, char *out, size_t len)
{
    char coll[64];
    collection_of(pattern, coll, sizeof coll);
    if (starts_with(pattern, "/console/")) {
        snprintf(out, len, "index.html");
        return 0;
    }
    if (starts_with(pattern, "/custom/")) { /* an organization slug: no endpoint of it matches "*" */
        snprintf(out, len, "%s", f->tag);
        return 0;
    }
    if (strcmp(coll, "event-types") == 0) { /* the catalog is the same for every organization */
        snprintf(out, len, "risk.escalated");
        return 0;
    }
    if (strcmp(coll, "custom-apis") == 0) {
        snprintf(out, len, "%s", strcmp(param, "tid") == 0 ? "t1" : f->custom_api);
        return strcmp(param, "id") == 0 ? 1 : strcmp(param, "tid") == 0 ? 0 : -1;
    }
    if (strcmp(coll, "workflows") == 0) {
        bool exec = strcmp(param, "eid") == 0;
        snprintf(out, len, "%s", exec ? f->execution : f->workflow);
        return exec || strcmp(param, "id") == 0 ? 1 : -1;
    }
    if (strcmp(coll, "integrations") == 0) {
        if (strcmp(param, "provider") == 0) { /* document 001 names Google "google" */
            snprintf(out, len, starts_with(pattern, "/attendance/") ? "google" : "google_calendar");
            return 0;
        }
        bool run = strcmp(param, "run") == 0 || strcmp(param, "syncId") == 0;
        snprintf(out, len, "%s", run ? f->run : f->integration);
        return strcmp(param, "id") == 0 || run ? 1 : -1;
    }
    if (strcmp(param, "id") != 0)
        return -1;
    if (starts_with(pattern, "/v1/webhooks/replays/"))
        snprintf(out, len, "%s", f->replay);
    else if (strcmp(coll, "alerts") == 0)
        snprintf(out, len, "%s", f->alert);
    else if (strcmp(coll, "alert-rules") == 0)
        snprintf(out, len, "%s", f->alert_rule);
    else if (strcmp(coll, "api-keys") == 0)
        snprintf(out, len, "%s", f->key_id);
    else if (strcmp(coll, "webhooks") == 0)
        snprintf(out, len, "%s", f->webhook);
    else if (strcmp(coll, "commands") == 0)
        snprintf(out, len, "%s", f->command);
    else /* the domain collections: read model rows named <collection>-<tag> */
        snprintf(out, len, "%s-%s", coll, f->tag);
    return 1;
}

/* Fills pattern's :params for org f into path. Returns the number of
 * organization-scoped ids used, or -1 for an unknown parameter. */
int bl_test_perm_concrete_path(const char *pattern, const bl_test_perm_org *f, char *path, size_t len)
{
    size_t o = 0;
    int scoped = 0;
    for (const char *p = pattern; *p && o + 1 < len;) {
        if (*p != ':') {
            path[o++] = *p++;
            continue;
        }
        char name[32], value[96];
        size_t n = strcspn(p + 1, "/");
        snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
        int k = param_value(pattern, name, f, value, sizeof value);
        if (k < 0)
            return -1;
        scoped += k;
        o += (size_t)snprintf(path + o, len - o, "%s", value);
        p += 1 + n;
    }
    path[o < len ? o : len - 1] = '\0';
    return scoped;
}

/* ---- bodies ---- */

/* The body to send: from the OpenAPI request body when the route has one
 * (a command; its aggregate id comes from the path, so it is left out),
 * with $refs resolved in the served document, else a minimal valid one
 * written here. Caller frees; NULL = no body. */
char *bl_test_perm_body_for(const json_t *openapi, const char *method, const char *pattern, const json_t *op)
{
    const json_t *schema = json_object_get(
        json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"), "application/json"),
        "schema");
    if (schema) {
        const json_t *components = json_object_get(json_object_get(openapi, "components"), "schemas");
        json_t *b = bl_test_openapi_minimal_instance(schema, components);
        char coll[64], id_field[80];
        collection_of(pattern, coll, sizeof coll);
        snprintf(id_field, sizeof id_field, "%.*s_id", (int)strlen(coll) - 1, coll);
        if (strstr(pattern, "/:id"))
            json_object_del(b, id_field);
        char *text = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        return text;
    }
    static const struct {
        const char *method, *pattern, *body;
    } bodies[] = {
        {"POST", "/v1/auth/login", "{\"email\":\"" USER_EMAIL "\",\"password\":\"" USER_PASSWORD "\"}"},
        {"POST", "/v1/auth/refresh", "{\"refresh_token\":\"bl_rt_not-a-token\"}"},
        {"POST", "/v1/auth/logout", "{\"refresh_token\":\"bl_rt_not-a-token\"}"},
        {"POST", "/v1/api-keys", "{\"name\":\"made by the matrix\",\"permission\":\"read\"}"},
        {"POST", "/v1/webhooks", "{\"name\":\"made by the matrix\",\"url\":\"" CLOSED_URL "/hook\","
                                 "\"event_types\":[\"risk.*\"]}"},
        {"PUT", "/v1/webhooks/:id", "{\"timeout_ms\":2000}"},
        {"POST", "/v1/webhooks/:id/transformation/test",
         "{\"event\":{\"a\":1},\"transformation\":{\"type\":\"map\",\"rules\":[{\"operation\":\"set\","
         "\"source\":\"$.a\",\"target\":\"$.b\"}]}}"},
        {"POST", "/v1/integrations/:provider/connect", "{\"redirectUri\":\"https://app.example.com/cb\"}"},
        {"POST", "/v1/integrations/:provider/callback", "{\"state\":\"st_unknown\",\"code\":\"c\"}"},
        {"PUT", "/v1/integrations/:id/settings", "{\"settings\":{\"calendar_id\":\"primary\"}}"},
        {"POST", "/v1/integrations/:id/sync", "{\"dryRun\":true}"},
        {"POST", "/v1/custom-apis", "{\"name\":\"made by the matrix\",\"path\":\"/made\",\"method\":\"GET\","
                                    "\"authentication\":{\"type\":\"none\"}}"},
        {"PUT", "/v1/custom-apis/:id", "{\"name\":\"replaced by the matrix\",\"path\":\"/matrix\",\"method\":\"GET\","
                                       "\"authentication\":{\"type\":\"none\"}}"},
        {"POST", "/v1/custom-apis/:id/rollback", "{\"version\":\"1.0.0\"}"},
        {"POST", "/v1/workflows", WORKFLOW_BODY("made by the matrix")},
        {"PUT", "/v1/workflows/:id", WORKFLOW_BODY("replaced by the matrix")},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        if (strcmp(bodies[i].method, method) == 0 && strcmp(bodies[i].pattern, pattern) == 0)
            return strdup(bodies[i].body);
    return NULL;
}

