/* The simple parts of a definition: its path, authentication, rateLimit,
 * caching and workflow reference, each checked into a bl_custom_def. */
#include "api/custom/def_parts.h"
#include "core/field_problems.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_custom_problem(json_t *problems, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bl_field_problem_v(problems, field, fmt, ap);
    va_end(ap);
}

static bool segment_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    size_t start = s[0] == ':' ? 1 : 0;
    if (start == n)
        return false;
    for (size_t i = start; i < n; i++) {
        char c = s[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-';
        if (!word && !(start == 0 && c == '.'))
            return false;
    }
    return true;
}

int bl_custom_path_key(const char *path, char *key, size_t len)
{
    size_t n = strlen(path), o = 0, segs = 0;
    if (n < 2 || n > BL_CUSTOM_PATH_MAX || path[0] != '/' || path[n - 1] == '/')
        return -1;
    for (const char *p = path + 1;;) {
        size_t sn = strcspn(p, "/");
        if (!segment_ok(p, sn) || ++segs > BL_CUSTOM_SEGMENTS_MAX)
            return -1;
        int w = p[0] == ':' ? snprintf(key + o, len - o, "/:") : snprintf(key + o, len - o, "/%.*s", (int)sn, p);
        if (w < 0 || (size_t)w >= len - o)
            return -1;
        o += (size_t)w;
        if (!p[sn])
            return 0;
        p += sn + 1;
    }
}

int bl_custom_parse_path(bl_custom_def *d, const char *path, json_t *problems)
{
    char key[BL_CUSTOM_PATH_MAX + 8];
    if (!path || bl_custom_path_key(path, key, sizeof key) != 0) {
        bl_custom_problem(problems, "path",
                          "\"/\" then 1 to %d segments of letters, digits, \"_\", \"-\", \".\" or a \":name\" parameter,"
                          " no trailing \"/\", at most %d characters",
                          BL_CUSTOM_SEGMENTS_MAX, BL_CUSTOM_PATH_MAX);
        return -1;
    }
    d->path = strdup(path);
    for (const char *p = path + 1; d->path;) {
        size_t sn = strcspn(p, "/");
        d->segs[d->seg_count++] = strndup(p, sn);
        if (!p[sn])
            break;
        p += sn + 1;
    }
    return 0;
}

static int strings_of(const json_t *v, const char *field, json_t *problems)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v)) {
        bl_custom_problem(problems, field, "an array of strings");
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e) || !json_string_length(e))
    {
        bl_custom_problem(problems, field, "an array of non-empty strings");
        return -1;
    }
    return 0;
}

static int parse_oauth2(bl_custom_def *d, const json_t *settings, const bl_custom_env *env, json_t *problems)
{
    const char *url = json_string_value(json_object_get(settings, "introspectionUrl"));
    const char *client = json_string_value(json_object_get(settings, "clientId"));
    const char *sealed = json_string_value(json_object_get(settings, "clientSecretSealed"));
    if (!url) {
        bl_custom_problem(problems, "authentication.settings.introspectionUrl",
                          "required for oauth2: the RFC 7662 introspection endpoint");
        return -1;
    }
    bl_ssrf_target target;
    bl_err err = {0};
    if (bl_ssrf_check_url(url, env->allow, &target, &err) != 0) {
        bl_custom_problem(problems, "authentication.settings.introspectionUrl", "%s", err.msg);
        return -1;
    }
    if (!client || !*client) {
        bl_custom_problem(problems, "authentication.settings.clientId", "required for oauth2");
        return -1;
    }
    if (!sealed) {
        bl_custom_problem(problems, "authentication.settings.clientSecret", "required for oauth2");
        return -1;
    }
    if (!env->keyring) {
        bl_custom_problem(problems, "authentication.settings.clientSecret",
                          "secrets are kept encrypted: this server has no BUSLINE_ENCRYPTION_KEYS");
        return -1;
    }
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (bl_keyring_open(env->keyring, sealed, client, strlen(client), &plain, &plain_len, &err) != 0) {
        bl_custom_problem(problems, "authentication.settings.clientSecret", "cannot be opened: %s", err.msg);
        return -1;
    }
    d->client_secret = (char *)plain;
    d->introspect_url = strdup(url);
    d->client_id = strdup(client);
    return 0;
}

