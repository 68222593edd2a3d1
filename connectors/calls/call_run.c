/* A run of a call: breaker, attempts under the retry policy, the fallback,
 * and the result. Retried: transport errors, 408, 429 and 5xx (bus: any
 * failed produce); never another 4xx. A Retry-After on 429 or 503 replaces
 * the backoff; one asking for more than retryPolicy.maxDelay ends the
 * retries instead (never earlier than the service asked). */
#include "connectors/calls/call_attempt.h"

#include "consumers/retry_policy.h"
#include "core/clock.h"
#include "core/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t bl_call_backoff_ms(const bl_call_retry *rp, int attempt)
{
    bl_retry_policy p = {.base_delay_ms = rp->base_delay_ms, .max_delay_ms = rp->max_delay_ms,
                         .jitter = rp->jitter};
    switch (rp->strategy) {
    case BL_CALL_BACKOFF_EXPONENTIAL:
        p.factor = 2;
        break;
    case BL_CALL_BACKOFF_FIXED:
        p.factor = 1;
        break;
    case BL_CALL_BACKOFF_LINEAR:
        /* base * attempt: the one policy's backoff of its first retry, base scaled */
        p.factor = 1;
        p.base_delay_ms = rp->base_delay_ms * (attempt < 1 ? 1 : attempt);
        attempt = 1;
        break;
    }
    return bl_retry_backoff_ms(&p, attempt, bl_random_u32_os, NULL);
}

void bl_call_outcome_clear(bl_call_outcome *out)
{
    if (out) {
        json_decref(out->body);
        out->body = NULL;
    }
}

