/* The delivery worker's per-destination state: for each host:port a
 * circuit breaker and a token bucket, and for each endpoint URL the SSRF
 * guard's checked (pinned) address, re-checked after a TTL so DNS changes
 * are seen without resolving on every delivery. One worker thread owns a
 * table: not thread-safe. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_WORKERS_HOST_TABLE_H
#define BUSLINE_CONNECTORS_WEBHOOK_WORKERS_HOST_TABLE_H

#include "connectors/webhook/policy/ssrf_guard.h"
#include "consumers/circuit_breaker.h"
#include "consumers/rate_limiter.h"
#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_HOST_KEY_MAX (BL_SSRF_HOST_MAX + 8)
#define BL_RESOLVE_ENTRY_MAX (BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16)

/* One destination host:port. */
struct dl_job;

typedef struct bl_host_entry {
    char key[BL_HOST_KEY_MAX];   /* "host:port" */
    bl_breaker breaker;
    bl_rate_limiter limiter;
    double limit_rate;           /* 0: unlimited */
    int limit_burst;
    /* The delivery worker's requests to this host (sent or waiting for a
     * connection), oldest first; kept by deliver.c. */
    struct dl_job *held_head, *held_tail;
    size_t held;
    struct bl_host_entry *busy_next; /* deliver.c's list of hosts holding any */
    bool busy_listed;
    int64_t parking_logged_mono;     /* last "host stuck" warning */
} bl_host_entry;

/* A checked endpoint URL: where to connect, or why not. */
typedef struct bl_url_check {
    bool refused;                          /* the guard refused it (see error) */
    char error[256];
    bl_host_entry *host;                   /* NULL when refused */
    char resolve[BL_RESOLVE_ENTRY_MAX];    /* CURLOPT_RESOLVE pin; "" for IP literals */
} bl_url_check;

typedef struct bl_host_table bl_host_table;

/* A table; breaker_cfg (NULL: defaults) is copied for every new host,
 * allow (borrowed, may be NULL) is the SSRF allow-list, check_ttl_ms how
 * long a URL's check is reused (0: 30 s). Returns NULL with err. */
bl_host_table *bl_host_table_new(const bl_breaker_config *breaker_cfg, const bl_ssrf_allowlist *allow,
                                 int64_t check_ttl_ms, bl_err *err);

void bl_host_table_free(bl_host_table *t);

/* Checks url at now_ms, reusing a check younger than the TTL. Returns a
 * check borrowed from t (entries live until the table is freed; a later
 * call for the same URL may refresh it in place), or NULL with err when out
 * of memory or the name did not resolve (BL_ENOTFOUND: a transport
 * failure, worth retrying, unlike a refusal). */
const bl_url_check *bl_host_table_check_url(bl_host_table *t, const char *url, int64_t now_ms, bl_err *err);

/* Takes one token of host's bucket after (re)configuring it for rate/burst
 * (0 rate: unlimited: always 0). Returns 0 when taken, else ms to wait. */
int64_t bl_host_take_token(bl_host_entry *h, double rate, int burst, int64_t now_ms);

/* Hosts known (tests). */
size_t bl_host_table_hosts(const bl_host_table *t);

#endif
