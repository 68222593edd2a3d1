/* Standard Webhooks v1 and legacy X-Signature signing and verification. */
#include "connectors/webhook/policy/signature.h"

#include "connectors/webhook/policy/signature_v1a.h"
#include "core/crypto.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PREFIX_LEN (sizeof BL_WEBHOOK_SECRET_PREFIX - 1)
#define LEGACY_PREFIX "sha256="
#define LEGACY_PREFIX_LEN (sizeof LEGACY_PREFIX - 1)
#define TIMESTAMP_TEXT_MAX 21 /* INT64_MAX has 19 digits */

int bl_webhook_secret_parse(const char *text, bl_webhook_secret *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text || strncmp(text, BL_WEBHOOK_SECRET_PREFIX, PREFIX_LEN) != 0)
        return bl_err_set(err, BL_EINVAL, "webhook secret: must start with \"%s\"",
                          BL_WEBHOOK_SECRET_PREFIX);
    const char *b64 = text + PREFIX_LEN;
    size_t b64_len = strlen(b64);
    if (b64_len == 0)
        return bl_err_set(err, BL_EINVAL, "webhook secret: no key after \"%s\"",
                          BL_WEBHOOK_SECRET_PREFIX);
    /* Anything longer than the largest key's base64 is refused before decoding. */
    if (b64_len > BL_WEBHOOK_SECRET_TEXT_MAX - 1 - PREFIX_LEN)
        return bl_err_set(err, BL_EINVAL, "webhook secret: key longer than %d bytes",
                          BL_WEBHOOK_SECRET_MAX_BYTES);
    uint8_t key[BL_WEBHOOK_SECRET_MAX_BYTES + 2];
    size_t key_len = 0;
    bl_err inner = {0};
    if (bl_base64_decode(b64, b64_len, key, sizeof key, &key_len, &inner) != 0)
        return bl_err_set(err, BL_EINVAL, "webhook secret: key after \"%s\" is not standard base64",
                          BL_WEBHOOK_SECRET_PREFIX);
    int rc = 0;
    if (key_len < BL_WEBHOOK_SECRET_MIN_BYTES)
        rc = bl_err_set(err, BL_EINVAL, "webhook secret: key is %zu bytes, at least %d needed",
                        key_len, BL_WEBHOOK_SECRET_MIN_BYTES);
    else if (key_len > BL_WEBHOOK_SECRET_MAX_BYTES)
        rc = bl_err_set(err, BL_EINVAL, "webhook secret: key longer than %d bytes",
                        BL_WEBHOOK_SECRET_MAX_BYTES);
    else {
        memcpy(out->key, key, key_len);
        out->len = key_len;
        /* fits: the length check above bounds the whole text */
        memcpy(out->text, text, PREFIX_LEN + b64_len + 1);
    }
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

int bl_webhook_secret_from_text(const char *text, bl_webhook_secret *out, bl_err *err)
{
    if (text && strncmp(text, BL_WEBHOOK_SECRET_PREFIX, strlen(BL_WEBHOOK_SECRET_PREFIX)) == 0)
        return bl_webhook_secret_parse(text, out, err);
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n > BL_WEBHOOK_SECRET_MAX_BYTES)
        return bl_err_set(err, BL_EINVAL, "a secret of 1 to %d characters is required", BL_WEBHOOK_SECRET_MAX_BYTES);
    for (size_t i = 0; i < n; i++)
        if (text[i] < 0x21 || text[i] > 0x7e)
            return bl_err_set(err, BL_EINVAL, "a secret holds printable ASCII characters only, no spaces");
    memset(out, 0, sizeof *out);
    memcpy(out->key, text, n);
    out->len = n;
    memcpy(out->text, text, n + 1); /* n <= 64 < BL_WEBHOOK_SECRET_TEXT_MAX */
    return 0;
}

