/* The integration sets of a connector host: integrations loaded from their
 * specs, one instance of the connector per integration and handler, and the
 * reference counts that let a reload swap sets under running events. */
#include "connectors/connect_internal.h"

#include "connectors/oauth/oauth.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void integration_clear(integration *in)
{
    free(in->id);
    free(in->organization_id);
    free(in->settings);
    free(in->disabled);
    json_decref(in->credentials);
    bl_mapping_free(in->mapping);
}

static int integration_load(bl_connect *c, integration *in, const json_t *spec, bl_err *err)
{
    const char *id = json_string_value(json_object_get(spec, "id"));
    if (!id || !*id)
        return bl_err_set(err, BL_EINVAL, "id: a non-empty string is required");
    const json_t *settings = json_object_get(spec, "settings");
    if (settings && !json_is_object(settings))
        return bl_err_set(err, BL_EINVAL, "settings: an object is required");
    const json_t *creds = json_object_get(spec, "credentials");
    if (creds && !json_is_object(creds))
        return bl_err_set(err, BL_EINVAL, "credentials: an object is required");
    const json_t *oauth = json_object_get(spec, "oauth");
    if (oauth && !json_is_boolean(oauth))
        return bl_err_set(err, BL_EINVAL, "oauth: a boolean is required");
    const char *status = json_string_value(json_object_get(spec, "status"));
    if (status && strcmp(status, "connected") != 0 && strcmp(status, "error") != 0)
        return bl_err_set(err, BL_EINVAL, "status: connected or error");
    const char *org = json_string_value(json_object_get(spec, "organization_id"));
    in->id = strdup(id);
    in->organization_id = org ? strdup(org) : NULL;
    in->settings = settings ? json_dumps(settings, JSON_COMPACT) : strdup("{}");
    in->credentials = creds ? json_deep_copy(creds) : json_object();
    /* Without "oauth", the token source (when there is one) serves every
     * integration, as before the Postgres source existed. */
    in->oauth = oauth ? json_is_true(oauth) : c->cfg.token != NULL;
    if (status && strcmp(status, "error") == 0) {
        const char *why = json_string_value(json_object_get(spec, "error_message"));
        in->disabled = strdup(why && *why ? why : "the integration is in error");
    }
    if (!in->id || (org && !in->organization_id) || !in->settings || !in->credentials ||
        (status && strcmp(status, "error") == 0 && !in->disabled))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    json_t *rules = json_object_get(spec, "rules");
    json_t *none = rules ? NULL : json_array();
    in->mapping = bl_mapping_new(rules ? rules : none, c->table,
                                 c->cfg.catalog ? bl_mapping_catalog_field_known : NULL,
                                 (void *)c->cfg.catalog, err);
    json_decref(none);
    return in->mapping ? 0 : bl_err_wrap(err, "rules");
}

/* Creates the host and instance of integration i in set is. */
static int instance_init(bl_connect *c, instance_set *is, const integration *in, size_t i, bl_err *err)
{
    bl_connector_host_config hc = {
        .connector = c->cfg.connector,
        .integration_id = in->id,
        .credentials = in->credentials,
        .state = c->cfg.state,
        .http_timeout_ms = c->cfg.http_timeout_ms,
        .token = in->oauth ? c->cfg.token : NULL,
        .token_ctx = c->cfg.token_ctx,
    };
    is->hosts[i] = bl_connector_host_new(&hc, err);
    if (!is->hosts[i])
        return bl_err_wrap(err, "integration %s", in->id);
    char why[BL_ERR_MSG_MAX] = "";
    if (c->table->init(in->settings, bl_connector_host_table(is->hosts[i]), &is->instances[i], why, sizeof why) !=
        0) {
        is->instances[i] = NULL;
        return bl_err_set(err, BL_EINVAL, "integration %s: %s", in->id, why[0] ? why : "init failed");
    }
    return 0;
}

static void instance_clear(bl_connect *c, instance_set *is, size_t i)
{
    if (is->instances && is->instances[i])
        c->table->shutdown(is->instances[i]);
    if (is->hosts)
        bl_connector_host_free(is->hosts[i]);
}

void bl_connect_set_free(bl_connect *c, integration_set *s)
{
    if (!s)
        return;
    for (size_t h = 0; s->per_handler && h < c->n_sets; h++) {
        for (size_t i = 0; i < s->n_ints; i++)
            instance_clear(c, &s->per_handler[h], i);
        free(s->per_handler[h].hosts);
        free(s->per_handler[h].instances);
    }
    free(s->per_handler);
    for (size_t i = 0; s->ints && i < s->n_ints; i++)
        integration_clear(&s->ints[i]);
    free(s->ints);
    free(s);
}

