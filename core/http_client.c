/* The client over one curl multi handle: calls submitted, each host given
 * its turns (the per-host cap), transfers driven and reaped, results
 * reported from the caller's own loop. */
#include "core/http_client_internal.h"

#include "core/clock.h"
#include "core/http_route.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

/* curl_global_init is not safe to race, so the first client does it once. */
static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}
bl_http_client *bl_http_client_new(const bl_http_client_config *cfg, bl_err *err)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK) {
        bl_err_set(err, BL_EHTTP, "http client: curl_global_init: %s", curl_easy_strerror(curl_init_result));
        return NULL;
    }
    bl_http_client *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory");
        return NULL;
    }
    if (cfg)
        c->cfg = *cfg;
    if (c->cfg.max_host_connections <= 0)
        c->cfg.max_host_connections = 32;
    if (c->cfg.connection_cache <= 0)
        c->cfg.connection_cache = 256;
    if (c->cfg.body_cap == 0)
        c->cfg.body_cap = 4096;
    if (c->cfg.max_headers == 0)
        c->cfg.max_headers = 32;
    if (c->cfg.header_bytes == 0)
        c->cfg.header_bytes = 8192;
    if (c->cfg.connect_timeout_ms <= 0)
        c->cfg.connect_timeout_ms = 5000;
    c->user_agent = strdup(c->cfg.user_agent ? c->cfg.user_agent : "busline");
    c->cfg.user_agent = c->user_agent;
    c->multi = curl_multi_init();
    c->url_parser = curl_url();
    if (!c->user_agent || !c->multi || !c->url_parser) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory");
        goto fail;
    }
    if (!(c->hosts = bl_http_host_queue_new((size_t)c->cfg.max_host_connections, err)))
        goto fail;
    /* The per-host cap is ours (bl_http_host_queue): requests over it never
     * reach curl, so curl's own limits stay off. */
    CURLMcode mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, c->cfg.connection_cache);
    if (mc != CURLM_OK) {
        bl_err_set(err, BL_EHTTP, "http client: curl_multi_setopt: %s", curl_multi_strerror(mc));
        goto fail;
    }
    return c;
fail:
    if (c->multi)
        curl_multi_cleanup(c->multi);
    curl_url_cleanup(c->url_parser);
    free(c->user_agent);
    free(c);
    return NULL;
}

void bl_http_client_free(bl_http_client *c)
{
    if (!c)
        return;
    c->closing = true;
    for (slot *s = c->all_slots; s; s = s->next_all) {
        if (!s->in_use)
            continue;
        if (!s->waiting)
            curl_multi_remove_handle(c->multi, s->easy);
        snprintf(s->errbuf, sizeof s->errbuf, "http client freed with the request in flight");
        bl_http_slot_report_unsent(s, BL_HTTP_TRANSPORT_CANCELLED);
    }
    bl_http_host_queue_free(c->hosts);
    curl_url_cleanup(c->url_parser);
    slot *s = c->all_slots;
    while (s) {
        slot *next = s->next_all;
        bl_http_slot_free(s);
        s = next;
    }
    curl_multi_cleanup(c->multi);
    free(c->user_agent);
    free(c);
}

/* "scheme://host:port" of url into key, the unit of the per-host cap (as
 * curl pools connections); a URL curl cannot parse shares the key "" and
 * fails in curl with curl's own message. */
