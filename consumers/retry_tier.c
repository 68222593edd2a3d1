#include "consumers/retry_tier.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_MS (7LL * 24 * 3600 * 1000)

static bool is_name_char(char c, bool dot_ok)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || (dot_ok && c == '.');
}

/* Kafka's rule: 1..249 of [a-zA-Z0-9._-], and not "." or "..". */
static bool valid_topic(const char *s, size_t len)
{
    if (len == 0 || len >= BL_TOPIC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char(s[i], true))
            return false;
    return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* Parses one delay such as "5s" or "250ms" from [s, end). */
static int parse_delay(const char *s, const char *end, int64_t *out)
{
    int64_t n = 0;
    const char *p = s;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (n > WEEK_MS)
            return -1;
        n = n * 10 + (*p - '0');
    }
    if (p == s)
        return -1;
    size_t unit_len = (size_t)(end - p);
    int64_t scale;
    if (unit_len == 2 && strncmp(p, "ms", 2) == 0)
        scale = 1;
    else if (unit_len == 1 && *p == 's')
        scale = 1000;
    else if (unit_len == 1 && *p == 'm')
        scale = 60000;
    else if (unit_len == 1 && *p == 'h')
        scale = 3600000;
    else
        return -1;
    if (n == 0 || n > WEEK_MS / scale)
        return -1;
    *out = n * scale;
    return 0;
}

int bl_retry_tiers_parse(bl_retry_tiers *t, const char *connector, const char *spec, bl_err *err)
{
    if (!t || !connector || !spec)
        return bl_err_set(err, BL_EINVAL, "retry tiers: connector and spec are required");
    size_t clen = strlen(connector);
    bool name_ok = clen > 0 && clen < BL_RETRY_CONNECTOR_MAX;
    for (size_t i = 0; name_ok && i < clen; i++)
        name_ok = is_name_char(connector[i], false);
    if (!name_ok)
        return bl_err_set(err, BL_EINVAL, "retry tiers: bad connector name \"%.64s\"", connector);
    bl_retry_tiers parsed = {.n = 0};
    memcpy(parsed.connector, connector, clen + 1);
    const char *p = spec;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        int64_t d;
        if (parse_delay(p, end, &d) != 0)
            return bl_err_set(err, BL_EINVAL, "retry tiers: bad delay \"%.*s\" (want e.g. 500ms, 5s, 1m, 2h; up to a week)",
                              (int)(end - p > 32 ? 32 : end - p), p);
        if (parsed.n == BL_RETRY_TIERS_MAX)
            return bl_err_set(err, BL_EINVAL, "retry tiers: more than %d tiers", BL_RETRY_TIERS_MAX);
        /* Insertion keeps the delays ascending. */
        size_t at = parsed.n;
        while (at > 0 && parsed.delay_ms[at - 1] > d) {
            parsed.delay_ms[at] = parsed.delay_ms[at - 1];
            at--;
        }
        if (at > 0 && parsed.delay_ms[at - 1] == d)
            return bl_err_set(err, BL_EINVAL, "retry tiers: delay \"%.*s\" given twice",
                              (int)(end - p > 32 ? 32 : end - p), p);
        parsed.delay_ms[at] = d;
        parsed.n++;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *t = parsed;
    return 0;
}

size_t bl_retry_tier_choose(const bl_retry_tiers *t, int64_t delay_ms)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->delay_ms[i] >= delay_ms)
            return i;
    return t->n ? t->n - 1 : 0;
}

