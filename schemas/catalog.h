/* The schema catalog: loads busline's .avsc files, assembles one Avro schema
 * per topic (the envelope with a union of that topic's data records, see
 * SCHEMAS-LAYOUT) and maps each event or command type to its topic and union
 * branch.
 *
 * Folder layout read by bl_catalog_load:
 *   envelope.event.avsc, envelope.command.avsc   templates of the envelopes
 *   events/<domain>/<entity>.<what>.avsc         -> topic events.<domain>.<entity>
 *   commands/<domain>/<entity>.<verb>.avsc       -> topic commands.<domain>
 * Each message file holds one record in namespace busline.<events|commands>.<domain>.
 * Union branches follow file-name order. A loaded catalog is read-only and may
 * be shared between threads. */
#ifndef BUSLINE_SCHEMAS_CATALOG_H
#define BUSLINE_SCHEMAS_CATALOG_H

#include "core/err.h"

#include <avro.h>
#include <stddef.h>

typedef enum bl_msg_kind { BL_MSG_EVENT = 0, BL_MSG_COMMAND = 1 } bl_msg_kind;

/* One event or command type. All strings are owned by the catalog. */
typedef struct bl_catalog_msg {
    bl_msg_kind kind;
    const char *domain;      /* "pmo" */
    const char *type;        /* "risk.escalated" or "risk.create": the envelope's type */
    const char *topic;       /* "events.pmo.risk" or "commands.pmo" */
    const char *record_name; /* full Avro name, "busline.events.pmo.RiskEscalated" */
    const char *path;        /* the .avsc file it was read from */
    int branch;              /* index of its record in the topic's data union */
} bl_catalog_msg;

/* One topic and its assembled schema. All fields are owned by the catalog. */
typedef struct bl_catalog_topic {
    const char *name;        /* "events.pmo.risk" */
    const char *subject;     /* schema-registry subject, "events.pmo.risk-value" */
    const char *schema_json; /* the assembled schema as compact JSON text */
    avro_schema_t schema;    /* the same, parsed by avro-c; incref to keep it beyond the catalog */
    bl_msg_kind kind;
    const char *domain;
    size_t msg_count;        /* branches in the data union */
} bl_catalog_topic;

typedef struct bl_catalog bl_catalog;

/* Returns the schemas folder the binary should use: $BUSLINE_SCHEMAS_DIR when
 * set and non-empty, else the source tree's schemas/. Borrowed string. */
const char *bl_catalog_default_dir(void);

/* Reads and validates every .avsc under dir and assembles the topic schemas.
 * A file that avro-c refuses, or that breaks the layout, fails the whole load
 * with err naming the file. Returns a catalog to free with bl_catalog_free,
 * or NULL with err filled. */
bl_catalog *bl_catalog_load(const char *dir, bl_err *err);

/* Frees the catalog and everything borrowed from it. Accepts NULL. */
void bl_catalog_free(bl_catalog *cat);

/* Topics, sorted by name: count, then 0 <= i < count (NULL when out of range). */
size_t bl_catalog_topic_count(const bl_catalog *cat);
const bl_catalog_topic *bl_catalog_topic_at(const bl_catalog *cat, size_t i);

/* The topic named name, or NULL with err (may be NULL) filled BL_ENOTFOUND. */
const bl_catalog_topic *bl_catalog_topic_find(const bl_catalog *cat, const char *name, bl_err *err);

/* Message types, sorted by kind, domain, then type: count, then 0 <= i < count. */
size_t bl_catalog_msg_count(const bl_catalog *cat);
const bl_catalog_msg *bl_catalog_msg_at(const bl_catalog *cat, size_t i);

/* Counts the message types of one kind. */
size_t bl_catalog_msg_count_kind(const bl_catalog *cat, bl_msg_kind kind);

/* Finds a message type of the given kind, e.g. (BL_MSG_EVENT, "pmo",
 * "risk.escalated"). domain may be NULL when the type is unique across domains
 * (report.generated is not: it exists in pmo and fieldservice). Returns the
 * entry, or NULL with err filled: BL_ENOTFOUND when unknown, BL_EINVAL when
 * ambiguous. */
const bl_catalog_msg *bl_catalog_find(const bl_catalog *cat, bl_msg_kind kind,
                                      const char *domain, const char *type, bl_err *err);

#endif
