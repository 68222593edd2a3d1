#include "producers/domain_service/codec.h"

#include "producers/domain_service/schema_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_domain_codec {
    char *domain;
    bl_catalog *catalog;
    bl_registry_client *registry;
    const char *commands_topic; /* deployed name, borrowed from ids */
    bl_domain_schema_ids *ids;
    bl_schema_cache *cache;
    bl_avro_schema *command_reader; /* the commands.<domain> topic schema */
    const bl_catalog_topic *command_topic;
};

bl_domain_codec *bl_domain_codec_new(const bl_domain_codec_opts *opts, bl_err *err)
{
    bl_domain_codec *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "domain codec: out of memory");
        return NULL;
    }
    if (!opts->domain || !(c->domain = strdup(opts->domain))) {
        bl_err_set(err, opts->domain ? BL_ENOMEM : BL_EINVAL, "domain codec: no domain");
        goto fail;
    }
    c->catalog = bl_catalog_load(opts->schemas_dir ? opts->schemas_dir : bl_catalog_default_dir(),
                                 err);
    if (!c->catalog || !(c->registry = bl_registry_client_new(opts->registry_url, 0, err)))
        goto fail;
    c->ids = bl_domain_schema_ids_new(c->catalog, c->registry, c->domain, opts->commands_topic,
                                   opts->events_prefix, err);
    if (!c->ids)
        goto fail;
    c->cache = bl_schema_cache_new(bl_registry_client_fetch_schema, c->registry, err);
    if (!c->cache)
        goto fail;
    int32_t unused;
    char topic_name[128];
    snprintf(topic_name, sizeof topic_name, "commands.%s", c->domain);
    c->command_topic = bl_catalog_topic_find(c->catalog, topic_name, err);
    if (!c->command_topic ||
        bl_domain_schema_ids_get(c->ids, c->command_topic->name, &unused, &c->commands_topic, err) != 0)
        goto fail;
    c->command_reader = bl_avro_schema_parse(c->command_topic->schema_json,
                                             strlen(c->command_topic->schema_json), err);
    if (!c->command_reader)
        goto fail;
    return c;
fail:
    bl_domain_codec_free(c);
    return NULL;
}

void bl_domain_codec_free(bl_domain_codec *c)
{
    if (!c)
        return;
    bl_schema_cache_free(c->cache); /* before the reader its resolvers point to */
    bl_avro_schema_free(c->command_reader);
    bl_domain_schema_ids_free(c->ids);
    bl_registry_client_free(c->registry);
    bl_catalog_free(c->catalog);
    free(c->domain);
    free(c);
}

const bl_catalog *bl_domain_codec_catalog(const bl_domain_codec *c)
{
    return c->catalog;
}

bl_schema_cache *bl_domain_codec_cache(bl_domain_codec *c)
{
    return c->cache;
}

const char *bl_domain_codec_commands_topic(const bl_domain_codec *c)
{
    return c->commands_topic;
}

int bl_domain_codec_encode(bl_domain_codec *c, bl_msg_kind kind, const json_t *envelope,
                        bl_domain_wire *out, bl_err *err)
{
    const char *type = json_string_value(json_object_get(envelope, "type"));
    if (!type)
        return bl_err_set(err, BL_EINVAL, "%s: $.type: missing or not a string", c->domain);
    const bl_catalog_msg *msg = bl_catalog_find(c->catalog, kind, c->domain, type, err);
    if (!msg)
        return bl_err_wrap(err, "%s: $.type", c->domain);
    int32_t id;
    const char *topic = NULL;
    if (bl_domain_schema_ids_get(c->ids, msg->topic, &id, &topic, err) != 0)
        return -1;
    const bl_avro_schema *schema = bl_schema_cache_get(c->cache, id, err);
    if (!schema)
        return -1;
    avro_value_t value;
    if (bl_avro_value_new(schema, &value, err) != 0)
        return -1;
    bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = msg->record_name};
    int rc = bl_avro_from_json(schema, envelope, &opts, &value, err);
    if (rc != 0)
        err->code = BL_EINVAL;
    else
        rc = bl_codec_encode(id, &value, &out->bytes, &out->len, err);
    avro_value_decref(&value);
    if (rc == 0) {
        out->msg = msg;
        out->topic = topic;
        out->schema_id = id;
    }
    return rc;
}

/* Checks that the decoded command's type names the record its data union
 * holds. */
static int check_branch(const bl_domain_codec *c, avro_value_t *value, const char *type, bl_err *err)
{
    const bl_catalog_msg *msg = bl_catalog_find(c->catalog, BL_MSG_COMMAND, c->domain, type, err);
    if (!msg)
        return bl_err_set(err, BL_EINVAL, "%s: unknown command type '%s'", c->domain, type);
    avro_value_t data;
    int branch = -1;
    if (avro_value_get_by_name(value, "data", &data, NULL) != 0 ||
        avro_value_get_discriminant(&data, &branch) != 0)
        return bl_err_set(err, BL_EINVAL, "%s: command without data: %s", c->domain, avro_strerror());
    if (branch != msg->branch)
        return bl_err_set(err, BL_EINVAL, "%s: type %s does not match its data (branch %d, not %d)", c->domain,
                          type, branch, msg->branch);
    return 0;
}

json_t *bl_domain_codec_decode_command(bl_domain_codec *c, const void *bytes, size_t len, bl_err *err)
{
    if (!bytes)
        len = 0;
    avro_value_t value;
    if (bl_codec_decode_as(c->cache, c->command_reader, bytes, len, &value, err) != 0) {
        err->code = BL_EINVAL;
        return NULL;
    }
    json_t *json = bl_avro_to_json(c->command_reader, &value, BL_AVRO_JSON_PLAIN, err);
    if (json && check_branch(c, &value, json_string_value(json_object_get(json, "type")), err) != 0) {
        json_decref(json);
        json = NULL;
    }
    if (!json)
        err->code = BL_EINVAL;
    avro_value_decref(&value);
    return json;
}
