/* Requests in flight per host, with a FIFO of the ones waiting their turn.
 * The HTTP client keeps its own per-host cap instead of libcurl's
 * CURLMOPT_MAX_HOST_CONNECTIONS: libcurl (7.88) wakes only the head of one
 * shared pending list when a transfer ends, so a host held at its cap by
 * hanging requests can leave every other host's waiting requests asleep
 * until a hanging one ends. Here each host wakes only its own waiters.
 * Single-threaded: the client's thread owns it. */
#ifndef BUSLINE_CORE_HTTP_HOST_QUEUE_H
#define BUSLINE_CORE_HTTP_HOST_QUEUE_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bl_http_host_queue bl_http_host_queue;
typedef struct bl_http_host bl_http_host;

/* Creates a table allowing per_host_max (> 0) requests at once per key.
 * Returns NULL with err filled on failure; free with bl_http_host_queue_free. */
bl_http_host_queue *bl_http_host_queue_new(size_t per_host_max, bl_err *err);

/* Frees the table and any waiting entries (their items are not touched);
 * accepts NULL. */
void bl_http_host_queue_free(bl_http_host_queue *q);

/* Admits item to key's host (key copied): returns the host, with *started 1
 * when it may start now (counted active) or 0 when it waits its turn, with
 * deadline_mono (0: none) for bl_http_host_queue_take_expired. Returns NULL
 * with err filled when out of memory. */
bl_http_host *bl_http_host_queue_admit(bl_http_host_queue *q, const char *key, void *item,
                                       int64_t deadline_mono, int *started, bl_err *err);

/* An active request of host ended: returns the next waiting item of that
 * host, now counted active (the caller starts it), or NULL when none waits.
 * host must not be used after NULL is returned. */
void *bl_http_host_queue_finish(bl_http_host_queue *q, bl_http_host *host);

/* Removes the newest waiting item of key's host for which is(item, ctx)
 * holds and returns it, or NULL when none does (it is active, finished or
 * unknown). */
void *bl_http_host_queue_withdraw(bl_http_host_queue *q, const char *key, int (*is)(void *item, void *ctx),
                                  void *ctx);

/* Removes and returns one waiting item whose deadline is at or before
 * now_mono, or NULL when none is due. */
void *bl_http_host_queue_take_expired(bl_http_host_queue *q, int64_t now_mono);

/* The earliest deadline among waiting items, INT64_MAX when none. */
int64_t bl_http_host_queue_next_deadline(const bl_http_host_queue *q);

#endif
