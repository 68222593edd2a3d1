/* The /custom/<organization slug>/<path> handler: the endpoint found in
 * this replica's registry, its caller authenticated and rate limited, its
 * answer taken from the cache or made: the integrations called in order
 * (blocking this request's thread: the API server runs a thread per
 * connection, see core/http_server.h), the transformations applied, the
 * result checked against the output schema. Errors are document 002's
 * APIError. */
#include "api/custom/caller_auth.h"
#include "api/custom/context.h"
#include "api/custom/def_calls.h"
#include "core/clock.h"
#include "core/http_route.h"
#include "core/log.h"
#include "core/time_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_custom_fail(const bl_api_request *req, bl_http_response *resp, int status, const char *type,
                   const char *code, const char *message, json_t *details)
{
    json_t *body = bl_api_custom_error_body(status, type, code, message, bl_http_request_id(req->http), details);
    int rc = body ? bl_http_response_json(resp, status, body) : -1;
    json_decref(body);
    return rc;
}

/* The decoded segments after /custom/ (the slug first) into buf. */
static size_t split_path(const char *raw, char *buf, size_t cap, const char **segs, size_t max)
{
    const char *p = raw + strlen("/custom/");
    size_t n = 0, used = 0;
    while (n < max) {
        size_t len = strcspn(p, "/");
        long w = bl_http_percent_decode(p, len, false, buf + used, cap - used);
        if (w < 0)
            return 0;
        segs[n++] = buf + used;
        used += (size_t)w + 1;
        if (!p[len])
            return n;
        p += len + 1;
    }
    return 0; /* deeper than any endpoint */
}

/* {name: value} of the query, and the cache key's query text (sorted). */
static json_t *query_of(const bl_http_request *req, char *sorted, size_t len)
{
    json_t *q = json_object();
    size_t n = bl_http_request_query_count(req);
    const char *names[64], *values[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++, k++) {
        bl_http_request_query_at(req, i, &names[k], &values[k]);
        json_object_set_new(q, names[k], json_string(values[k]));
        for (size_t j = k; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *tn = names[j], *tv = values[j];
            names[j] = names[j - 1], values[j] = values[j - 1];
            names[j - 1] = tn, values[j - 1] = tv;
        }
    }
    size_t o = 0;
    sorted[0] = '\0';
    for (size_t i = 0; i < k && o < len; i++)
        o += (size_t)snprintf(sorted + o, len - o, "%s%s=%s", i ? "&" : "", names[i], values[i]);
    return q;
}

static void rate_headers(bl_http_response *resp, const bl_custom_rate_verdict *v)
{
    char limit[24], remaining[24];
    snprintf(limit, sizeof limit, "%lld", (long long)v->limit);
    snprintf(remaining, sizeof remaining, "%lld", (long long)v->remaining);
    bl_http_response_header(resp, "X-RateLimit-Limit", limit);
    bl_http_response_header(resp, "X-RateLimit-Remaining", remaining);
}

/* Makes the answer of d for input: calls, transformations, output schema.
 * Returns the answer (new reference), or NULL with resp holding the error. */