void bl_call_result_clear(bl_call_result *out)
{
    if (out) {
        json_decref(out->body);
        out->body = NULL;
    }
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = bl_clock_deadline_after_ms(CLOCK_MONOTONIC, ms);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

/* The delay before the next attempt after o, or -1 when none should come. */
static int64_t next_delay(const bl_call *c, const bl_call_outcome *o, int attempt)
{
    if (o->retry_after[0] && (o->status == 429 || o->status == 503)) {
        int64_t d;
        if (bl_retry_after_parse(o->retry_after, bl_clock_wall_ms(), &d) == 0)
            return d <= c->retry.max_delay_ms ? d : -1;
    }
    return bl_call_backoff_ms(&c->retry, attempt);
}

/* The last-good key of c and input: "<org>/<id>:<sha256 of the input's canonical JSON>". */
static char *cache_key(const bl_call *c, const json_t *input)
{
    char *canon = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char hex[BL_SHA256_HEX_SIZE];
    char *key = NULL;
    if (canon && bl_sha256_hex(canon, strlen(canon), hex, NULL) == 0) {
        size_t n = strlen(c->key) + sizeof hex + 2;
        if ((key = malloc(n)))
            snprintf(key, n, "%s:%s", c->key, hex);
    }
    free(canon);
    return key;
}

typedef struct attempt_ctx {
    bl_call_runner *r;
    const bl_call *c;
    const json_t *input;
    const char *key;
    const char *url;        /* http types */
    bl_call_bus_msg *bus;   /* bus */
    bl_call_bus_wait *inflight; /* bus: the produce not yet reported, owned */
    bool use_breaker;
    bl_breaker_permit inflight_permit; /* the breaker's permit of that produce */
} attempt_ctx;

/* A bus attempt: produce the message, or, while an earlier produce of it
 * has no report yet, wait for that one again instead: a retry never puts a
 * second copy on the topic while the first may still land. Only a produce
 * reported failed is made again. */
static int attempt_bus(attempt_ctx *a, bl_call_outcome *o, bl_err *err)
{
    (void)err;
    memset(o, 0, sizeof *o);
    bl_err perr = {0};
    if (!a->inflight)
        a->inflight = bl_call_runner_produce(a->r, a->bus->topic, a->bus->subject, a->bus->bytes, a->bus->len,
                                             a->bus->headers, a->bus->n_headers, &perr);
    int32_t part = -1;
    int64_t off = -1;
    int rc = a->inflight ? bl_call_bus_wait_for(a->inflight, (int)a->c->timeout_ms, &part, &off, &perr) : -1;
    if (a->inflight && (rc == 0 || perr.code != BL_ETIMEOUT)) {
        bl_call_bus_wait_release(a->inflight); /* reported: delivered or failed for good */
        a->inflight = NULL;
    }
    o->unreported = a->inflight != NULL;
    if (rc == 0) {
        o->kind = BL_CALL_ANSWERED;
        o->status = 202;
        o->body = bl_call_bus_answer(a->bus, part, off);
    } else {
        o->kind = perr.code == BL_EINVAL ? BL_CALL_FAILED : BL_CALL_RETRYABLE;
        o->service_failure = true;
        o->err_code = perr.code ? perr.code : BL_EKAFKA;
        snprintf(o->error, sizeof o->error, "%s", perr.msg);
    }
    return 0;
}

/* Attempts under c's retry policy until an answer, a final failure or the
 * breaker's refusal. *attempts counts requests made; delays (may be NULL)
 * gets each planned backoff. Returns 0 with *o the last outcome, or -1 with
 * err when an attempt could not be made. */
static int attempts_loop(attempt_ctx *a, bl_call_outcome *o, int *attempts, int64_t *delays,
                         bool *refused, int *reused, bl_err *err)
{
    const bl_call *c = a->c;
    memset(o, 0, sizeof *o);
    for (int n = 1; n <= c->retry.max_attempts; n++) {
        bl_breaker_permit permit = {.allowed = true};
        /* waiting again for an unreported produce is no new request: the breaker
         * hears of it once, when its report comes */
        bool asks = a->use_breaker && !a->inflight;
        if (asks) {
            permit = bl_call_runner_breaker_allow(a->r, c, bl_clock_mono_ms());
            if (!permit.allowed) {
                *refused = true;
                if (n == 1) {
                    o->kind = BL_CALL_RETRYABLE;
                    o->service_failure = true;
                    o->err_code = BL_ECONFLICT;
                    snprintf(o->error, sizeof o->error, "circuit breaker open for %.200s", c->id);
                }
                return 0;
            }
        }
        bl_call_outcome_clear(o);
        (*attempts)++;
        int rc = c->type == BL_CALL_BUS ? attempt_bus(a, o, err)
                                        : bl_call_attempt_http(a->r, c, a->url, a->input, a->key, o, err);
        if (a->use_breaker && !asks)
            permit = a->inflight_permit; /* a re-await: its produce's permit */
        if (a->use_breaker && rc == 0 && o->unreported)
            a->inflight_permit = permit; /* told when the report comes */
        else if (a->use_breaker && rc == 0) /* rc -1: nothing was sent (bad input), nothing to tell */
            bl_call_runner_breaker_record(a->r, c, &permit, !o->service_failure, bl_clock_mono_ms());
        if (rc != 0)
            return -1;
        *reused += o->connection_reused;
        if (o->kind != BL_CALL_RETRYABLE || n == c->retry.max_attempts)
            return 0;
        int64_t d = next_delay(c, o, n);
        if (d < 0)
            return 0;
        if (delays && n - 1 < BL_CALL_MAX_ATTEMPTS)
            delays[n - 1] = d;
        sleep_ms(d);
    }
    return 0;
}

static void take_outcome(bl_call_result *out, bl_call_outcome *o)
{
    json_decref(out->body);
    out->status = o->status;
    out->body = o->body;
    o->body = NULL;
}

static int fallback(bl_call_runner *r, const bl_call *c, const json_t *input, const char *key,
                    bl_call_result *out)
{
    if (c->fallback == BL_CALL_FALLBACK_DEFAULT) {
        json_decref(out->body);
        out->body = json_deep_copy(c->fallback_data);
        out->status = 200;
        out->source = BL_CALL_SOURCE_DEFAULT;
        return 0;
    }
    if (c->fallback == BL_CALL_FALLBACK_CACHE) {
        char *k = cache_key(c, input);
        int status = 0;
        char *text = k ? bl_call_cache_get(bl_call_runner_last_good(r), k, &status) : NULL;
        free(k);
        json_t *body = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        free(text);
        if (!body)
            return -1;
        json_decref(out->body);
        out->body = body;
        out->status = status;
        out->source = BL_CALL_SOURCE_CACHE;
        return 0;
    }
    if (c->fallback == BL_CALL_FALLBACK_ALTERNATIVE) {
        attempt_ctx a = {r, c, input, key, c->alternative, NULL, NULL, false, {0}};
        bl_call_outcome o;
        bool refused = false;
        bl_err aerr = {0};
        int rc = attempts_loop(&a, &o, &out->alternative_attempts, NULL, &refused, &out->connections_reused, &aerr);
        if (rc == 0 && o.kind == BL_CALL_ANSWERED) {
            take_outcome(out, &o);
            out->source = BL_CALL_SOURCE_ALTERNATIVE;
            return 0;
        }
        bl_call_outcome_clear(&o);
    }
    return -1;
}

static void remember(bl_call_runner *r, const bl_call *c, const json_t *input, const bl_call_result *out)
{
    char *k = cache_key(c, input);
    char *text = k && out->body ? json_dumps(out->body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (text)
        bl_call_cache_put(bl_call_runner_last_good(r), k, out->status, text, strlen(text));
    free(text);
    free(k);
}

/* A bus run repeated with a key already produced: its first answer. */
static bool replay_produced(bl_call_runner *r, const bl_call *c, const char *key, bl_call_result *out)
{
    if (c->type != BL_CALL_BUS || !key)
        return false;
    char *k = bl_call_bus_produced_key(c, key);
    int status = 0;
    char *text = k ? bl_call_cache_get(bl_call_runner_produced(r), k, &status) : NULL;
    free(k);
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!body)
        return false;
    out->status = status;
    out->body = body;
    return true;
}

static void record_produced(bl_call_runner *r, const bl_call *c, const char *key, const bl_call_result *out)
{
    char *k = key ? bl_call_bus_produced_key(c, key) : NULL;
    char *text = k ? json_dumps(out->body, JSON_COMPACT) : NULL;
    if (text)
        bl_call_cache_put(bl_call_runner_produced(r), k, out->status, text, strlen(text));
    free(text);
    free(k);
}

/* Runs c with the bus message msg already prepared (bus) or not (others). */
static int run_prepared(bl_call_runner *r, const bl_call *c, const json_t *input, const char *key,
                        bl_call_bus_msg *msg, bl_call_bus_wait *inflight, const bl_breaker_permit *permit,
                        bl_call_result *out, bl_err *err, int64_t t0)
{
    char uuid[BL_UUID_SIZE];
    if (!key && c->type == BL_CALL_WEBHOOK) {
        if (bl_uuid_random(uuid, err) != 0)
            return -1;
        key = uuid;
    }
    attempt_ctx a = {r, c, input, key, c->endpoint, msg, inflight, true, {.allowed = true}};
    if (permit)
        a.inflight_permit = *permit;
    bl_call_outcome o;
    bool refused = false;
    int rc = attempts_loop(&a, &o, &out->attempts, out->delays_ms, &refused, &out->connections_reused, err);
    bl_call_bus_wait_release(a.inflight); /* unreported still: it may land, with the same id */
    out->breaker_open = refused;
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "%s", err ? err->msg : "attempt failed");
        out->duration_ms = bl_clock_mono_ms() - t0;
        return -1;
    }
    take_outcome(out, &o);
    if (o.kind == BL_CALL_ANSWERED) {
        if (c->fallback == BL_CALL_FALLBACK_CACHE)
            remember(r, c, input, out);
        if (c->type == BL_CALL_BUS)
            record_produced(r, c, key, out);
        out->duration_ms = bl_clock_mono_ms() - t0;
        return 0;
    }
    snprintf(out->error, sizeof out->error, "%s", o.error);
    if (o.service_failure && fallback(r, c, input, key, out) == 0) {
        out->duration_ms = bl_clock_mono_ms() - t0;
        return 0;
    }
    out->duration_ms = bl_clock_mono_ms() - t0;
    return bl_err_set(err, o.err_code ? o.err_code : BL_EHTTP, "%.120s: %.120s", c->id, o.error);
}

