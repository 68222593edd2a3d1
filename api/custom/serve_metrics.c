/* What every answered call of a custom endpoint leaves behind: its APIMetric
 * row queued for PostgreSQL (metrics_log.c) and its figures on /metrics. */
#include "api/custom/context.h"
#include "core/clock.h"

#include <stdio.h>
#include <string.h>

/* "CODE: message" of an APIError body, into out ("" when body is none). */
static void error_of(const bl_http_response *resp, char *out, size_t len)
{
    size_t n = 0;
    const char *body = bl_http_response_body_view(resp, &n);
    out[0] = '\0';
    json_t *j = body ? json_loadb(body, n, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(j, "code"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (code || msg)
        snprintf(out, len, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
    json_decref(j);
}

void bl_custom_call_measured(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req,
                             const bl_http_response *resp, int rc, const char *caller, int64_t elapsed_us)
{
    int status = rc == 0 ? bl_http_response_status_code(resp) : 500;
    double ms = (double)elapsed_us / 1000.0;
    char error[BL_CUSTOM_METRICS_ERROR_MAX + 1] = "";
    if (rc != 0)
        snprintf(error, sizeof error, "SYSTEM_ERROR: the endpoint failed unexpectedly");
    else if (status >= 400)
        error_of(resp, error, sizeof error);
    size_t req_len = 0, resp_len = 0;
    bl_http_request_body(req->http, &req_len);
    bl_http_response_body_view(resp, &resp_len);
    bl_custom_metric m = {.custom_api_id = d->id, .organization_id = d->org_id, .at_ms = bl_clock_wall_ms(),
                          .response_time_ms = ms, .status_code = status, .request_size = (int64_t)req_len,
                          .response_size = rc == 0 ? (int64_t)resp_len : -1, .caller = caller,
                          .user_agent = bl_http_request_header(req->http, "User-Agent"),
                          .ip_address = bl_http_request_client_addr(req->http), .error_message = error,
                          .request_id = bl_http_request_id(req->http)};
    if (ctx->metrics && !bl_custom_metrics_record(ctx->metrics, &m) && ctx->m_dropped)
        bl_counter_inc(ctx->m_dropped);
    const char *labels[] = {d->id, NULL};
    bl_histogram *h = ctx->m_duration ? bl_metric_histogram(ctx->m_duration, labels, NULL) : NULL;
    if (h)
        bl_histogram_observe(h, ms / 1000.0);
    /* 429 apart: the rate-limit alert's share (k8s/base/alerts-prometheusrule.yaml) */
    char class[4] = {(char)('0' + (status / 100) % 10), 'x', 'x', '\0'};
    if (status == 429)
        snprintf(class, sizeof class, "429");
    const char *call_labels[] = {d->id, class, NULL};
    bl_counter *c = ctx->m_calls ? bl_metric_counter(ctx->m_calls, call_labels, NULL) : NULL;
    if (c)
        bl_counter_inc(c);
}

int bl_custom_metrics_families(bl_custom_ctx *ctx, bl_metrics *m, bl_err *err)
{
    static const char *const by_api[] = {"custom_api_id", NULL};
    static const char *const by_class[] = {"custom_api_id", "code_class", NULL};
    if (!(ctx->m_duration = bl_metrics_histogram(m, "busline_api_custom_duration_seconds",
                                                 "custom endpoint response time, by endpoint", by_api, NULL, 0,
                                                 err)) ||
        !(ctx->m_calls = bl_metrics_counter(m, "busline_api_custom_calls_total",
                                            "custom endpoint calls answered, by endpoint and status class (2xx,"
                                            " 4xx, 5xx; 429 apart from 4xx)",
                                            by_class, err)))
        return -1;
    bl_metric *dropped = bl_metrics_counter(m, "busline_api_custom_metrics_dropped_total",
                                            "custom endpoint call metrics dropped: the queue to PostgreSQL was full",
                                            NULL, err);
    ctx->m_dropped = dropped ? bl_metric_counter(dropped, NULL, err) : NULL;
    return ctx->m_dropped ? 0 : -1;
}