static void host_key(bl_http_client *c, const char *url, char *key, size_t cap)
{
    if (c->last_url[0] && strcmp(url, c->last_url) == 0) {
        snprintf(key, cap, "%s", c->last_key);
        return;
    }
    char *scheme = NULL, *host = NULL, *port = NULL;
    key[0] = '\0';
    if (curl_url_set(c->url_parser, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(c->url_parser, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf(key, cap, "%s://%s:%s", scheme, host, port);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    if (strlen(url) < sizeof c->last_url && strlen(key) < sizeof c->last_key) {
        memcpy(c->last_url, url, strlen(url) + 1);
        memcpy(c->last_key, key, strlen(key) + 1);
    }
}

#define WAIT_TIMED_OUT "timed out waiting for a free connection to the host"

/* Hands a slot whose host has room to curl, with what is left of its
 * timeout. Returns 0, or -1 with s->errbuf and *why set (not handed). */
static int slot_begin(bl_http_client *c, slot *s, bl_http_transport *why)
{
    s->waiting = false;
    if (s->deadline_mono > 0) {
        int64_t left = s->deadline_mono - bl_clock_mono_ms();
        if (left <= 0) {
            snprintf(s->errbuf, sizeof s->errbuf, "%s", WAIT_TIMED_OUT);
            *why = BL_HTTP_TRANSPORT_TIMEOUT;
            return -1;
        }
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)left);
    }
    CURLMcode mc = curl_multi_add_handle(c->multi, s->easy);
    if (mc != CURLM_OK) {
        snprintf(s->errbuf, sizeof s->errbuf, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        *why = BL_HTTP_TRANSPORT_OTHER;
        return -1;
    }
    return 0;
}

/* A request of host ended: starts that host's next waiting ones until one
 * is handed to curl or none waits; those that cannot start are reported. */
static void host_advance(bl_http_client *c, bl_http_host *host)
{
    slot *next;
    while ((next = bl_http_host_queue_finish(c->hosts, host)) != NULL) {
        bl_http_transport why;
        if (slot_begin(c, next, &why) == 0)
            return;
        c->in_flight--;
        bl_http_slot_report_unsent(next, why);
        bl_http_slot_release(c, next);
    }
}

/* Reports the waiting requests whose timeout passed before their turn;
 * returns how many. */
static int expire_waiting(bl_http_client *c)
{
    int n = 0;
    slot *s;
    int64_t now = bl_clock_mono_ms();
    while ((s = bl_http_host_queue_take_expired(c->hosts, now)) != NULL) {
        snprintf(s->errbuf, sizeof s->errbuf, "%s", WAIT_TIMED_OUT);
        c->in_flight--;
        bl_http_slot_report_unsent(s, BL_HTTP_TRANSPORT_TIMEOUT);
        bl_http_slot_release(c, s);
        n++;
    }
    return n;
}

int bl_http_client_submit(bl_http_client *c, const bl_http_call *call, bl_err *err)
{
    if (!c || c->closing)
        return bl_err_set(err, BL_EINVAL, "http client: submit on a missing or closing client");
    if (bl_http_call_validate(call, err) != 0)
        return -1;
    slot *s = c->free_slots;
    if (s)
        c->free_slots = s->next_free;
    else if (!(s = bl_http_slot_new(c, err)))
        return -1;
    s->in_use = true;
    s->on_done = call->on_done;
    s->opaque = call->opaque;
    s->body_len = 0;
    s->body_total = 0;
    s->errbuf[0] = '\0';
    bl_http_slot_headers_reset(s);
    if (bl_http_slot_set_headers(s, call) != 0 || bl_http_slot_set_body(s, call) != 0) {
        bl_err_set(err, BL_ENOMEM, "http client: out of memory preparing %s", call->url);
        goto fail;
    }
    CURLcode rc = bl_http_slot_set_options(c, s, call);
    if (rc != CURLE_OK) {
        bl_err_set(err, BL_EHTTP, "http client: %s: %s", call->url, curl_easy_strerror(rc));
        goto fail;
    }
    char key[512];
    host_key(c, call->url, key, sizeof key);
    s->deadline_mono = call->timeout_ms > 0 ? bl_clock_mono_ms() + call->timeout_ms : 0;
    int started = 0;
    if (!(s->host = bl_http_host_queue_admit(c->hosts, key, s, s->deadline_mono, &started, err)))
        goto fail;
    s->waiting = !started;
    if (started) {
        CURLMcode mc = curl_multi_add_handle(c->multi, s->easy);
        if (mc != CURLM_OK) {
            bl_err_set(err, BL_EHTTP, "http client: curl_multi_add_handle: %s", curl_multi_strerror(mc));
            bl_http_host *host = s->host;
            bl_http_slot_release(c, s);
            host_advance(c, host);
            return -1;
        }
    }
    c->in_flight++;
    return 0;
fail:
    bl_http_slot_release(c, s);
    return -1;
}

static int slot_carries(void *item, void *opaque)
{
    return ((slot *)item)->opaque == opaque;
}

int bl_http_client_withdraw(bl_http_client *c, const char *url, void *opaque)
{
    if (!c || !url)
        return 0;
    char key[512];
    host_key(c, url, key, sizeof key);
    slot *s = bl_http_host_queue_withdraw(c->hosts, key, slot_carries, opaque);
    if (!s)
        return 0;
    c->in_flight--;
    bl_http_slot_release(c, s);
    return 1;
}

/* Reports every finished transfer; returns how many. */
static int reap(bl_http_client *c)
{
    int done = 0;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg dies with remove_handle */
        slot *s = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(c->multi, easy);
        c->in_flight--;
        bl_http_host *host = s->host;
        bl_http_slot_report(s, code);
        bl_http_slot_release(c, s);
        host_advance(c, host);
        done++;
    }
    return done;
}

static int perform(bl_http_client *c, bl_err *err)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK)
        return bl_err_set(err, BL_EHTTP, "http client: curl_multi_perform: %s", curl_multi_strerror(mc));
    return 0;
}

int bl_http_client_run(bl_http_client *c, int wait_ms, bl_err *err)
{
    return bl_http_client_run_fds(c, wait_ms, NULL, 0, err);
}

#define RUN_FDS_MAX 16

int bl_http_client_run_fds(bl_http_client *c, int wait_ms, const int *fds, size_t n_fds, bl_err *err)
{
    if (n_fds > RUN_FDS_MAX)
        return bl_err_set(err, BL_EINVAL, "http client: at most %d extra fds", RUN_FDS_MAX);
    int done = expire_waiting(c);
    if (perform(c, err) != 0)
        return -1;
    done += reap(c);
    if (done > 0 || wait_ms <= 0)
        return done;
    int64_t until_expiry = bl_http_host_queue_next_deadline(c->hosts) - bl_clock_mono_ms();
    if (until_expiry < wait_ms)
        wait_ms = until_expiry < 1 ? 1 : (int)until_expiry;
    struct curl_waitfd extra[RUN_FDS_MAX];
    for (size_t i = 0; i < n_fds; i++)
        extra[i] = (struct curl_waitfd){.fd = fds[i], .events = CURL_WAIT_POLLIN, .revents = 0};
    CURLMcode mc = curl_multi_poll(c->multi, n_fds ? extra : NULL, (unsigned)n_fds, wait_ms, NULL);
    if (mc != CURLM_OK)
        return bl_err_set(err, BL_EHTTP, "http client: curl_multi_poll: %s", curl_multi_strerror(mc));
    if (perform(c, err) != 0)
        return -1;
    done = expire_waiting(c);
    return done + reap(c);
}

void bl_http_client_wakeup(bl_http_client *c)
{
    if (c)
        curl_multi_wakeup(c->multi);
}

size_t bl_http_client_in_flight(const bl_http_client *c)
{
    return c ? c->in_flight : 0;
}
