/* What the http client's files share and nobody else sees: the client
 * struct, the slot that carries one transfer, and the slot's operations. */
#ifndef BUSLINE_CORE_HTTP_CLIENT_INTERNAL_H
#define BUSLINE_CORE_HTTP_CLIENT_INTERNAL_H

#include "core/http_client.h"
#include "core/http_host_queue.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

/* One reusable easy handle and the buffers of the request it carries. Slots
 * go back to a free list, so a busy client allocates nothing per request. */
typedef struct slot {
    CURL *easy;
    struct slot *next_free;
    struct slot *next_all;
    bool in_use;
    bl_http_done_fn on_done;
    void *opaque;
    struct curl_slist *req_headers;
    struct curl_slist *resolve; /* the call's pinned address, if any */
    char *req_body;
    size_t req_body_cap;
    char *body;         /* body_cap + 1 bytes */
    size_t body_len;
    size_t body_total;
    char *hdr_buf;      /* header_bytes: "name\0value\0" pairs */
    size_t hdr_used;
    bl_http_header *hdrs; /* max_headers entries pointing into hdr_buf */
    size_t hdr_count;
    bool hdr_truncated;
    char retry_after[BL_HTTP_HEADER_VALUE_MAX];
    char content_type[BL_HTTP_HEADER_VALUE_MAX];
    char errbuf[CURL_ERROR_SIZE];
    const bl_http_client *client;
    bl_http_host *host;    /* its host's turn: active or waiting */
    bool waiting;          /* submitted, not yet handed to curl */
    int64_t deadline_mono; /* from the call's timeout_ms; 0: none */
} slot;

struct bl_http_client {
    CURLM *multi;
    bl_http_host_queue *hosts;
    CURLU *url_parser; /* reused: the host key of each submitted URL */
    /* The last URL's host key: a worker sends to the same few endpoints, so
     * most submits skip parsing. */
    char last_url[1024], last_key[512];
    bl_http_client_config cfg;
    char *user_agent;
    slot *free_slots;
    slot *all_slots;
    size_t in_flight;
    bool closing;
};

/* ---- slots (http_client_slot.c) ---- */

/* A new slot for client c, with buffers sized by c's config, linked into
 * c's list of all slots (bl_http_client_free frees it). NULL with err on
 * out of memory. */
slot *bl_http_slot_new(bl_http_client *c, bl_err *err);

/* Frees s, its easy handle and buffers. Accepts NULL. */
void bl_http_slot_free(slot *s);

/* Returns the slot to c's free list; the easy handle keeps nothing of the
 * request (reset), while its connection stays in the multi's pool. */
void bl_http_slot_release(bl_http_client *c, slot *s);

/* Empties the slot's captured response headers and body. */
void bl_http_slot_headers_reset(slot *s);

/* 0 when call has a url and on_done, a valid method, and url and headers
 * without line breaks; else -1 with err. */
int bl_http_call_validate(const bl_http_call *call, bl_err *err);

/* Copies call's headers (and "Expect:" unless it sets one) into the slot's
 * list. Returns 0, or -1 out of memory. */
int bl_http_slot_set_headers(slot *s, const bl_http_call *call);

/* Copies the body into the slot: curl reads POSTFIELDS lazily. Returns 0 or
 * -1 out of memory. */
int bl_http_slot_set_body(slot *s, const bl_http_call *call);

/* Sets every easy option of call on s (timeouts from call, else c's config).
 * Returns CURLE_OK or curl's error. */
CURLcode bl_http_slot_set_options(bl_http_client *c, slot *s, const bl_http_call *call);

/* Hands the finished transfer's result (transport outcome from code and the
 * OS errno, status, headers, body) to the call's on_done. */
void bl_http_slot_report(slot *s, CURLcode code);

/* Reports a request that got no transfer of its own (errbuf says why). */
void bl_http_slot_report_unsent(slot *s, bl_http_transport t);

#endif