int bl_webhook_secret_generate(char *out, size_t out_len, bl_err *err)
{
    if (out_len < BL_WEBHOOK_SECRET_TEXT_MAX)
        return bl_err_set(err, BL_EINVAL, "webhook secret: output buffer too small");
    uint8_t key[BL_WEBHOOK_SECRET_NEW_BYTES];
    int rc = bl_random_bytes(key, sizeof key, err);
    if (rc == 0) {
        memcpy(out, BL_WEBHOOK_SECRET_PREFIX, PREFIX_LEN);
        rc = bl_base64_encode(key, sizeof key, out + PREFIX_LEN, out_len - PREFIX_LEN, err);
    }
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

void bl_webhook_secret_wipe(bl_webhook_secret *secret)
{
    if (secret)
        OPENSSL_cleanse(secret, sizeof *secret);
}

int bl_webhook_msg_id_check(const char *msg_id, bl_err *err)
{
    if (!msg_id || !*msg_id)
        return bl_err_set(err, BL_EINVAL, "webhook-id: empty");
    size_t n = 0;
    for (const char *p = msg_id; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (n >= BL_WEBHOOK_MSG_ID_MAX)
            return bl_err_set(err, BL_EINVAL, "webhook-id: longer than %d characters",
                              BL_WEBHOOK_MSG_ID_MAX);
        if (c <= 0x20 || c >= 0x7f || c == '.' || c == ',')
            return bl_err_set(err, BL_EINVAL,
                              "webhook-id: character %zu is not allowed (printable ASCII "
                              "without '.', ',' or space)", n);
    }
    return 0;
}

int bl_webhook_signed_parts(const char *msg_id, int64_t timestamp, const char *body, size_t body_len,
                            char ts_buf[TIMESTAMP_TEXT_MAX], bl_bytes parts[5], bl_err *err)
{
    if (bl_webhook_msg_id_check(msg_id, err) != 0)
        return -1;
    if (timestamp < 0)
        return bl_err_set(err, BL_EINVAL, "webhook-timestamp: negative");
    if (!body && body_len > 0)
        return bl_err_set(err, BL_EINVAL, "webhook signature: body is NULL");
    int ts_len = snprintf(ts_buf, TIMESTAMP_TEXT_MAX, "%" PRId64, timestamp);
    parts[0] = (bl_bytes){msg_id, strlen(msg_id)};
    parts[1] = (bl_bytes){".", 1};
    parts[2] = (bl_bytes){ts_buf, (size_t)ts_len};
    parts[3] = (bl_bytes){".", 1};
    parts[4] = (bl_bytes){body ? body : "", body_len};
    return 0;
}

/* The v1 MAC of "msg_id.timestamp.body", fed in pieces so the body is not copied. */
static int mac_v1(const uint8_t *key, size_t key_len, const char *msg_id, int64_t timestamp,
                  const char *body, size_t body_len, uint8_t mac[BL_SHA256_LEN], bl_err *err)
{
    char ts[TIMESTAMP_TEXT_MAX];
    bl_bytes parts[5];
    if (bl_webhook_signed_parts(msg_id, timestamp, body, body_len, ts, parts, err) != 0)
        return -1;
    if (!key || key_len == 0)
        return bl_err_set(err, BL_EINVAL, "webhook signature: empty secret");
    if (bl_hmac_sha256_parts(key, key_len, parts, 5, mac, err) != 0)
        return bl_err_wrap(err, "webhook signature");
    return 0;
}

int bl_webhook_sign_v1(const uint8_t *secret, size_t secret_len,
                       const char *msg_id, int64_t timestamp,
                       const char *body, size_t body_len,
                       char *out, size_t out_len, bl_err *err)
{
    if (out_len < BL_WEBHOOK_SIG_MAX)
        return bl_err_set(err, BL_EINVAL, "webhook signature: output buffer too small");
    uint8_t mac[BL_SHA256_LEN];
    if (mac_v1(secret, secret_len, msg_id, timestamp, body, body_len, mac, err) != 0)
        return -1;
    memcpy(out, "v1,", 3);
    return bl_base64_encode(mac, sizeof mac, out + 3, out_len - 3, err);
}

int bl_webhook_sign_legacy(const uint8_t *secret, size_t secret_len,
                           const char *body, size_t body_len,
                           char *out, size_t out_len, bl_err *err)
{
    if (out_len < BL_WEBHOOK_LEGACY_SIG_MAX)
        return bl_err_set(err, BL_EINVAL, "legacy signature: output buffer too small");
    if (!secret || secret_len == 0)
        return bl_err_set(err, BL_EINVAL, "legacy signature: empty secret");
    uint8_t mac[BL_SHA256_LEN];
    if (bl_hmac_sha256(secret, secret_len, body ? body : "", body ? body_len : 0, mac, err) != 0)
        return bl_err_wrap(err, "legacy signature");
    memcpy(out, LEGACY_PREFIX, LEGACY_PREFIX_LEN);
    bl_hex_encode(mac, sizeof mac, out + LEGACY_PREFIX_LEN);
    return 0;
}

int bl_webhook_sign_text_keyed(const bl_webhook_secret *secret, const char *body, size_t body_len,
                               char *out, size_t out_len, bl_err *err)
{
    if (!secret || !secret->text[0])
        return bl_err_set(err, BL_EINVAL, "hmac header: the secret's text is not known");
    return bl_webhook_sign_legacy((const uint8_t *)secret->text, strlen(secret->text), body, body_len,
                                  out, out_len, err);
}

const char *bl_webhook_scheme_name(bl_webhook_scheme s)
{
    switch (s) {
    case BL_WEBHOOK_SCHEME_V1A: return "v1a";
    case BL_WEBHOOK_SCHEME_BOTH: return "both";
    case BL_WEBHOOK_SCHEME_V1: break;
    }
    return "v1";
}

bl_webhook_scheme bl_webhook_scheme_parse(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "v1") == 0)
        return BL_WEBHOOK_SCHEME_V1;
    if (strcmp(name, "v1a") == 0)
        return BL_WEBHOOK_SCHEME_V1A;
    if (strcmp(name, "both") == 0)
        return BL_WEBHOOK_SCHEME_BOTH;
    return 0;
}

