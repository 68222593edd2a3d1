/* A local webhook receiver for the delivery tests: an HTTP server on
 * 127.0.0.1 that records every request (webhook-* headers, body, arrival
 * time) and answers as a behaviour function says (status, Retry-After,
 * sleep past the client's timeout), with the body WEBHOOK_SINK_BODY. */
#ifndef BUSLINE_TEST_WEBHOOK_SINK_H
#define BUSLINE_TEST_WEBHOOK_SINK_H

#include "connectors/webhook/policy/signature.h"
#include "core/http_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sink_hit {
    char id[256], timestamp[32], signature[BL_WEBHOOK_SIG_HEADER_MAX], legacy[80], path[64], custom[128];
    char powalyze[80]; /* X-Powalyze-Signature */
    char webhook_sig[80]; /* X-Webhook-Signature (the SmartLeakPro document's) */
    char api_key[128];    /* X-API-Key (an integration's) */
    char *body;
    size_t body_len;
    int64_t at_ms;        /* wall clock at arrival */
    int status;           /* what was answered */
    int retry_after_s;    /* Retry-After sent, 0 none */
} sink_hit;

/* Decides the answer for request n (0-based, over the sink's life) to path:
 * sets *status, *retry_after_s (0: none) and *sleep_ms before answering;
 * status SINK_RESET closes the connection without answering (after the
 * sleep), recorded as status 0. */
#define SINK_RESET (-1)
#define WEBHOOK_SINK_BODY "sink ok"
typedef void (*sink_behave_fn)(size_t n, const char *path, const char *id, int *status,
                               int *retry_after_s, int *sleep_ms, void *user);

typedef struct webhook_sink {
    bl_http_server *server;
    pthread_mutex_t lock;
    sink_hit *hits;
    size_t n, cap;
    sink_behave_fn behave;
    void *user;
    atomic_int stopping; /* cuts sleeps short so stop does not wait them out */
} webhook_sink;

/* Starts on an ephemeral port; behave may be NULL (always 200). Returns 0. */
int webhook_sink_start(webhook_sink *s, sink_behave_fn behave, void *user);
/* "http://127.0.0.1:<port><path>" into out. */
void webhook_sink_url(const webhook_sink *s, const char *path, char *out, size_t len);
/* Requests recorded so far (thread-safe). */
size_t webhook_sink_count(webhook_sink *s);
/* Waits until pred(s, user) holds or timeout_ms passes; returns 1 when it held. */
int webhook_sink_wait(webhook_sink *s, int (*pred)(webhook_sink *, void *), void *user, int timeout_ms);
/* Distinct webhook-ids among hits answered 2xx. */
size_t webhook_sink_distinct_ok(webhook_sink *s);
/* Hits (copies, bodies borrowed from the sink) to path, in arrival order;
 * returns how many were copied into out (at most cap). */
size_t webhook_sink_hits_to(webhook_sink *s, const char *path, sink_hit *out, size_t cap);
/* Requests recorded so far to path (thread-safe). */
size_t webhook_sink_count_to(webhook_sink *s, const char *path);
void webhook_sink_stop(webhook_sink *s);

#endif
