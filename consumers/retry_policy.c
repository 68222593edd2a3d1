/* The one retry policy: backoff delays and the retry decisions of webhook
 * deliveries and SaaS connector calls. */
#include "consumers/retry_policy.h"

#include "core/time_format.h"

#include "core/crypto.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Retry-After beyond this is treated as this (it is capped far lower anyway). */
#define RETRY_AFTER_MAX_S (365LL * 24 * 3600)

bl_retry_policy bl_retry_policy_default(void)
{
    return (bl_retry_policy){
        .max_attempts = 3,
        .base_delay_ms = 1000,
        .factor = 2.0,
        .max_delay_ms = 300000,
        .jitter = 0.2,
        .max_retry_after_ms = 3600000,
    };
}

int bl_retry_policy_check(const bl_retry_policy *p, bl_err *err)
{
    if (p->max_attempts < 1 || p->max_attempts > BL_RETRY_MAX_ATTEMPTS_LIMIT)
        return bl_err_set(err, BL_EINVAL, "retry policy: max_attempts %d is not in 1..%d",
                          p->max_attempts, BL_RETRY_MAX_ATTEMPTS_LIMIT);
    if (p->max_delay_ms < 0 || p->max_delay_ms > BL_RETRY_MAX_DELAY_LIMIT_MS)
        return bl_err_set(err, BL_EINVAL, "retry policy: max_delay_ms %lld is not in 0..%lld",
                          (long long)p->max_delay_ms, BL_RETRY_MAX_DELAY_LIMIT_MS);
    if (p->base_delay_ms < 0 || p->base_delay_ms > p->max_delay_ms)
        return bl_err_set(err, BL_EINVAL, "retry policy: base_delay_ms %lld is not in 0..max_delay_ms",
                          (long long)p->base_delay_ms);
    if (!(p->factor >= 1.0 && p->factor <= 10.0))
        return bl_err_set(err, BL_EINVAL, "retry policy: factor is not in 1..10");
    if (!(p->jitter >= 0.0 && p->jitter <= 1.0))
        return bl_err_set(err, BL_EINVAL, "retry policy: jitter is not in 0..1");
    if (p->max_retry_after_ms < 0 || p->max_retry_after_ms > BL_RETRY_MAX_DELAY_LIMIT_MS)
        return bl_err_set(err, BL_EINVAL, "retry policy: max_retry_after_ms %lld is not in 0..%lld",
                          (long long)p->max_retry_after_ms, BL_RETRY_MAX_DELAY_LIMIT_MS);
    if (p->schedule_len < 0 || p->schedule_len > BL_RETRY_SCHEDULE_MAX)
        return bl_err_set(err, BL_EINVAL, "retry policy: a schedule has at most %d delays",
                          BL_RETRY_SCHEDULE_MAX);
    for (int i = 0; i < p->schedule_len; i++)
        if (p->schedule_ms[i] < BL_RETRY_SCHEDULE_MIN_DELAY_MS || p->schedule_ms[i] > BL_RETRY_MAX_DELAY_LIMIT_MS)
            return bl_err_set(err, BL_EINVAL, "retry policy: schedule[%d] %lld ms is not in 1 s..a week", i,
                              (long long)p->schedule_ms[i]);
    return 0;
}

uint32_t bl_random_u32_os(void *ctx)
{
    (void)ctx;
    uint32_t v = 0;
    if (bl_random_bytes(&v, sizeof v, NULL) != 0)
        return 0;
    return v;
}

static int month_number(const char *name)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strcmp(name, months[i]) == 0)
            return i + 1;
    return 0;
}

/* Parses the three HTTP-date forms into unix seconds. */
static bool parse_http_date(const char *s, int64_t *unix_s)
{
    char wday[10], mon[4];
    int day, year, hh, mm, ss, n = -1;
    size_t len = strlen(s);
    if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh,
               &mm, &ss, &n) == 7 && (size_t)n == len) {
        /* IMF-fixdate */
    } else if (n = -1, sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wday, &day, mon,
                              &year, &hh, &mm, &ss, &n) == 7 && (size_t)n == len) {
        year += year < 70 ? 2000 : 1900; /* RFC 850's two-digit year */
    } else if (n = -1, sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &hh,
                              &mm, &ss, &year, &n) == 7 && (size_t)n == len) {
        /* asctime */
    } else {
        return false;
    }
    int m = month_number(mon);
    if (m == 0 || day < 1 || day > 31 || year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60)
        return false;
    *unix_s = bl_days_from_civil(year, m, day) * 86400 + hh * 3600 + mm * 60 + ss;
    return true;
}