/* Appends " " (unless at the start) and one signature to out[0..*used). */
static int append_sig(char *out, size_t out_len, size_t *used, const bl_webhook_secret *secret,
                      const bl_webhook_ed25519_key *ed, const char *msg_id, int64_t timestamp,
                      const char *body, size_t body_len, bl_err *err)
{
    if (*used > 0)
        out[(*used)++] = ' ';
    int rc = ed ? bl_webhook_sign_v1a(ed, msg_id, timestamp, body, body_len, out + *used, out_len - *used, err)
                : bl_webhook_sign_v1(secret->key, secret->len, msg_id, timestamp, body, body_len, out + *used,
                                     out_len - *used, err);
    if (rc == 0)
        *used += strlen(out + *used);
    return rc;
}

int bl_webhook_sign_header(const bl_webhook_rotation *keys, int64_t now,
                           const char *msg_id, int64_t timestamp,
                           const char *body, size_t body_len,
                           char *out, size_t out_len, bl_err *err)
{
    bl_webhook_scheme scheme = keys && keys->scheme ? keys->scheme : BL_WEBHOOK_SCHEME_V1;
    if (!keys || ((scheme & BL_WEBHOOK_SCHEME_V1) && !keys->current))
        return bl_err_set(err, BL_EINVAL, "webhook signature: no current secret");
    if ((scheme & BL_WEBHOOK_SCHEME_V1A) && !keys->ed_current)
        return bl_err_set(err, BL_EINVAL, "webhook signature: no ed25519 key for v1a");
    if (out_len < BL_WEBHOOK_SIG_HEADER_MAX)
        return bl_err_set(err, BL_EINVAL, "webhook signature: output buffer too small");
    size_t used = 0;
    out[0] = '\0';
    if (scheme & BL_WEBHOOK_SCHEME_V1) {
        if (append_sig(out, out_len, &used, keys->current, NULL, msg_id, timestamp, body, body_len, err) != 0)
            return -1;
        if (keys->previous && now < keys->previous_until &&
            append_sig(out, out_len, &used, keys->previous, NULL, msg_id, timestamp, body, body_len, err) != 0)
            return -1;
    }
    if (scheme & BL_WEBHOOK_SCHEME_V1A) {
        if (append_sig(out, out_len, &used, NULL, keys->ed_current, msg_id, timestamp, body, body_len, err) != 0)
            return -1;
        if (keys->ed_previous && now < keys->ed_previous_until &&
            append_sig(out, out_len, &used, NULL, keys->ed_previous, msg_id, timestamp, body, body_len, err) != 0)
            return -1;
    }
    return 0;
}

