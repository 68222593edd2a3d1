/* What the media route files share (api/fieldservice/route_medias.c and
 * media_upload.c): the routes' context and the media row as JSON. */
#ifndef BUSLINE_API_FIELDSERVICE_MEDIA_INTERNAL_H
#define BUSLINE_API_FIELDSERVICE_MEDIA_INTERNAL_H

#include "api/fieldservice/media_store.h"
#include "api/fieldservice/media_type.h"
#include "api/server.h"
#include "producers/outbox/domain_events.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct bl_media_routes {
    bl_api_server *server;
    const bl_media_store *store;
    bl_media_sniffer *sniffer;
    const char *prefix; /* the field-service surface's ("/api"), borrowed from the server */
    atomic_uint uploads; /* in progress, at most the server's upload_concurrency */
    pthread_mutex_t events_lock;
    bl_domain_events *events; /* events.fieldservice.media, made by the first upload */
} bl_media_routes;

/* The media.uploaded encoder of m, made on first use (it registers its
 * schema). Returns it (owned by m) or NULL with err. */
bl_domain_events *bl_media_events(bl_media_routes *m, bl_err *err);

/* The streamed steps of POST /medias/upload (ctx: the bl_media_routes). */
extern const bl_api_stream_fns bl_media_upload_steps;

/* Attaches the OpenAPI operations of the media routes (registered before).
 * Returns 0 or -1 with err. */
int bl_media_document(bl_api_server *s, bl_err *err);

/* SQL of one media row m as the API's JSON object; $1 is the URL prefix
 * (the surface's, "/api") of its download link. */
#define BL_MEDIA_JSON_SQL                                                                          \
    "json_build_object('id', m.media_id, 'intervention_id', m.intervention_id, "                   \
    "'nom_fichier', m.filename, 'description', m.description, 'tags', m.tags, "                    \
    "'type_media', m.type_media, 'content_type', m.content_type, 'taille', m.size_bytes, "          \
    "'sha256', m.sha256, 'url', $1::text || '/medias/' || m.media_id || '/download', "             \
    "'date_creation', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"

#endif
