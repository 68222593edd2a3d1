/* A sample external busline connector: posts {"event","type","text"} to
 * the URL of its settings for every matched event. Built on its own against
 * the installed SDK (see README.md and the Makefile beside it):
 *
 *   cc -shared -fPIC $(pkg-config --cflags busline) -o sample.so sample_connector.c
 *
 * and loaded by `busline connect sample` from BUSLINE_CONNECTOR_DIR. It
 * includes nothing of busline but the ABI header and links nothing: all it
 * needs comes through the host table. */
#include <busline/connector.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SAMPLE_ABI_VERSION
#define SAMPLE_ABI_VERSION BL_CONNECTOR_ABI_VERSION
#endif

typedef struct sample {
    const bl_connector_host *host;
    char url[512];
} sample;

static const char *const sample_actions[] = {"notify", NULL};

static const bl_connector_field sample_fields[] = {
    {"text", BL_CONNECTOR_ESCAPE_JSON, 1, NULL}, /* rendered for a JSON string */
    {NULL, 0, 0, NULL},
};

/* Settings are {"url": "..."}; a real plugin would use a JSON parser. */
static int sample_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                       size_t err_len)
{
    const char *p = strstr(settings_json, "\"url\":\"");
    if (!p) {
        snprintf(err, err_len, "sample: settings.url is required");
        return -1;
    }
    p += 7;
    size_t n = strcspn(p, "\"");
    sample *s = calloc(1, sizeof *s);
    if (!s || n == 0 || n >= sizeof s->url) {
        free(s);
        snprintf(err, err_len, "sample: settings.url is empty or too long");
        return -1;
    }
    memcpy(s->url, p, n);
    s->host = host;
    *instance = s;
    return 0;
}

static void sample_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    sample *s = instance;
    const char *text = bl_connector_event_field(ev, "text");
    char body[4096];
    int n = snprintf(body, sizeof body, "{\"event\":\"%s\",\"type\":\"%s\",\"text\":\"%s\"}", ev->id, ev->type,
                     text ? text : "");
    if (n < 0 || (size_t)n >= sizeof body) {
        r->status = BL_CONNECTOR_PERMANENT;
        snprintf(r->message, sizeof r->message, "sample: text too long");
        return;
    }
    const char *headers[] = {"Content-Type: application/json"};
    bl_connector_http_request req = {"POST", s->url, headers, 1, body, (size_t)n, 5000};
    bl_connector_http_response resp;
    int rc = s->host->http(s->host->ctx, &req, &resp);
    if (rc != 0) {
        r->status = BL_CONNECTOR_RETRYABLE;
        r->retry_after_ms = -1;
        snprintf(r->message, sizeof r->message, "sample: %s: %s", resp.transport, resp.error);
    } else if (resp.status >= 200 && resp.status < 300) {
        r->status = BL_CONNECTOR_OK;
        snprintf(r->message, sizeof r->message, "sample: delivered");
        s->host->state_put(s->host->ctx, "last_event", ev->id);
    } else if (resp.status == 401) {
        r->status = BL_CONNECTOR_AUTH_EXPIRED;
        snprintf(r->message, sizeof r->message, "sample: HTTP 401");
    } else if (resp.status == 429 || resp.status >= 500) {
        r->status = BL_CONNECTOR_RETRYABLE;
        r->retry_after_ms = resp.retry_after ? atol(resp.retry_after) * 1000 : -1;
        snprintf(r->message, sizeof r->message, "sample: HTTP %ld", resp.status);
    } else {
        r->status = BL_CONNECTOR_PERMANENT;
        snprintf(r->message, sizeof r->message, "sample: HTTP %ld: %.200s", resp.status, resp.body);
    }
    s->host->http_release(s->host->ctx, &resp);
    s->host->log(s->host->ctx, BL_CONNECTOR_LOG_DEBUG, r->message);
}

static int sample_health(void *instance, char *err, size_t err_len)
{
    (void)instance;
    (void)err;
    (void)err_len;
    return 0;
}

static void sample_shutdown(void *instance)
{
    free(instance);
}

static const bl_connector_table sample_table = {
    .abi_version = SAMPLE_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = "sample",
    .version = "0.1.0",
    .actions = sample_actions,
    .fields = sample_fields,
    .init = sample_init,
    .handle = sample_handle,
    .health = sample_health,
    .shutdown = sample_shutdown,
};

const bl_connector_table *busline_connector_entry(void)
{
    return &sample_table;
}