const char *bl_webhook_verdict_name(bl_webhook_verdict v)
{
    switch (v) {
    case BL_WEBHOOK_VERIFY_OK: return "ok";
    case BL_WEBHOOK_VERIFY_MISSING_HEADER: return "missing header";
    case BL_WEBHOOK_VERIFY_BAD_ID: return "bad webhook-id";
    case BL_WEBHOOK_VERIFY_BAD_TIMESTAMP: return "bad webhook-timestamp";
    case BL_WEBHOOK_VERIFY_TOO_OLD: return "timestamp too old";
    case BL_WEBHOOK_VERIFY_TOO_NEW: return "timestamp too new";
    case BL_WEBHOOK_VERIFY_NO_MATCH: return "signature mismatch";
    }
    return "unknown";
}

/* Parses a non-negative decimal unix time with no sign, space or overflow. */
static bool parse_timestamp(const char *text, int64_t *out)
{
    if (!*text || strlen(text) > 19)
        return false;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

/* True when one space-separated "v1,<base64>" entry of header equals mac.
 * Every v1 entry is compared (no early exit) so timing says nothing about
 * which entry matched. */
static bool header_has_mac(const char *header, const uint8_t mac[BL_SHA256_LEN])
{
    bool found = false;
    const char *p = header;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 3 && memcmp(p, "v1,", 3) == 0) {
            uint8_t got[BL_SHA256_LEN + 3];
            size_t got_len = 0;
            if (bl_base64_decode(p + 3, len - 3, got, sizeof got, &got_len, NULL) == 0 &&
                got_len == BL_SHA256_LEN && bl_crypto_equal(got, mac, BL_SHA256_LEN))
                found = true;
        }
        p += len;
    }
    return found;
}

bl_webhook_verdict bl_webhook_verify_envelope(const char *msg_id, const char *timestamp,
                                              const char *signature_header, int64_t now,
                                              int64_t tolerance_s, int64_t *ts_out, bl_err *err)
{
    if (!msg_id || !timestamp || !signature_header) {
        bl_err_set(err, BL_EINVAL, "webhook verify: missing header %s",
                   !msg_id ? "webhook-id" : !timestamp ? "webhook-timestamp" : "webhook-signature");
        return BL_WEBHOOK_VERIFY_MISSING_HEADER;
    }
    if (bl_webhook_msg_id_check(msg_id, err) != 0) {
        bl_err_wrap(err, "webhook verify");
        return BL_WEBHOOK_VERIFY_BAD_ID;
    }
    int64_t ts = 0;
    if (!parse_timestamp(timestamp, &ts)) {
        bl_err_set(err, BL_EINVAL, "webhook verify: webhook-timestamp is not a unix time in seconds");
        return BL_WEBHOOK_VERIFY_BAD_TIMESTAMP;
    }
    if (now < 0)
        now = 0;
    /* ts and now are both non-negative here, so the differences cannot overflow. */
    if (tolerance_s >= 0 && now - ts > tolerance_s) {
        bl_err_set(err, BL_EINVAL, "webhook verify: timestamp %" PRId64 " is %" PRId64
                   " s older than now (tolerance %" PRId64 " s)", ts, now - ts, tolerance_s);
        return BL_WEBHOOK_VERIFY_TOO_OLD;
    }
    if (tolerance_s >= 0 && ts - now > tolerance_s) {
        bl_err_set(err, BL_EINVAL, "webhook verify: timestamp %" PRId64 " is %" PRId64
                   " s in the future (tolerance %" PRId64 " s)", ts, ts - now, tolerance_s);
        return BL_WEBHOOK_VERIFY_TOO_NEW;
    }
    *ts_out = ts;
    return BL_WEBHOOK_VERIFY_OK;
}

