/* What the three parts of the connector host share (not installed): the
 * integration sets (connect_set.c), event processing (connect.c) and the
 * handler threads under the consumer runtime (connect_handlers.c). */
#ifndef BUSLINE_CONNECTORS_CONNECT_INTERNAL_H
#define BUSLINE_CONNECTORS_CONNECT_INTERNAL_H

#include "connectors/connect.h"
#include "connectors/loader.h"
#include "connectors/mapping.h"

#include <pthread.h>

typedef struct integration {
    char *id;
    char *organization_id; /* NULL: every organization */
    char *settings;        /* JSON text given to init */
    json_t *credentials;
    bl_mapping *mapping;
    int oauth;             /* bearer tokens from cfg.token */
    char *disabled;        /* status "error": why its events are dead-lettered */
} integration;

/* The instances of one handler thread (or of the inline caller). */
typedef struct instance_set {
    bl_connector_host_impl **hosts; /* per integration */
    void **instances;               /* per integration */
} instance_set;

/* What a load (bl_connect_new or a reload) built: the integrations and one
 * instance set per handler. Reference counted: the connector holds one, each
 * event being processed another, so a reload never frees instances in use. */
typedef struct integration_set {
    integration *ints;
    size_t n_ints;
    instance_set *per_handler;
    int refs;
} integration_set;

typedef struct handler {
    struct bl_connect *c;
    pthread_t thread;
    int started;
    size_t index;
} handler;

/* One message handed to the handler threads. */
typedef struct work {
    bl_runtime_job *job; /* NULL once the runtime abandoned it */
    bl_runtime *rt;
    json_t *event;       /* NULL when decoding failed */
    char error[256];
    int attempt;
    int running;
    struct work *next;
} work;

struct bl_connect {
    bl_connect_config cfg;
    bl_connector_lib *lib;
    const bl_connector_table *table;
    integration_set *set; /* current; replaced under lock by reloads */
    handler *handlers;
    size_t n_sets; /* instance sets: one per handler thread, or one inline */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    work *head, *tail;
    int quit;
};

/* Builds a set from integrations (a JSON array). An integration marked
 * "skip_invalid" that does not load is logged and left out; any other
 * failure fails the whole set. Returns the set (refs 1; free with
 * bl_connect_set_release) or NULL with err. */
integration_set *bl_connect_set_build(bl_connect *c, const json_t *integrations, bl_err *err);

/* Frees s and its instances at once, whatever its refs. Accepts NULL. */
void bl_connect_set_free(bl_connect *c, integration_set *s);

/* Takes a reference on the current set (under c's lock); give it back with
 * bl_connect_set_release. */
integration_set *bl_connect_set_acquire(bl_connect *c);

/* Drops a reference on s; the last one frees it. */
void bl_connect_set_release(bl_connect *c, integration_set *s);

/* Runs every matching rule of every integration of the event's organization
 * for event (borrowed) with handler index's instances and folds the results
 * into one outcome; msg (cap bytes, caller's) holds the outcome's text. */
bl_outcome bl_connect_process_on(bl_connect *c, size_t index, const json_t *event, int attempt, char *msg,
                                 size_t cap);

#endif
