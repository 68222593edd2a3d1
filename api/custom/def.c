/* A definition checked whole and compiled: every field, every reference,
 * every JSON Schema and every transformation test case (bl_custom_def). */
#include "api/custom/def_calls.h"
#include "api/custom/def_parts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_fields[] = {
    "id",        "name",         "path",      "method",       "description", "authentication", "rateLimit",
    "caching",   "transformations", "integrations", "workflow", "outputSchema", "version", "isActive",
    "createdAt", "updatedAt",    "url",       NULL};

static bool known(const char *field)
{
    for (size_t i = 0; known_fields[i]; i++)
        if (strcmp(known_fields[i], field) == 0)
            return true;
    return false;
}

/* Runs every transformation's test cases; a failure is a problem. */
static void run_test_cases(const bl_transform_chain *chain, json_t *problems)
{
    json_t *failures = NULL;
    int n = bl_transform_chain_run_tests(chain, &failures);
    if (n < 0) {
        bl_custom_problem(problems, "transformations", "out of memory running the test cases");
        return;
    }
    size_t i;
    json_t *f;
    json_array_foreach(failures, i, f)
    {
        char field[96], text[512];
        snprintf(field, sizeof field, "transformations[%lld].testCases[%lld]",
                 (long long)json_integer_value(json_object_get(f, "rule")),
                 (long long)json_integer_value(json_object_get(f, "index")));
        bl_transform_failure_text(f, text, sizeof text);
        bl_custom_problem(problems, field, "%s", text);
    }
    json_decref(failures);
}

static void parse_work(bl_custom_def *d, const json_t *def, const char *org_id, const bl_custom_env *env,
                       json_t *problems)
{
    bl_err err = {0};
    const json_t *tr = json_object_get(def, "transformations");
    if (tr && !json_is_array(tr) && !json_is_null(tr))
        bl_custom_problem(problems, "transformations", "an array of TransformationRules");
    else if (json_array_size(tr) == 0)
        d->chain = NULL; /* none: the integrations' answers are the answer */
    else if (!(d->chain = bl_transform_chain_compile(tr, &err)))
        bl_custom_problem(problems, "transformations", "%s", err.msg);
    else
        run_test_cases(d->chain, problems);
    const json_t *out = json_object_get(def, "outputSchema");
    if (out && !json_is_null(out) && !(d->output_schema = bl_json_schema_compile(out, &err)))
        bl_custom_problem(problems, "outputSchema", "%s", err.msg);
    d->calls = bl_custom_calls_compile(json_object_get(def, "integrations"), org_id, env, problems);
}

bl_custom_def *bl_custom_def_compile(const json_t *def, const char *org_id, const bl_custom_env *env,
                                     json_t *problems)
{
    if (!json_is_object(def)) {
        bl_custom_problem(problems, "(body)", "a JSON object: the endpoint's APIEndpointConfig");
        return NULL;
    }
    bl_custom_def *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    atomic_init(&d->refs, 1);
    const char *field;
    const json_t *v;
    json_object_foreach((json_t *)def, field, v) if (!known(field))
        bl_custom_problem(problems, field, "not a field of APIEndpointConfig");
    const char *name = json_string_value(json_object_get(def, "name"));
    if (!name || !*name || strlen(name) > 200)
        bl_custom_problem(problems, "name", "required, 1 to 200 characters");
    else
        d->name = strdup(name);
    const char *method = json_string_value(json_object_get(def, "method"));
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    for (size_t i = 0; method && i < 5; i++)
        if (strcmp(method, methods[i]) == 0)
            snprintf(d->method, sizeof d->method, "%s", method);
    if (!d->method[0])
        bl_custom_problem(problems, "method", "one of GET, POST, PUT, DELETE, PATCH");
    const json_t *desc = json_object_get(def, "description");
    if (desc && !json_is_null(desc) && (!json_is_string(desc) || json_string_length(desc) > 2000))
        bl_custom_problem(problems, "description", "a string of at most 2000 characters");
    bl_custom_parse_path(d, json_string_value(json_object_get(def, "path")), problems);
    const char *version = json_string_value(json_object_get(def, "version"));
    int parts[3];
    if (version && bl_custom_parse_version(version, parts) != 0)
        bl_custom_problem(problems, "version", "semver MAJOR.MINOR.PATCH (\"1.0.0\")");
    snprintf(d->version, sizeof d->version, "%s", version ? version : "1.0.0");
    const json_t *active = json_object_get(def, "isActive");
    if (active && !json_is_boolean(active))
        bl_custom_problem(problems, "isActive", "true or false");
    d->active = !active || json_is_true(active);
    bl_custom_parse_auth(d, json_object_get(def, "authentication"), env, problems);
    bl_custom_parse_rate(d, json_object_get(def, "rateLimit"), problems);
    bl_custom_parse_cache(d, json_object_get(def, "caching"), env, problems);
    bl_custom_parse_workflow(d, json_object_get(def, "workflow"), problems);
    snprintf(d->org_id, sizeof d->org_id, "%s", org_id ? org_id : "");
    parse_work(d, def, org_id, env, problems);
    if (d->workflow_id[0] && (json_array_size(json_object_get(def, "integrations")) > 0 ||
                              json_array_size(json_object_get(def, "transformations")) > 0))
        bl_custom_problem(problems, "workflow",
                          "an endpoint that hands its requests to a workflow does its work in the workflow's steps:"
                          " no integrations or transformations of its own");
    if (json_object_size(problems) > 0) {
        bl_custom_def_unref(d);
        return NULL;
    }
    return d;
}

