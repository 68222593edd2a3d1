/* One attempt of an http, graphql or webhook call: the URL, headers and body
 * filled from the input, the address checked again and pinned, the exchange
 * through the runner, and what it says (answered, retryable, failed). */
#include "connectors/calls/call_attempt.h"

#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN (BL_CALL_ID_MAX + 4096 + 256)

typedef struct lines {
    char *v[BL_CALL_MAX_HEADERS + 8];
    size_t n;
} lines;

static int add_line(lines *l, bl_err *err, const char *fmt, const char *a, const char *b)
{
    char buf[LINE_MAX_LEN];
    int n = snprintf(buf, sizeof buf, fmt, a, b);
    if (n < 0 || (size_t)n >= sizeof buf)
        return bl_err_set(err, BL_EINVAL, "headers: a filled header is too long");
    for (const char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return bl_err_set(err, BL_EINVAL, "headers: a filled header holds a control character");
    if (!(l->v[l->n] = strdup(buf)))
        return bl_err_set(err, BL_ENOMEM, "headers: out of memory");
    l->n++;
    return 0;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
}

/* The request body as JSON text (NULL when there is none). */
static char *body_of(const bl_call *c, const json_t *input, bl_err *err)
{
    json_t *doc = NULL;
    if (c->type == BL_CALL_GRAPHQL) {
        json_t *vars = c->variables ? bl_call_fill_json(c->variables, input, err) : json_deep_copy(input);
        if (!vars)
            return NULL;
        doc = json_pack("{s:s, s:o}", "query", c->query, "variables", vars);
        if (doc && c->operation_name)
            json_object_set_new(doc, "operationName", json_string(c->operation_name));
    } else if (c->body) {
        doc = bl_call_fill_json(c->body, input, err);
    } else if (c->body_is_input) {
        doc = json_deep_copy(input);
    } else {
        return NULL;
    }
    if (!doc) {
        if (err && err->code == 0)
            bl_err_set(err, BL_ENOMEM, "body: out of memory");
        return NULL;
    }
    char *text = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(doc);
    if (!text)
        bl_err_set(err, BL_ENOMEM, "body: out of memory");
    return text;
}

static bool graphql_failed(const json_t *answer, char *why, size_t why_len)
{
    json_t *errors = json_object_get(answer, "errors");
    if (!errors || (json_is_array(errors) && json_array_size(errors) == 0))
        return false;
    const char *first = json_string_value(json_object_get(json_array_get(errors, 0), "message"));
    snprintf(why, why_len, "graphql: %s", first ? first : "the answer holds errors");
    return true;
}

static json_t *parse_answer(const bl_call_exchange *x)
{
    if (!x->body || x->body_len == 0)
        return json_null();
    json_t *j = json_loadb(x->body, x->body_len, JSON_DECODE_ANY, NULL);
    if (!j)
        j = json_stringn(x->body, x->body_len); /* NULL when not UTF-8 */
    return j ? j : json_null();
}

int bl_call_attempt_http(bl_call_runner *r, const bl_call *c, const char *url_template, const json_t *input,
                         const char *key, bl_call_outcome *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    lines hl = {0};
    char *body = NULL, *url = bl_call_fill_text(url_template, input, true, err);
    if (!url)
        return -1;
    bl_ssrf_target target;
    char resolve[BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
    if (bl_ssrf_check_url(url, bl_call_runner_allow(r), &target, err) != 0 ||
        bl_ssrf_resolve_entry(&target, resolve, sizeof resolve) != 0) {
        bl_err_wrap(err, "endpoint");
        out->kind = BL_CALL_FAILED;
        goto done;
    }
    body = body_of(c, input, err);
    if (!body && (c->type == BL_CALL_GRAPHQL || c->type == BL_CALL_WEBHOOK || c->body || c->body_is_input))
        goto done;
    if (body && add_line(&hl, err, "Content-Type: application/json%s%s", "", "") != 0)
        goto done;
    if (add_line(&hl, err, "Accept: %s%s",
                 c->type == BL_CALL_GRAPHQL ? "application/graphql-response+json, application/json" : "application/json",
                 "") != 0)
        goto done;
    if (c->auth_header && add_line(&hl, err, "%s%s", c->auth_header, "") != 0)
        goto done;
    for (size_t i = 0; i < c->header_count; i++) {
        char *v = bl_call_fill_text(c->header_values[i], input, false, err);
        int hr = v ? add_line(&hl, err, "%s: %s", c->header_names[i], v) : -1;
        free(v);
        if (hr != 0)
            goto done;
    }
    if (c->signs) {
        char ts[24], sig[BL_WEBHOOK_SIG_MAX];
        int64_t now = bl_clock_wall_ms() / 1000;
        snprintf(ts, sizeof ts, "%lld", (long long)now);
        if (bl_webhook_msg_id_check(key, err) != 0) {
            bl_err_wrap(err, "webhook-id (the idempotency key)");
            goto done;
        }
        if (bl_webhook_sign_v1(c->secret.key, c->secret.len, key, now, body, strlen(body), sig, sizeof sig, err) != 0 ||
            add_line(&hl, err, "webhook-id: %s%s", key, "") != 0 ||
            add_line(&hl, err, "webhook-timestamp: %s%s", ts, "") != 0 ||
            add_line(&hl, err, "webhook-signature: %s%s", sig, "") != 0)
            goto done;
    } else if (key && add_line(&hl, err, "Idempotency-Key: %s%s", key, "") != 0) {
        goto done;
    }
    bl_http_call call = {.method = c->method, .url = url, .headers = (const char *const *)hl.v,
                         .header_count = hl.n, .body = body, .body_len = body ? strlen(body) : 0,
                         .timeout_ms = c->timeout_ms, .resolve = resolve[0] ? resolve : NULL};
    bl_call_exchange x;
    if (bl_call_runner_http(r, &call, &x, err) != 0)
        goto done;
    out->status = (int)x.status;
    out->connection_reused = x.connection_reused;
    snprintf(out->retry_after, sizeof out->retry_after, "%s", x.retry_after);
    if (x.transport != BL_HTTP_TRANSPORT_OK) {
        out->kind = x.transport == BL_HTTP_TRANSPORT_CANCELLED ? BL_CALL_FAILED : BL_CALL_RETRYABLE;
        out->service_failure = true;
        out->err_code = x.transport == BL_HTTP_TRANSPORT_TIMEOUT ? BL_ETIMEOUT : BL_EHTTP;
        snprintf(out->error, sizeof out->error, "%s: %.200s", bl_http_transport_name(x.transport), x.error);
    } else if (x.truncated) {
        out->kind = BL_CALL_FAILED;
        out->service_failure = true;
        out->err_code = BL_EHTTP;
        snprintf(out->error, sizeof out->error, "answer larger than the runner's body_cap");
    } else {
        out->body = parse_answer(&x);
        if (x.status >= 200 && x.status < 300) {
            out->kind = BL_CALL_ANSWERED;
            if (c->type == BL_CALL_GRAPHQL && graphql_failed(out->body, out->error, sizeof out->error)) {
                out->kind = BL_CALL_FAILED;
                out->service_failure = true;
                out->err_code = BL_EHTTP;
            }
        } else {
            bool retryable = x.status == 408 || x.status == 429 || x.status >= 500;
            out->kind = retryable ? BL_CALL_RETRYABLE : BL_CALL_FAILED;
            out->service_failure = retryable;
            out->err_code = BL_EHTTP;
            snprintf(out->error, sizeof out->error, "endpoint answered %ld", x.status);
            if (c->type == BL_CALL_GRAPHQL)
                graphql_failed(out->body, out->error, sizeof out->error);
        }
    }
    bl_call_exchange_clear(&x);
    rc = 0;
done:
    lines_free(&hl);
    free(body);
    free(url);
    return rc;
}