int bl_custom_parse_auth(bl_custom_def *d, const json_t *auth, const bl_custom_env *env, json_t *problems)
{
    if (!json_is_object(auth)) {
        bl_custom_problem(problems, "authentication", "required: {type, settings, roles?}");
        return -1;
    }
    const char *type = json_string_value(json_object_get(auth, "type"));
    static const char *const names[] = {"none", "api-key", "jwt", "oauth2"};
    int t = -1;
    for (int i = 0; type && i < 4; i++)
        if (strcmp(type, names[i]) == 0)
            t = i;
    if (t < 0) {
        bl_custom_problem(problems, "authentication.type", "one of none, api-key, jwt, oauth2");
        return -1;
    }
    d->auth = (bl_custom_auth_type)t;
    const json_t *settings = json_object_get(auth, "settings");
    if (settings && !json_is_object(settings) && !json_is_null(settings)) {
        bl_custom_problem(problems, "authentication.settings", "an object");
        return -1;
    }
    const json_t *roles = json_object_get(auth, "roles");
    if (strings_of(roles, "authentication.roles", problems) != 0)
        return -1;
    size_t i;
    json_t *r;
    if (d->auth == BL_CUSTOM_AUTH_OAUTH2) {
        d->scope_count = json_array_size(roles);
        d->scopes = calloc(d->scope_count + 1, sizeof *d->scopes);
        json_array_foreach(roles, i, r) if (d->scopes) d->scopes[i] = strdup(json_string_value(r));
        return parse_oauth2(d, settings, env, problems);
    }
    if (d->auth == BL_CUSTOM_AUTH_NONE) {
        if (json_array_size(roles) > 0) {
            bl_custom_problem(problems, "authentication.roles", "roles need a caller: not with type none");
            return -1;
        }
        return 0;
    }
    json_array_foreach(roles, i, r)
    {
        bl_api_perm p = bl_api_perm_parse(json_string_value(r));
        if (p == BL_API_PERM_NONE || i >= 3) {
            bl_custom_problem(problems, "authentication.roles",
                              "the bus's roles: read, write, admin (\"%s\" is none of them)", json_string_value(r));
            return -1;
        }
        d->roles[d->role_count++] = p;
    }
    return 0;
}