int bl_retry_after_parse(const char *value, int64_t now_ms, int64_t *delay_ms)
{
    if (!value)
        return -1;
    char buf[64];
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    if (strspn(buf, "0123456789") == len) {
        int64_t secs = 0;
        for (size_t i = 0; i < len && secs < RETRY_AFTER_MAX_S; i++)
            secs = secs * 10 + (buf[i] - '0');
        *delay_ms = (secs < RETRY_AFTER_MAX_S ? secs : RETRY_AFTER_MAX_S) * 1000;
        return 0;
    }
    int64_t when_s;
    if (!parse_http_date(buf, &when_s))
        return -1;
    int64_t delta = when_s * 1000 - now_ms;
    *delay_ms = delta < 0 ? 0 : delta > RETRY_AFTER_MAX_S * 1000 ? RETRY_AFTER_MAX_S * 1000 : delta;
    return 0;
}

int64_t bl_retry_backoff_ms(const bl_retry_policy *p, int attempt, bl_random_u32_fn rnd, void *ctx)
{
    if (attempt < 1)
        attempt = 1;
    if (p->schedule_len > 0)
        return p->schedule_ms[(attempt <= p->schedule_len ? attempt : p->schedule_len) - 1];
    double d = (double)p->base_delay_ms * pow(p->factor, attempt - 1);
    if (!(d < (double)p->max_delay_ms)) /* also catches inf */
        d = (double)p->max_delay_ms;
    if (rnd && p->jitter > 0) {
        double u = (double)rnd(ctx) / 4294967296.0; /* [0, 1) */
        d *= 1.0 + p->jitter * (2.0 * u - 1.0);
    }
    int64_t ms = llround(d);
    if (ms > p->max_delay_ms)
        ms = p->max_delay_ms;
    return ms < 0 ? 0 : ms;
}

static bl_retry_decision decided(bl_retry_action action, const char *reason)
{
    return (bl_retry_decision){.action = action, .delay_ms = 0, .reason = reason};
}

static const char *transport_reason(bl_transport_error t)
{
    switch (t) {
    case BL_TRANSPORT_TIMEOUT: return "timeout";
    case BL_TRANSPORT_CONNECT: return "connect failed";
    case BL_TRANSPORT_RESET: return "connection reset";
    case BL_TRANSPORT_DNS: return "dns failure";
    case BL_TRANSPORT_TLS: return "tls failure";
    case BL_TRANSPORT_BLOCKED: return "address refused by the ssrf guard";
    case BL_TRANSPORT_NONE: break;
    }
    return "transport error";
}

bl_retry_decision bl_retry_decide(const bl_retry_policy *p, int attempt,
                                  const bl_delivery_outcome *outcome, int64_t now_ms,
                                  bl_random_u32_fn rnd, void *rnd_ctx)
{
    bl_retry_policy defaults = bl_retry_policy_default();
    if (!p)
        p = &defaults;
    if (attempt < 1)
        attempt = 1;
    const char *reason;
    bool honours_retry_after = false;
    if (!outcome)
        return decided(BL_RETRY_GIVE_UP, "no outcome given");
    if (outcome->transport == BL_TRANSPORT_BLOCKED)
        return decided(BL_RETRY_GIVE_UP, transport_reason(outcome->transport));
    if (outcome->transport != BL_TRANSPORT_NONE) {
        reason = transport_reason(outcome->transport);
    } else {
        int s = outcome->status;
        if (s >= 200 && s <= 299)
            return decided(BL_RETRY_DELIVERED, "delivered");
        if (s == 410)
            return decided(BL_RETRY_DISABLE_ENDPOINT, "gone (410): the receiver asked to stop");
        if (s == 408) {
            reason = "request timeout (408)";
        } else if (s == 429) {
            reason = "rate limited (429)";
            honours_retry_after = true;
        } else if (s >= 500 && s <= 599) {
            reason = s == 503 ? "service unavailable (503)" : "server error (5xx)";
            honours_retry_after = s == 503;
        } else if (s >= 300 && s <= 399) {
            return decided(BL_RETRY_GIVE_UP, "redirect (3xx) not followed");
        } else if (s >= 400 && s <= 499) {
            return decided(BL_RETRY_GIVE_UP, "client error (4xx)");
        } else {
            return decided(BL_RETRY_GIVE_UP, "unexpected status");
        }
    }
    if (attempt >= (p->schedule_len > 0 ? p->schedule_len + 1 : p->max_attempts)) {
        bl_retry_decision d = decided(BL_RETRY_GIVE_UP, reason);
        d.exhausted = true;
        return d;
    }
    bl_retry_decision d = decided(BL_RETRY_LATER, reason);
    int64_t after_ms;
    if (honours_retry_after && bl_retry_after_parse(outcome->retry_after, now_ms, &after_ms) == 0)
        d.delay_ms = after_ms < p->max_retry_after_ms ? after_ms : p->max_retry_after_ms;
    else
        d.delay_ms = bl_retry_backoff_ms(p, attempt, rnd, rnd_ctx);
    return d;
}