bl_webhook_verdict bl_webhook_verify_v1(const bl_webhook_secret *secret,
                                        const char *msg_id, const char *timestamp,
                                        const char *signature_header,
                                        const char *body, size_t body_len,
                                        int64_t now, int64_t tolerance_s, bl_err *err)
{
    int64_t ts = 0;
    bl_webhook_verdict v = bl_webhook_verify_envelope(msg_id, timestamp, signature_header, now, tolerance_s,
                                                      &ts, err);
    if (v != BL_WEBHOOK_VERIFY_OK)
        return v;
    uint8_t mac[BL_SHA256_LEN];
    if (!secret || mac_v1(secret->key, secret->len, msg_id, ts, body, body_len, mac, err) != 0) {
        if (!secret)
            bl_err_set(err, BL_EINVAL, "webhook verify: no secret");
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    if (!header_has_mac(signature_header, mac)) {
        bl_err_set(err, BL_ECRYPTO, "webhook verify: no v1 signature matches the body");
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    return BL_WEBHOOK_VERIFY_OK;
}

/* Checks "sha256=<hex>" (either case) against the HMAC-SHA256 of body keyed
 * with key, in constant time; name is the header's, for the messages. */
static bl_webhook_verdict verify_sha256_header(const uint8_t *key, size_t key_len, const char *name,
                                               const char *header, const char *body, size_t body_len,
                                               bl_err *err)
{
    if (!header) {
        bl_err_set(err, BL_EINVAL, "webhook verify: missing header %s", name);
        return BL_WEBHOOK_VERIFY_MISSING_HEADER;
    }
    uint8_t got[BL_SHA256_LEN];
    bool well_formed = strncmp(header, LEGACY_PREFIX, LEGACY_PREFIX_LEN) == 0 &&
                       strlen(header) == LEGACY_PREFIX_LEN + 2 * BL_SHA256_LEN;
    for (size_t i = 0; well_formed && i < BL_SHA256_LEN; i++) {
        int hi = bl_hex_value(header[LEGACY_PREFIX_LEN + 2 * i]);
        int lo = bl_hex_value(header[LEGACY_PREFIX_LEN + 2 * i + 1]);
        well_formed = hi >= 0 && lo >= 0;
        if (well_formed) /* a non-hex digit is -1: never shifted */
            got[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!well_formed) {
        bl_err_set(err, BL_EINVAL, "webhook verify: %s is not \"sha256=<64 hex digits>\"", name);
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    uint8_t mac[BL_SHA256_LEN];
    if (key_len == 0 || bl_hmac_sha256(key, key_len, body ? body : "", body ? body_len : 0, mac, err) != 0) {
        if (key_len == 0)
            bl_err_set(err, BL_EINVAL, "webhook verify: no secret");
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    if (!bl_crypto_equal(got, mac, sizeof mac)) {
        bl_err_set(err, BL_ECRYPTO, "webhook verify: %s does not match the body", name);
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    return BL_WEBHOOK_VERIFY_OK;
}

bl_webhook_verdict bl_webhook_verify_legacy(const bl_webhook_secret *secret, const char *header,
                                            const char *body, size_t body_len, bl_err *err)
{
    return verify_sha256_header(secret ? secret->key : NULL, secret ? secret->len : 0, "X-Signature", header,
                                body, body_len, err);
}

bl_webhook_verdict bl_webhook_verify_text_keyed(const bl_webhook_secret *secret, const char *name,
                                                const char *header, const char *body, size_t body_len,
                                                bl_err *err)
{
    return verify_sha256_header(secret ? (const uint8_t *)secret->text : NULL, secret ? strlen(secret->text) : 0,
                                name ? name : "the HMAC header", header, body, body_len, err);
}