static int int_field(const json_t *obj, const char *name, int64_t lo, int64_t hi, int64_t dflt, int64_t *out,
                     const char *prefix, json_t *problems)
{
    const json_t *v = json_object_get(obj, name);
    *out = dflt;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char field[96];
        snprintf(field, sizeof field, "%s.%s", prefix, name);
        bl_custom_problem(problems, field, "an integer from %lld to %lld", (long long)lo, (long long)hi);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

int bl_custom_parse_rate(bl_custom_def *d, const json_t *rate, json_t *problems)
{
    if (!rate || json_is_null(rate))
        return 0;
    if (!json_is_object(rate)) {
        bl_custom_problem(problems, "rateLimit", "an object {enabled, requestsPerMinute, burstLimit, strategy}");
        return -1;
    }
    d->rate_enabled = json_is_true(json_object_get(rate, "enabled"));
    int rc = int_field(rate, "requestsPerMinute", 1, BL_CUSTOM_RPM_MAX, 60, &d->rpm, "rateLimit", problems);
    rc |= int_field(rate, "burstLimit", 1, BL_CUSTOM_RPM_MAX, d->rpm, &d->burst, "rateLimit", problems);
    const char *s = json_string_value(json_object_get(rate, "strategy"));
    if (!s || strcmp(s, "fixed-window") == 0)
        d->rate_strategy = BL_CUSTOM_RATE_FIXED;
    else if (strcmp(s, "sliding-window") == 0)
        d->rate_strategy = BL_CUSTOM_RATE_SLIDING;
    else if (strcmp(s, "token-bucket") == 0)
        d->rate_strategy = BL_CUSTOM_RATE_TOKEN_BUCKET;
    else {
        bl_custom_problem(problems, "rateLimit.strategy", "one of fixed-window, sliding-window, token-bucket");
        rc = -1;
    }
    return rc ? -1 : 0;
}

int bl_custom_parse_cache(bl_custom_def *d, const json_t *cache, const bl_custom_env *env, json_t *problems)
{
    if (!cache || json_is_null(cache))
        return 0;
    if (!json_is_object(cache)) {
        bl_custom_problem(problems, "caching", "an object {enabled, ttl, strategy, invalidationRules}");
        return -1;
    }
    d->cache_enabled = json_is_true(json_object_get(cache, "enabled"));
    int rc = int_field(cache, "ttl", 1, BL_CUSTOM_TTL_MAX, 60, &d->ttl, "caching", problems);
    const char *s = json_string_value(json_object_get(cache, "strategy"));
    if (!s || strcmp(s, "memory") == 0)
        d->cache_strategy = BL_CUSTOM_CACHE_MEMORY;
    else if (strcmp(s, "database") == 0)
        d->cache_strategy = BL_CUSTOM_CACHE_DATABASE;
    else {
        bl_custom_problem(problems, "caching.strategy",
                          strcmp(s, "redis") == 0 ? "redis is not part of busline: memory (per replica) or database"
                                                    " (shared by replicas)"
                                                  : "one of memory, database");
        rc = -1;
    }
    const json_t *rules = json_object_get(cache, "invalidationRules");
    if (strings_of(rules, "caching.invalidationRules", problems) != 0)
        return -1;
    if (json_array_size(rules) > BL_CUSTOM_RULES_MAX) {
        bl_custom_problem(problems, "caching.invalidationRules", "at most %d event types", BL_CUSTOM_RULES_MAX);
        return -1;
    }
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *type = json_string_value(r);
        bl_err err = {0};
        if (env->catalog && !bl_catalog_find(env->catalog, BL_MSG_EVENT, NULL, type, &err) &&
            err.code == BL_ENOTFOUND) {
            char field[64];
            snprintf(field, sizeof field, "caching.invalidationRules[%zu]", i);
            bl_custom_problem(problems, field, "\"%s\" is not an event type of the bus's catalog", type);
            rc = -1;
            continue;
        }
        d->rules[d->rule_count++] = strdup(type);
    }
    return rc ? -1 : 0;
}

/* {id, name?, wait?, waitTimeout?}: the api-call workflow run per request. */
int bl_custom_parse_workflow(bl_custom_def *d, const json_t *wf, json_t *problems)
{
    if (!wf || json_is_null(wf))
        return 0;
    const char *id = json_string_value(json_object_get(wf, "id"));
    const json_t *wait = json_object_get(wf, "wait"), *timeout = json_object_get(wf, "waitTimeout");
    int rc = 0;
    if (!json_is_object(wf) || !id || !*id || strlen(id) >= sizeof d->workflow_id) {
        bl_custom_problem(problems, "workflow",
                          "{id, name?, wait?, waitTimeout?}: id names a workflow whose trigger is \"api-call\"");
        return -1;
    }
    snprintf(d->workflow_id, sizeof d->workflow_id, "%s", id);
    if (wait && !json_is_boolean(wait)) {
        bl_custom_problem(problems, "workflow.wait", "true or false (default false: answer 202 at once)");
        rc = -1;
    }
    d->workflow_wait = json_is_true(wait);
    d->workflow_wait_ms = BL_CUSTOM_WORKFLOW_WAIT_DEFAULT_MS;
    if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
                    json_integer_value(timeout) > BL_CUSTOM_WORKFLOW_WAIT_MAX_MS)) {
        bl_custom_problem(problems, "workflow.waitTimeout", "milliseconds, 1 to 30000 (default 10000)");
        rc = -1;
    } else if (timeout)
        d->workflow_wait_ms = json_integer_value(timeout);
    return rc;
}

int bl_custom_parse_version(const char *v, int parts[3])
{
    if (!v)
        return -1;
    char tail;
    if (strspn(v, "0123456789.") != strlen(v) || strlen(v) > 30 ||
        sscanf(v, "%d.%d.%d%c", &parts[0], &parts[1], &parts[2], &tail) != 3 || parts[0] < 0 || parts[1] < 0 ||
        parts[2] < 0)
        return -1;
    return 0;
}