/* Loads integration spec k into slot s->n_ints and its instances; on
 * success s->n_ints grows. Returns 0, or -1 with err and s unchanged. */
static int set_add(bl_connect *c, integration_set *s, const json_t *spec, size_t k, bl_err *err)
{
    size_t i = s->n_ints;
    integration *in = &s->ints[i];
    memset(in, 0, sizeof *in);
    int rc = integration_load(c, in, spec, err);
    if (rc != 0)
        bl_err_wrap(err, "integration %zu", k + 1);
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(s->ints[j].id, in->id) == 0)
            rc = bl_err_set(err, BL_EINVAL, "integration %s: id used twice", in->id);
    size_t made = 0; /* sets whose slot i needs clearing on failure */
    while (rc == 0 && made < c->n_sets)
        rc = instance_init(c, &s->per_handler[made++], in, i, err);
    if (rc == 0) {
        s->n_ints++;
        return 0;
    }
    for (size_t h = 0; h < made; h++) {
        instance_clear(c, &s->per_handler[h], i);
        s->per_handler[h].hosts[i] = NULL;
        s->per_handler[h].instances[i] = NULL;
    }
    integration_clear(in);
    memset(in, 0, sizeof *in);
    return -1;
}

/* Builds a set from integrations (a JSON array). An integration marked
 * "skip_invalid" that does not load is logged and left out; any other
 * failure fails the whole set. Returns the set (refs 1) or NULL with err. */
integration_set *bl_connect_set_build(bl_connect *c, const json_t *integrations, bl_err *err)
{
    size_t n = json_array_size(integrations);
    if (!json_is_array(integrations) || n > BL_CONNECT_MAX_INTEGRATIONS) {
        bl_err_set(err, BL_EINVAL, "connect: integrations: an array of at most %d is required",
                   BL_CONNECT_MAX_INTEGRATIONS);
        return NULL;
    }
    integration_set *s = calloc(1, sizeof *s);
    if (!s || !(s->ints = calloc(n + 1, sizeof *s->ints)) ||
        !(s->per_handler = calloc(c->n_sets, sizeof *s->per_handler)))
        goto oom;
    for (size_t h = 0; h < c->n_sets; h++)
        if (!(s->per_handler[h].hosts = calloc(n + 1, sizeof *s->per_handler[h].hosts)) ||
            !(s->per_handler[h].instances = calloc(n + 1, sizeof *s->per_handler[h].instances)))
            goto oom;
    s->refs = 1;
    for (size_t k = 0; k < n; k++) {
        const json_t *spec = json_array_get(integrations, k);
        if (set_add(c, s, spec, k, err) == 0)
            continue;
        if (!json_is_true(json_object_get(spec, "skip_invalid"))) {
            bl_connect_set_free(c, s);
            return NULL;
        }
        bl_log_warn("connect: integration left out", BL_FS("connector", c->cfg.connector), BL_FS("error", err->msg));
        bl_err_clear(err);
    }
    return s;
oom:
    bl_connect_set_free(c, s);
    bl_err_set(err, BL_ENOMEM, "out of memory");
    return NULL;
}

integration_set *bl_connect_set_acquire(bl_connect *c)
{
    pthread_mutex_lock(&c->lock);
    integration_set *s = c->set;
    s->refs++;
    pthread_mutex_unlock(&c->lock);
    return s;
}

void bl_connect_set_release(bl_connect *c, integration_set *s)
{
    pthread_mutex_lock(&c->lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        bl_connect_set_free(c, s);
}

int bl_connect_reload(bl_connect *c, const json_t *integrations, bl_err *err)
{
    integration_set *s = bl_connect_set_build(c, integrations, err);
    if (!s)
        return -1;
    pthread_mutex_lock(&c->lock);
    integration_set *old = c->set;
    c->set = s;
    pthread_mutex_unlock(&c->lock);
    if (old)
        bl_connect_set_release(c, old);
    bl_log_info("connect: integrations loaded", BL_FS("connector", c->cfg.connector),
                BL_FI("integrations", s->n_ints));
    return 0;
}

size_t bl_connect_integration_count(bl_connect *c)
{
    integration_set *s = bl_connect_set_acquire(c);
    size_t n = s->n_ints;
    bl_connect_set_release(c, s);
    return n;
}
