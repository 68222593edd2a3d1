/* Encodes and appends a domain's events (see domain_events.h). */
#include "producers/outbox/domain_events.h"

#include "busline/outbox.h"
#include "core/clock.h"
#include "core/uuid.h"
#include "schemas/avro_json.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"
#include "schemas/registry_store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define TOPIC_MAX 256
#define NAME_MAX_LEN 128

struct bl_domain_events {
    bl_catalog *catalog;
    bl_avro_schema *schema;
    int32_t schema_id;
    char domain[NAME_MAX_LEN];
    char source[NAME_MAX_LEN];
    char topic[TOPIC_MAX];
    /* avro-c values share the schema's class; one encoding at a time. */
    pthread_mutex_t lock;
};

/* The domain's event topic: its only one (entity NULL), or events.<domain>.<entity>. */
static const bl_catalog_topic *find_topic(const bl_catalog *cat, const char *domain, const char *entity,
                                          bl_err *err)
{
    char name[TOPIC_MAX];
    if (entity)
        snprintf(name, sizeof name, "events.%s.%s", domain, entity);
    for (size_t i = 0; i < bl_catalog_topic_count(cat); i++) {
        const bl_catalog_topic *t = bl_catalog_topic_at(cat, i);
        if (t->kind == BL_MSG_EVENT && strcmp(t->domain, domain) == 0 && (!entity || strcmp(t->name, name) == 0))
            return t;
    }
    bl_err_set(err, BL_ENOTFOUND, "events: no event topic of domain '%s'%s%s in the catalog", domain,
               entity ? " for " : "", entity ? entity : "");
    return NULL;
}

static int register_schema(bl_pg_pool *pool, const char *subject, const char *schema_json,
                           int32_t *id, bl_err *err)
{
    bl_registry_store *st = bl_registry_store_new(pool, 0, err);
    if (!st)
        return -1;
    bl_registry_registered reg = {0};
    int rc = bl_registry_store_register(st, subject, schema_json, &reg, NULL, err);
    bl_registry_store_free(st);
    if (rc != 0)
        return bl_err_wrap(err, "events: register %s", subject);
    *id = reg.id;
    return 0;
}

bl_domain_events *bl_domain_events_new(bl_pg_pool *pool, const char *schemas_dir, const char *domain,
                                       const char *source, const char *topic_prefix, bl_err *err)
{
    return bl_domain_events_new_entity(pool, schemas_dir, domain, NULL, source, topic_prefix, err);
}

bl_domain_events *bl_domain_events_new_entity(bl_pg_pool *pool, const char *schemas_dir, const char *domain,
                                              const char *entity, const char *source, const char *topic_prefix,
                                              bl_err *err)
{
    if (!domain || !source || strlen(domain) >= NAME_MAX_LEN || strlen(source) >= NAME_MAX_LEN) {
        bl_err_set(err, BL_EINVAL, "events: a domain and a source of at most %d bytes are required",
                   NAME_MAX_LEN - 1);
        return NULL;
    }
    bl_domain_events *ev = calloc(1, sizeof *ev);
    if (!ev) {
        bl_err_set(err, BL_ENOMEM, "events: out of memory");
        return NULL;
    }
    pthread_mutex_init(&ev->lock, NULL);
    snprintf(ev->domain, sizeof ev->domain, "%s", domain);
    snprintf(ev->source, sizeof ev->source, "%s", source);
    ev->catalog = bl_catalog_load(schemas_dir ? schemas_dir : bl_catalog_default_dir(), err);
    if (!ev->catalog)
        goto fail;
    const bl_catalog_topic *t = find_topic(ev->catalog, domain, entity, err);
    if (!t)
        goto fail;
    int n = snprintf(ev->topic, sizeof ev->topic, "%s%s", topic_prefix ? topic_prefix : "", t->name);
    if (n < 0 || (size_t)n >= sizeof ev->topic) {
        bl_err_set(err, BL_EINVAL, "events: topic prefix too long");
        goto fail;
    }
    char subject[TOPIC_MAX + 8];
    snprintf(subject, sizeof subject, "%s-value", ev->topic);
    if (register_schema(pool, subject, t->schema_json, &ev->schema_id, err) != 0)
        goto fail;
    ev->schema = bl_avro_schema_parse(t->schema_json, strlen(t->schema_json), err);
    if (!ev->schema)
        goto fail;
    return ev;
fail:
    bl_domain_events_free(ev);
    return NULL;
}

void bl_domain_events_free(bl_domain_events *ev)
{
    if (!ev)
        return;
    bl_avro_schema_free(ev->schema);
    bl_catalog_free(ev->catalog);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

const char *bl_domain_events_topic(const bl_domain_events *ev)
{
    return ev->topic;
}

int32_t bl_domain_events_schema_id(const bl_domain_events *ev)
{
    return ev->schema_id;
}

static int encode(const bl_domain_events *ev, const char *record_name, const json_t *envelope,
                  uint8_t **bytes, size_t *len, bl_err *err)
{
    bl_domain_events *mut = (bl_domain_events *)ev;
    pthread_mutex_lock(&mut->lock);
    avro_value_t value;
    int rc = bl_avro_value_new(ev->schema, &value, err);
    if (rc == 0) {
        bl_avro_json_opts opts = {.mode = BL_AVRO_JSON_PLAIN, .union_hint = record_name};
        rc = bl_avro_from_json(ev->schema, envelope, &opts, &value, err);
        if (rc != 0)
            err->code = BL_EINVAL;
        else
            rc = bl_codec_encode(ev->schema_id, &value, bytes, len, err);
        avro_value_decref(&value);
    }
    pthread_mutex_unlock(&mut->lock);
    return rc;
}

int bl_domain_events_append(const bl_domain_events *ev, PGconn *conn_in_tx, const char *type,
                            const char *organization_id, const char *aggregate_type,
                            const char *aggregate_id, const json_t *data, bl_err *err)
{
    const bl_catalog_msg *msg = bl_catalog_find(ev->catalog, BL_MSG_EVENT, ev->domain, type, err);
    if (!msg)
        return bl_err_wrap(err, "events");
    char id[BL_UUID_SIZE];
    if (bl_uuid_random(id, err) != 0)
        return -1;
    json_t *envelope = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:O}", "id", id, "type", type,
                                 "time", (json_int_t)bl_clock_wall_ms(), "source", ev->source,
                                 "organization_id", organization_id, "subject", aggregate_id,
                                 "data", (json_t *)data);
    if (!envelope)
        return bl_err_set(err, BL_ENOMEM, "events: cannot build the envelope");
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = encode(ev, msg->record_name, envelope, &bytes, &len, err);
    json_decref(envelope);
    if (rc != 0)
        return bl_err_wrap(err, "events: %s", type);
    bl_outbox_event oe = {
        .aggregate_type = aggregate_type,
        .aggregate_id = aggregate_id,
        .event_type = type,
        .topic = ev->topic,
        .schema_id = ev->schema_id,
        .payload = bytes,
        .payload_len = len,
        .source = ev->source,
        .id = id,
        .subject = aggregate_id,
    };
    rc = bl_outbox_append(conn_in_tx, &oe, err);
    free(bytes);
    return rc;
}