static json_t *make_answer(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req, json_t *input,
                           bl_http_response *resp)
{
    bl_err err = {0};
    json_t *failed = NULL;
    if (bl_custom_calls_run(d->calls, ctx->runner, input, bl_http_request_id(req->http), &failed, &err) != 0) {
        bl_log_warn("custom api: an integration failed", BL_FS("custom_api_id", d->id),
                    BL_FS("request_id", bl_http_request_id(req->http)), BL_FS("error", err.msg));
        bl_custom_fail(req, resp, err.code == BL_ETIMEOUT ? 504 : 502, "INTEGRATION_ERROR", "INTEGRATION_FAILED",
                       "an integration of this endpoint failed", failed);
        return NULL;
    }
    json_t *answer;
    if (d->chain && bl_transform_chain_count(d->chain) > 0) {
        char now[40];
        bl_rfc3339_format_millis((int64_t)bl_api_server_now(ctx->server) * 1000, now, sizeof now);
        bl_transform_ctx tctx = {.now = now};
        json_t *problems = NULL;
        answer = bl_transform_chain_apply(d->chain, input, &tctx, &problems, &err);
        if (!answer) {
            bl_log_error("custom api: a transformation failed", BL_FS("custom_api_id", d->id),
                         BL_FS("request_id", bl_http_request_id(req->http)), BL_FS("error", err.msg));
            json_t *details = json_pack("{s:s}", "error", err.msg);
            if (details && problems)
                json_object_set(details, "problems", problems);
            json_decref(problems);
            bl_custom_fail(req, resp, 502, "TRANSFORMATION_ERROR", "TRANSFORMATION_FAILED",
                           "the endpoint's transformations could not make an answer", details);
            return NULL;
        }
        json_decref(problems);
    } else { /* no transformations: the one answer, or every answer by id */
        json_t *answers = json_object_get(input, "integrations");
        answer = json_object_size(answers) == 1 ? json_incref(json_object_iter_value(json_object_iter(answers)))
                                                : json_incref(answers);
    }
    if (d->output_schema) {
        json_t *problems = bl_json_schema_validate(d->output_schema, answer);
        if (!problems || json_array_size(problems) > 0) {
            char *text = problems ? json_dumps(problems, JSON_COMPACT) : NULL;
            bl_log_error("custom api: the answer does not match the endpoint's output schema; not sent",
                         BL_FS("custom_api_id", d->id), BL_FS("request_id", bl_http_request_id(req->http)),
                         BL_FS("problems", text ? text : "?"));
            free(text);
            bl_custom_fail(req, resp, 502, "TRANSFORMATION_ERROR", "OUTPUT_SCHEMA_MISMATCH",
                           "the endpoint's answer does not match its output schema",
                           json_pack("{s:o}", "problems", problems ? problems : json_array()));
            json_decref(answer);
            return NULL;
        }
        json_decref(problems);
    }
    return answer;
}

/* The request as the integrations and transformations see it. */
static json_t *request_input(const bl_api_request *req, json_t *params, json_t *query)
{
    return json_pack("{s:o, s:o, s:O, s:{}}", "params", params, "query", query, "body",
                     req->body ? req->body : json_null(), "integrations");
}

static int answer_cached(bl_custom_ctx *ctx, const bl_custom_def *d, const char *key, bl_http_response *resp)
{
    char *body = NULL;
    int status = 0;
    bl_err err = {0};
    int hit = bl_custom_cache_get(ctx->cache, d, key, (int64_t)bl_api_server_now(ctx->server) * 1000, &body, &status,
                                  &err);
    if (hit < 0)
        bl_log_warn("custom api: cache unavailable, answering afresh", BL_FS("custom_api_id", d->id),
                    BL_FS("error", err.msg));
    if (hit != 1)
        return 0;
    bl_http_response_status(resp, status);
    bl_http_response_header(resp, "X-Cache", "HIT");
    bl_http_response_body_owned(resp, body, strlen(body), "application/json");
    return 1;
}