/* "5s", "1m", "2h", or "250ms": the largest unit that divides the delay. */
static void format_delay(int64_t ms, char *out, size_t len)
{
    if (ms % 3600000 == 0)
        snprintf(out, len, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(out, len, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(out, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, len, "%" PRId64 "ms", ms);
}

int bl_retry_tier_topic(const bl_retry_tiers *t, size_t idx, char *out, size_t len, bl_err *err)
{
    if (idx >= t->n)
        return bl_err_set(err, BL_EINVAL, "retry tiers: %s has no tier %zu", t->connector, idx);
    char delay[32];
    format_delay(t->delay_ms[idx], delay, sizeof delay);
    int w = snprintf(out, len, "%s.retry.%s", t->connector, delay);
    if (w < 0 || (size_t)w >= len)
        return bl_err_set(err, BL_EINVAL, "retry tiers: topic name for %s does not fit", t->connector);
    return 0;
}

int bl_retry_dlq_topic(const bl_retry_tiers *t, char *out, size_t len, bl_err *err)
{
    int w = snprintf(out, len, "%s.dlq", t->connector);
    if (w < 0 || (size_t)w >= len)
        return bl_err_set(err, BL_EINVAL, "retry tiers: dead-letter topic for %s does not fit", t->connector);
    return 0;
}

int bl_retry_headers_for_failure(const bl_retry_headers *prev, const char *topic, int32_t partition,
                                 int64_t offset, int64_t now_ms, int64_t delay_ms, const char *error,
                                 bl_retry_headers *out, bl_err *err)
{
    bl_retry_headers h = {0};
    if (prev) {
        if (prev->attempt >= BL_RETRY_ATTEMPT_MAX)
            return bl_err_set(err, BL_EINVAL, "retry headers: attempt %d is the last allowed", prev->attempt);
        h.attempt = prev->attempt + 1;
        h.first_failure_at_ms = prev->first_failure_at_ms;
        memcpy(h.original_topic, prev->original_topic, sizeof h.original_topic);
        h.original_topic[sizeof h.original_topic - 1] = '\0';
        h.original_partition = prev->original_partition;
        h.original_offset = prev->original_offset;
    } else {
        if (!topic || !valid_topic(topic, strlen(topic)) || partition < 0 || offset < 0)
            return bl_err_set(err, BL_EINVAL, "retry headers: the first failure needs a valid topic, partition and offset");
        h.attempt = 1;
        h.first_failure_at_ms = now_ms;
        memcpy(h.original_topic, topic, strlen(topic) + 1);
        h.original_partition = partition;
        h.original_offset = offset;
    }
    h.due_at_ms = now_ms + (delay_ms <= 0 ? 0 : delay_ms > WEEK_MS ? WEEK_MS : delay_ms);
    snprintf(h.error, sizeof h.error, "%s", error ? error : "");
    *out = h;
    return 0;
}

void bl_retry_headers_build(const bl_retry_headers *h, bl_retry_header_set *set)
{
    snprintf(set->attempt, sizeof set->attempt, "%d", h->attempt);
    snprintf(set->due_at, sizeof set->due_at, "%" PRId64, h->due_at_ms);
    snprintf(set->first_failure_at, sizeof set->first_failure_at, "%" PRId64, h->first_failure_at_ms);
    snprintf(set->partition, sizeof set->partition, "%" PRId32, h->original_partition);
    snprintf(set->offset, sizeof set->offset, "%" PRId64, h->original_offset);
    const bl_kafka_header hs[BL_RETRY_HEADER_COUNT] = {
        {BL_HDR_ATTEMPT, set->attempt, strlen(set->attempt)},
        {BL_HDR_DUE_AT, set->due_at, strlen(set->due_at)},
        {BL_HDR_FIRST_FAILURE_AT, set->first_failure_at, strlen(set->first_failure_at)},
        {BL_HDR_ERROR, h->error, strlen(h->error)},
        {BL_HDR_ORIGINAL_TOPIC, h->original_topic, strlen(h->original_topic)},
        {BL_HDR_ORIGINAL_PARTITION, set->partition, strlen(set->partition)},
        {BL_HDR_ORIGINAL_OFFSET, set->offset, strlen(set->offset)},
    };
    memcpy(set->headers, hs, sizeof hs);
}

/* The last header named key, or NULL (a null value counts as absent). */
static const bl_kafka_header *find_header(const bl_kafka_header *hs, size_t n, const char *key)
{
    for (size_t i = n; i-- > 0;)
        if (hs[i].key && strcmp(hs[i].key, key) == 0)
            return hs[i].value ? &hs[i] : NULL;
    return NULL;
}

/* A required decimal header in [min, max]. */
static int header_int(const bl_kafka_header *hs, size_t n, const char *key, int64_t min, int64_t max,
                      int64_t *out, bl_err *err)
{
    const bl_kafka_header *h = find_header(hs, n, key);
    if (!h)
        return bl_err_set(err, BL_EINVAL, "retry headers: %s missing", key);
    const char *s = h->value;
    if (h->len == 0 || h->len > 19)
        return bl_err_set(err, BL_EINVAL, "retry headers: %s is not a decimal number", key);
    int64_t v = 0;
    for (size_t i = 0; i < h->len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return bl_err_set(err, BL_EINVAL, "retry headers: %s is not a decimal number", key);
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return bl_err_set(err, BL_EINVAL, "retry headers: %s is too large", key);
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return bl_err_set(err, BL_EINVAL, "retry headers: %s %" PRId64 " not in %" PRId64 "..%" PRId64, key, v,
                          min, max);
    *out = v;
    return 0;
}

int bl_retry_headers_parse(const bl_kafka_header *hs, size_t n, bl_retry_headers *out, bl_err *err)
{
    bl_retry_headers h = {0};
    int64_t attempt, partition;
    if (header_int(hs, n, BL_HDR_ATTEMPT, 0, BL_RETRY_ATTEMPT_MAX, &attempt, err) != 0 ||
        header_int(hs, n, BL_HDR_DUE_AT, 0, INT64_MAX, &h.due_at_ms, err) != 0 ||
        header_int(hs, n, BL_HDR_FIRST_FAILURE_AT, 0, INT64_MAX, &h.first_failure_at_ms, err) != 0 ||
        header_int(hs, n, BL_HDR_ORIGINAL_PARTITION, 0, INT32_MAX, &partition, err) != 0 ||
        header_int(hs, n, BL_HDR_ORIGINAL_OFFSET, 0, INT64_MAX, &h.original_offset, err) != 0)
        return -1;
    h.attempt = (int)attempt;
    h.original_partition = (int32_t)partition;
    const bl_kafka_header *topic = find_header(hs, n, BL_HDR_ORIGINAL_TOPIC);
    if (!topic)
        return bl_err_set(err, BL_EINVAL, "retry headers: %s missing", BL_HDR_ORIGINAL_TOPIC);
    if (!valid_topic(topic->value, topic->len))
        return bl_err_set(err, BL_EINVAL, "retry headers: %s is not a valid topic name", BL_HDR_ORIGINAL_TOPIC);
    memcpy(h.original_topic, topic->value, topic->len);
    h.original_topic[topic->len] = '\0';
    const bl_kafka_header *error = find_header(hs, n, BL_HDR_ERROR);
    if (error) {
        size_t len = error->len < sizeof h.error - 1 ? error->len : sizeof h.error - 1;
        memcpy(h.error, error->value, len);
        h.error[len] = '\0';
    }
    *out = h;
    return 0;
}

int bl_retry_headers_from_msg(const bl_kafka_msg *m, bl_retry_headers *out, bl_err *err)
{
    bl_kafka_header hs[BL_KAFKA_MAX_HEADERS];
    size_t total = bl_kafka_msg_header_count(m), n = 0;
    /* Only ours are needed; others (CloudEvents) are skipped so a message
     * with many headers still parses. */
    for (size_t i = 0; i < total && n < BL_KAFKA_MAX_HEADERS; i++) {
        const char *key;
        const void *value;
        size_t len;
        if (bl_kafka_msg_header_at(m, i, &key, &value, &len) == 0 && key && strncmp(key, "busline-", 8) == 0)
            hs[n++] = (bl_kafka_header){key, value, len};
    }
    return bl_retry_headers_parse(hs, n, out, err);
}

bl_retry_due bl_retry_due_decide(int64_t due_at_ms, int64_t now_ms, int64_t tier_delay_ms)
{
    if (due_at_ms <= now_ms)
        return (bl_retry_due){true, now_ms};
    int64_t latest = now_ms + (tier_delay_ms > 0 ? tier_delay_ms : 0);
    int64_t resume = due_at_ms < latest ? due_at_ms : latest;
    return (bl_retry_due){resume <= now_ms, resume};
}