bl_custom_def *bl_custom_def_ref(bl_custom_def *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

void bl_custom_def_unref(bl_custom_def *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    free(d->name);
    free(d->path);
    for (size_t i = 0; i < d->seg_count; i++)
        free(d->segs[i]);
    for (size_t i = 0; d->scopes && i < d->scope_count; i++)
        free(d->scopes[i]);
    free(d->scopes);
    free(d->introspect_url);
    free(d->client_id);
    if (d->client_secret) {
        memset(d->client_secret, 0, strlen(d->client_secret));
        free(d->client_secret);
    }
    for (size_t i = 0; i < d->rule_count; i++)
        free(d->rules[i]);
    bl_transform_chain_free(d->chain);
    bl_json_schema_free(d->output_schema);
    bl_custom_calls_free(d->calls);
    free(d);
}

bool bl_custom_def_match(const bl_custom_def *d, const char *const *segs, size_t n, json_t *params)
{
    if (n != d->seg_count)
        return false;
    for (size_t i = 0; i < n; i++)
        if (d->segs[i][0] != ':' && strcmp(d->segs[i], segs[i]) != 0)
            return false;
    for (size_t i = 0; params && i < n; i++)
        if (d->segs[i][0] == ':')
            json_object_set_new(params, d->segs[i] + 1, json_string(segs[i]));
    return true;
}

int bl_custom_def_seal_secret(json_t *def, const json_t *prev, const bl_custom_env *env, json_t *problems)
{
    json_t *auth = json_object_get(def, "authentication");
    json_t *settings = json_object_get(auth, "settings");
    if (!json_is_object(settings) || !json_is_string(json_object_get(auth, "type")) ||
        strcmp(json_string_value(json_object_get(auth, "type")), "oauth2") != 0)
        return 0;
    json_object_del(settings, "clientSecretSealed");
    json_object_del(settings, "clientSecretSet");
    const char *client = json_string_value(json_object_get(settings, "clientId"));
    const char *secret = json_string_value(json_object_get(settings, "clientSecret"));
    if (!client)
        return 0; /* the parser names it */
    if (!secret) { /* kept from the previous version with the same client */
        const json_t *ps = json_object_get(json_object_get(prev, "authentication"), "settings");
        const char *pclient = json_string_value(json_object_get(ps, "clientId"));
        json_t *sealed = json_object_get(ps, "clientSecretSealed");
        if (pclient && strcmp(pclient, client) == 0 && json_is_string(sealed))
            json_object_set(settings, "clientSecretSealed", sealed);
        return 0;
    }
    if (!env->keyring) {
        bl_custom_problem(problems, "authentication.settings.clientSecret",
                          "secrets are kept encrypted: this server has no BUSLINE_ENCRYPTION_KEYS");
        return -1;
    }
    bl_err err = {0};
    char *sealed = bl_keyring_seal(env->keyring, secret, strlen(secret), client, strlen(client), &err);
    if (!sealed) {
        bl_custom_problem(problems, "authentication.settings.clientSecret", "cannot be sealed: %s", err.msg);
        return -1;
    }
    json_object_set_new(settings, "clientSecretSealed", json_string(sealed));
    json_object_del(settings, "clientSecret");
    free(sealed);
    return 0;
}

json_t *bl_custom_def_public(const json_t *def)
{
    json_t *copy = json_deep_copy(def);
    json_t *settings = json_object_get(json_object_get(copy, "authentication"), "settings");
    if (json_is_object(settings) && json_object_get(settings, "clientSecretSealed")) {
        json_object_del(settings, "clientSecretSealed");
        json_object_set_new(settings, "clientSecretSet", json_true());
    }
    return copy;
}
