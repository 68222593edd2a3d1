/* A fake outside service for the calls tests: an HTTP server on 127.0.0.1
 * that records every request (method, path, the headers calls send, body,
 * monotonic arrival time) and answers from a queue of scripted answers
 * (status, JSON body, Retry-After; status FAKE_SERVICE_RESET drops the
 * connection), then with its default answer. Requests to /graphql are
 * checked per GraphQL over HTTP (POST, application/json body with a string
 * "query", an object "variables" when present, an Accept naming
 * application/graphql-response+json or application/json); one that is not
 * is answered 400 and its reason kept in problem. */
#ifndef BUSLINE_TEST_FAKE_SERVICE_H
#define BUSLINE_TEST_FAKE_SERVICE_H

#include "core/http_server.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_SERVICE_RESET (-1)
#define FAKE_SERVICE_SCRIPT_MAX 32

typedef struct fake_hit {
    char method[8], path[256], query_q[128];
    char authorization[256], idempotency_key[256], content_type[128], accept[128], custom[128];
    char webhook_id[256], webhook_timestamp[32], webhook_signature[128];
    char *body;
    size_t body_len;
    int64_t at_ms;   /* monotonic clock at arrival */
    int status;      /* what was answered (0: dropped) */
} fake_hit;

typedef struct fake_answer {
    int status;
    char body[1024];        /* JSON text; "" = none */
    char retry_after[32];   /* "" = none */
    int sleep_ms;           /* waited before answering */
} fake_answer;

typedef struct fake_service {
    bl_http_server *server;
    pthread_mutex_t lock;
    fake_hit *hits;
    size_t n, cap;
    fake_answer script[FAKE_SERVICE_SCRIPT_MAX];
    size_t script_n, script_next;
    fake_answer dflt;
    char problem[256];
} fake_service;

/* Starts on an ephemeral port answering 200 with default_body (JSON text).
 * Returns 0, or -1 after printing why. */
int fake_service_start(fake_service *f, const char *default_body);
/* Stops and frees; accepts a zeroed one. */
void fake_service_stop(fake_service *f);
/* "http://127.0.0.1:<port><path>" into out. */
void fake_service_url(const fake_service *f, const char *path, char *out, size_t len);
/* Queues one answer (body may be NULL, retry_after may be NULL). */
void fake_service_queue(fake_service *f, int status, const char *body, const char *retry_after);
/* Queues an answer given only after sleep_ms (a slow service). */
void fake_service_queue_slow(fake_service *f, int status, const char *body, int sleep_ms);
/* Changes the default answer. */
void fake_service_default(fake_service *f, int status, const char *body);
/* Requests recorded so far. */
size_t fake_service_count(fake_service *f);
/* A copy of hit i (its body borrowed from f), 0 when it exists. */
int fake_service_hit(fake_service *f, size_t i, fake_hit *out);

#endif
