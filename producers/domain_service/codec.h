/* A domain's messages on the wire: encodes command and event envelopes from plain
 * JSON into the Confluent wire format with their topic's assembled schema
 * (registered in the schema registry), and decodes commands back, checking
 * the envelope's type against the union branch it carries. Wraps the
 * catalog, a registry client, the schema ids and a schema cache. */
#ifndef BUSLINE_PRODUCERS_DOMAIN_SERVICE_CODEC_H
#define BUSLINE_PRODUCERS_DOMAIN_SERVICE_CODEC_H

#include "core/err.h"
#include "schemas/catalog.h"
#include "schemas/codec.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bl_domain_codec bl_domain_codec;

typedef struct bl_domain_codec_opts {
    const char *domain;         /* required: catalog domain, e.g. "pmo" */
    const char *registry_url;   /* required, e.g. "http://127.0.0.1:8081" */
    const char *schemas_dir;    /* NULL: bl_catalog_default_dir() */
    const char *commands_topic; /* deployed commands topic; NULL: "commands.<domain>" */
    const char *events_prefix;  /* prepended to event topics; NULL: none */
} bl_domain_codec_opts;

/* Loads the catalog and registers the domain's topic schemas under their deployed
 * names (see schema_ids.h). Returns the codec (free with
 * bl_domain_codec_free) or NULL with err. */
bl_domain_codec *bl_domain_codec_new(const bl_domain_codec_opts *opts, bl_err *err);

/* Frees c. Accepts NULL. */
void bl_domain_codec_free(bl_domain_codec *c);

/* Borrowed views, valid while c lives. */
const bl_catalog *bl_domain_codec_catalog(const bl_domain_codec *c);
bl_schema_cache *bl_domain_codec_cache(bl_domain_codec *c);
const char *bl_domain_codec_commands_topic(const bl_domain_codec *c); /* deployed name */

/* One encoded message. bytes is malloc()ed: the caller frees it. */
typedef struct bl_domain_wire {
    const bl_catalog_msg *msg; /* its catalog entry (type, branch), borrowed from c */
    const char *topic;         /* the deployed topic to send it to, borrowed from c */
    int32_t schema_id;
    uint8_t *bytes;
    size_t len;
} bl_domain_wire;

/* Encodes envelope, a plain-JSON envelope (id, type, time, source,
 * organization_id, subject, data; commands also actor and optionally
 * idempotency_key) of a message of the domain of kind; its "type" picks the catalog
 * entry and the data branch. Returns 0 with *out filled, or -1 with err:
 * BL_EINVAL for an unknown type or a value the schema refuses (the message
 * names the JSON path). */
int bl_domain_codec_encode(bl_domain_codec *c, bl_msg_kind kind, const json_t *envelope,
                        bl_domain_wire *out, bl_err *err);

/* Decodes a command in wire format (len bytes) into a new plain-JSON
 * envelope (caller json_decref's it). Refuses (BL_EINVAL) bytes that are not
 * wire format of a known schema, or whose type is not the domain's command whose
 * record the data union holds. Returns NULL with err. */
json_t *bl_domain_codec_decode_command(bl_domain_codec *c, const void *bytes, size_t len, bl_err *err);

#endif