/* caller is filled once authenticated (left "" before). */
static int serve_endpoint(bl_custom_ctx *ctx, const bl_custom_def *d, const bl_api_request *req,
                          bl_http_response *resp, json_t *params, bl_custom_caller *caller_out)
{
    bl_custom_caller caller;
    char msg[256];
    int refused = bl_custom_caller_auth(ctx->server, d, req->http, &ctx->allow, &caller, msg, sizeof msg);
    if (!refused)
        *caller_out = caller;
    if (refused) {
        json_decref(params);
        return bl_custom_fail(req, resp, refused, NULL,
                              refused == 401   ? "AUTHENTICATION_REQUIRED"
                              : refused == 403 ? "FORBIDDEN"
                                               : "AUTHENTICATION_UNAVAILABLE",
                              msg, NULL);
    }
    if (d->rate_enabled) {
        bl_custom_rate_verdict v;
        bl_custom_limiter_check(ctx->limiter, d, caller.subject, (int64_t)bl_api_server_now(ctx->server) * 1000, &v);
        rate_headers(resp, &v);
        if (!v.allowed) {
            json_decref(params);
            char retry[24];
            snprintf(retry, sizeof retry, "%lld", (long long)v.retry_after);
            bl_http_response_header(resp, "Retry-After", retry);
            snprintf(msg, sizeof msg, "rate limit of this endpoint exceeded (%s), retry in %llds",
                     d->rate_strategy == BL_CUSTOM_RATE_TOKEN_BUCKET ? "token bucket empty" : "requests per minute",
                     (long long)v.retry_after);
            return bl_custom_fail(req, resp, 429, "RATE_LIMIT_ERROR", "RATE_LIMIT_EXCEEDED", msg,
                                  json_pack("{s:I, s:I}", "limit", (json_int_t)v.limit, "retryAfter",
                                            (json_int_t)v.retry_after));
        }
    }
    char sorted[1024], key[1600];
    json_t *query = query_of(req->http, sorted, sizeof sorted);
    if (d->workflow_id[0]) { /* the workflow does the work: never cached */
        int rc = bl_custom_run_workflow(ctx, d, req, params, query, resp);
        json_decref(params);
        json_decref(query);
        return rc;
    }
    bool cacheable = d->cache_enabled && strcmp(d->method, "GET") == 0;
    snprintf(key, sizeof key, "%s|%s?%s", d->auth == BL_CUSTOM_AUTH_NONE ? "" : caller.subject,
             bl_http_request_path(req->http), sorted);
    if (cacheable && answer_cached(ctx, d, key, resp)) {
        json_decref(params);
        json_decref(query);
        return 0;
    }
    json_t *input = request_input(req, params, query);
    json_t *answer = input ? make_answer(ctx, d, req, input, resp) : NULL;
    json_decref(input);
    if (!answer)
        return input ? 0 : -1;
    char *text = json_dumps(answer, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(answer);
    if (!text)
        return -1;
    bl_err err = {0};
    if (cacheable && bl_custom_cache_put(ctx->cache, d, key, (int64_t)bl_api_server_now(ctx->server) * 1000, text, 200,
                                         &err) != 0)
        bl_log_warn("custom api: answer not cached", BL_FS("custom_api_id", d->id), BL_FS("error", err.msg));
    if (cacheable)
        bl_http_response_header(resp, "X-Cache", "MISS");
    bl_http_response_status(resp, 200);
    return bl_http_response_body_owned(resp, text, strlen(text), "application/json");
}

int bl_custom_serve(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    bl_custom_ctx *ctx = arg;
    if (!ctx->registry)
        return bl_custom_fail(req, resp, 503, "SYSTEM_ERROR", "UNAVAILABLE", "custom endpoints need the database",
                              NULL);
    const char *segs[BL_CUSTOM_SEGMENTS_MAX + 1];
    char buf[BL_HTTP_PATH_MAX + BL_CUSTOM_SEGMENTS_MAX + 2];
    size_t n = split_path(bl_http_request_path(req->http), buf, sizeof buf, segs, BL_CUSTOM_SEGMENTS_MAX + 1);
    json_t *params = json_object();
    bool known = false;
    bl_custom_def *d = n >= 2 && params ? bl_custom_registry_find(ctx->registry, segs[0], bl_http_request_method(req->http),
                                                                 segs + 1, n - 1, params, &known)
                                       : NULL;
    if (!d) {
        json_decref(params);
        return bl_custom_fail(req, resp, known ? 405 : 404, "VALIDATION_ERROR",
                              known ? "METHOD_NOT_ALLOWED" : "ENDPOINT_NOT_FOUND",
                              known ? "this endpoint does not answer this method" : "no such custom endpoint", NULL);
    }
    int64_t start_us = bl_clock_mono_us();
    bl_custom_caller caller = {.subject = ""};
    int rc = serve_endpoint(ctx, d, req, resp, params, &caller);
    bl_custom_call_measured(ctx, d, req, resp, rc, caller.subject, bl_clock_mono_us() - start_us);
    bl_custom_def_unref(d);
    return rc;
}