int bl_call_run(bl_call_runner *r, const bl_call *c, const json_t *input, const char *idempotency_key,
                bl_call_result *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t t0 = bl_clock_mono_ms();
    json_t *empty = input ? NULL : json_object();
    const json_t *in = input ? input : empty;
    int rc;
    if (replay_produced(r, c, idempotency_key, out)) {
        rc = 0;
    } else if (c->type == BL_CALL_BUS) {
        bl_call_bus_msg msg;
        rc = bl_call_bus_prepare(r, c, in, idempotency_key, &msg, err);
        if (rc == 0)
            rc = run_prepared(r, c, in, idempotency_key, &msg, NULL, NULL, out, err, t0);
        else
            snprintf(out->error, sizeof out->error, "%s", err ? err->msg : "");
        bl_call_bus_msg_clear(&msg);
    } else {
        rc = run_prepared(r, c, in, idempotency_key, NULL, NULL, NULL, out, err, t0);
    }
    out->duration_ms = bl_clock_mono_ms() - t0;
    json_decref(empty);
    return rc;
}

/* Bus: every message queued before any acknowledgement is awaited, so the
 * producer sends them in shared batches; a message whose batched produce
 * failed (or that the breaker held back) is then run alone under the retry
 * policy and fallback. */
size_t bl_call_run_batch(bl_call_runner *r, const bl_call *c, const json_t *const *inputs,
                         const char *const *keys, size_t n, bl_call_result *outs, bl_err *err)
{
    size_t ok = 0;
    bl_err first = {0}, e = {0};
    if (c->type != BL_CALL_BUS || n == 0) {
        for (size_t i = 0; i < n; i++) {
            bl_err_clear(&e);
            if (bl_call_run(r, c, inputs[i], keys ? keys[i] : NULL, &outs[i], &e) == 0)
                ok++;
            else if (!first.code)
                first = e;
        }
        goto done;
    }
    bl_call_bus_msg *msgs = calloc(n, sizeof *msgs);
    bl_call_bus_wait **waits = calloc(n, sizeof *waits);
    bl_breaker_permit *permits = calloc(n, sizeof *permits);
    int64_t *t0 = calloc(n, sizeof *t0);
    if (!msgs || !waits || !permits || !t0) {
        free(msgs);
        free(waits);
        free(permits);
        free(t0);
        bl_err_set(err, BL_ENOMEM, "calls: out of memory");
        return 0;
    }
    enum { PENDING, DONE, ALONE };
    char *state = calloc(n, 1);
    for (size_t i = 0; state && i < n; i++) {
        const char *key = keys ? keys[i] : NULL;
        const json_t *in = inputs[i];
        memset(&outs[i], 0, sizeof outs[i]);
        t0[i] = bl_clock_mono_ms();
        if (replay_produced(r, c, key, &outs[i])) {
            state[i] = DONE;
            ok++;
            continue;
        }
        bl_err_clear(&e);
        json_t *empty = in ? NULL : json_object();
        int prc = bl_call_bus_prepare(r, c, in ? in : empty, key, &msgs[i], &e);
        json_decref(empty);
        if (prc != 0) {
            state[i] = DONE;
            snprintf(outs[i].error, sizeof outs[i].error, "%s", e.msg);
            if (!first.code)
                first = e;
            continue;
        }
        permits[i] = bl_call_runner_breaker_allow(r, c, bl_clock_mono_ms());
        waits[i] = permits[i].allowed ? bl_call_runner_produce(r, msgs[i].topic, msgs[i].subject, msgs[i].bytes,
                                                               msgs[i].len, msgs[i].headers, msgs[i].n_headers, &e)
                                      : NULL;
        state[i] = waits[i] ? PENDING : ALONE;
    }
    for (size_t i = 0; state && i < n; i++) {
        if (state[i] == DONE)
            continue;
        const char *key = keys ? keys[i] : NULL;
        if (state[i] == PENDING) {
            int32_t part = -1;
            int64_t off = -1;
            bl_err_clear(&e);
            int rc = bl_call_bus_wait_for(waits[i], (int)c->timeout_ms, &part, &off, &e);
            if (rc == 0 || e.code != BL_ETIMEOUT) /* an unreported one is told later */
                bl_call_runner_breaker_record(r, c, &permits[i], rc == 0, bl_clock_mono_ms());
            outs[i].attempts = 1;
            if (rc == 0) {
                outs[i].status = 202;
                outs[i].body = bl_call_bus_answer(&msgs[i], part, off);
                outs[i].duration_ms = bl_clock_mono_ms() - t0[i];
                record_produced(r, c, key, &outs[i]);
                ok++;
                continue;
            }
        }
        /* unreported: the retries wait for it; reported failed: produced again */
        bl_call_bus_wait *inflight = e.code == BL_ETIMEOUT ? waits[i] : NULL;
        if (!inflight)
            bl_call_bus_wait_release(waits[i]);
        waits[i] = NULL;
        json_t *empty = inputs[i] ? NULL : json_object();
        bl_err_clear(&e);
        if (run_prepared(r, c, inputs[i] ? inputs[i] : empty, key, &msgs[i], inflight, &permits[i], &outs[i], &e,
                         t0[i]) == 0)
            ok++;
        else if (!first.code)
            first = e;
        json_decref(empty);
    }
    for (size_t i = 0; i < n; i++) {
        bl_call_bus_wait_release(waits[i]);
        bl_call_bus_msg_clear(&msgs[i]);
    }
    if (!state)
        bl_err_set(&first, BL_ENOMEM, "calls: out of memory");
    free(state);
    free(msgs);
    free(waits);
    free(permits);
    free(t0);
done:
    if (first.code && err)
        *err = first;
    return ok;
}
