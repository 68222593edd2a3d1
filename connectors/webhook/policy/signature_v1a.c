/* Standard Webhooks v1a: ed25519 signing and verification, whsk_/whpk_ keys. */
#include "connectors/webhook/policy/signature_v1a.h"

#include "core/crypto.h"

#include <openssl/crypto.h>
#include <string.h>

#define SK_PREFIX_LEN (sizeof BL_WEBHOOK_SIGNING_KEY_PREFIX - 1)
#define PK_PREFIX_LEN (sizeof BL_WEBHOOK_PUBLIC_KEY_PREFIX - 1)
#define V1A_PREFIX "v1a,"
#define V1A_PREFIX_LEN (sizeof V1A_PREFIX - 1)

int bl_webhook_ed25519_generate(bl_webhook_ed25519_key *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (bl_ed25519_generate(out->private_key, out->public_key, err) != 0)
        return bl_err_wrap(err, "webhook signing key");
    out->has_private = out->set = true;
    return 0;
}

/* Decodes the base64 after a prefix of plen bytes into buf (cap bytes). */
static int decode_after(const char *text, size_t plen, uint8_t *buf, size_t cap, size_t *len, bl_err *err)
{
    const char *b64 = text + plen;
    size_t n = strlen(b64);
    if (n == 0)
        return bl_err_set(err, BL_EINVAL, "webhook key: no key after \"%.*s\"", (int)plen, text);
    if (n > BL_WEBHOOK_ED_KEY_TEXT_MAX - 1 - SK_PREFIX_LEN)
        return bl_err_set(err, BL_EINVAL, "webhook key: longer than an ed25519 key");
    if (bl_base64_decode(b64, n, buf, cap, len, NULL) != 0)
        return bl_err_set(err, BL_EINVAL, "webhook key: the key after \"%.*s\" is not standard base64",
                          (int)plen, text);
    return 0;
}

int bl_webhook_ed25519_parse(const char *text, bl_webhook_ed25519_key *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    uint8_t buf[2 * BL_ED25519_SEED_LEN + 2];
    size_t len = 0;
    int rc = -1;
    if (text && strncmp(text, BL_WEBHOOK_PUBLIC_KEY_PREFIX, PK_PREFIX_LEN) == 0) {
        if (decode_after(text, PK_PREFIX_LEN, buf, sizeof buf, &len, err) != 0)
            goto done;
        if (len != BL_ED25519_PUBLIC_LEN) {
            bl_err_set(err, BL_EINVAL, "webhook public key: %zu bytes, an ed25519 public key has %d", len,
                       BL_ED25519_PUBLIC_LEN);
            goto done;
        }
        memcpy(out->public_key, buf, BL_ED25519_PUBLIC_LEN);
        out->set = true;
        rc = 0;
        goto done;
    }
    if (!text || strncmp(text, BL_WEBHOOK_SIGNING_KEY_PREFIX, SK_PREFIX_LEN) != 0) {
        bl_err_set(err, BL_EINVAL, "webhook key: must start with \"%s\" or \"%s\"", BL_WEBHOOK_SIGNING_KEY_PREFIX,
                   BL_WEBHOOK_PUBLIC_KEY_PREFIX);
        goto done;
    }
    if (decode_after(text, SK_PREFIX_LEN, buf, sizeof buf, &len, err) != 0)
        goto done;
    if (len != BL_ED25519_SEED_LEN && len != 2 * BL_ED25519_SEED_LEN) {
        bl_err_set(err, BL_EINVAL, "webhook signing key: %zu bytes, an ed25519 private key has %d (or %d with "
                   "its public key)", len, BL_ED25519_SEED_LEN, 2 * BL_ED25519_SEED_LEN);
        goto done;
    }
    memcpy(out->private_key, buf, BL_ED25519_SEED_LEN);
    if (bl_ed25519_public_of(out->private_key, out->public_key, err) != 0) {
        bl_err_wrap(err, "webhook signing key");
        goto done;
    }
    if (len == 2 * BL_ED25519_SEED_LEN &&
        CRYPTO_memcmp(buf + BL_ED25519_SEED_LEN, out->public_key, BL_ED25519_PUBLIC_LEN) != 0) {
        bl_err_set(err, BL_EINVAL, "webhook signing key: its second half is not the public key of the first");
        goto done;
    }
    out->has_private = out->set = true;
    rc = 0;
done:
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc != 0)
        bl_webhook_ed25519_wipe(out);
    return rc;
}

/* prefix + base64(data) + NUL into out. */
static int key_text(const char *prefix, const uint8_t *data, size_t len, char *out, size_t out_len, bl_err *err)
{
    size_t plen = strlen(prefix);
    if (out_len < plen + bl_base64_encoded_size(len))
        return bl_err_set(err, BL_EINVAL, "webhook key: output buffer too small");
    memcpy(out, prefix, plen);
    return bl_base64_encode(data, len, out + plen, out_len - plen, err);
}

int bl_webhook_ed25519_signing_text(const bl_webhook_ed25519_key *key, char *out, size_t out_len, bl_err *err)
{
    if (!key || !key->has_private)
        return bl_err_set(err, BL_EINVAL, "webhook signing key: none");
    return key_text(BL_WEBHOOK_SIGNING_KEY_PREFIX, key->private_key, BL_ED25519_SEED_LEN, out, out_len, err);
}

int bl_webhook_ed25519_public_text(const bl_webhook_ed25519_key *key, char *out, size_t out_len, bl_err *err)
{
    if (!key || !key->set)
        return bl_err_set(err, BL_EINVAL, "webhook public key: none");
    return key_text(BL_WEBHOOK_PUBLIC_KEY_PREFIX, key->public_key, BL_ED25519_PUBLIC_LEN, out, out_len, err);
}

void bl_webhook_ed25519_wipe(bl_webhook_ed25519_key *key)
{
    if (key)
        OPENSSL_cleanse(key, sizeof *key);
}

int bl_webhook_sign_v1a(const bl_webhook_ed25519_key *key, const char *msg_id, int64_t timestamp,
                        const char *body, size_t body_len, char *out, size_t out_len, bl_err *err)
{
    if (out_len < BL_WEBHOOK_SIG_V1A_MAX)
        return bl_err_set(err, BL_EINVAL, "webhook signature: output buffer too small");
    if (!key || !key->has_private)
        return bl_err_set(err, BL_EINVAL, "webhook signature: no ed25519 signing key");
    char ts[21];
    bl_bytes parts[5];
    if (bl_webhook_signed_parts(msg_id, timestamp, body, body_len, ts, parts, err) != 0)
        return -1;
    uint8_t sig[BL_ED25519_SIG_LEN];
    if (bl_ed25519_sign(key->private_key, parts, 5, sig, err) != 0)
        return bl_err_wrap(err, "webhook signature");
    memcpy(out, V1A_PREFIX, V1A_PREFIX_LEN);
    return bl_base64_encode(sig, sizeof sig, out + V1A_PREFIX_LEN, out_len - V1A_PREFIX_LEN, err);
}

bl_webhook_verdict bl_webhook_verify_v1a(const bl_webhook_ed25519_key *key, const char *msg_id,
                                         const char *timestamp, const char *signature_header,
                                         const char *body, size_t body_len, int64_t now,
                                         int64_t tolerance_s, bl_err *err)
{
    int64_t ts = 0;
    bl_webhook_verdict v = bl_webhook_verify_envelope(msg_id, timestamp, signature_header, now, tolerance_s,
                                                      &ts, err);
    if (v != BL_WEBHOOK_VERIFY_OK)
        return v;
    char ts_buf[21];
    bl_bytes parts[5];
    if (!key || !key->set) {
        bl_err_set(err, BL_EINVAL, "webhook verify: no public key");
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    if (bl_webhook_signed_parts(msg_id, ts, body, body_len, ts_buf, parts, err) != 0)
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    bool found = false;
    for (const char *p = signature_header; *p;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > V1A_PREFIX_LEN && memcmp(p, V1A_PREFIX, V1A_PREFIX_LEN) == 0) {
            uint8_t sig[BL_ED25519_SIG_LEN + 3];
            size_t sig_len = 0;
            if (bl_base64_decode(p + V1A_PREFIX_LEN, len - V1A_PREFIX_LEN, sig, sizeof sig, &sig_len, NULL) == 0 &&
                sig_len == BL_ED25519_SIG_LEN) {
                int ok = bl_ed25519_verify(key->public_key, parts, 5, sig, err);
                if (ok < 0)
                    return BL_WEBHOOK_VERIFY_NO_MATCH;
                found = found || ok == 1;
            }
        }
        p += len;
    }
    if (!found) {
        bl_err_set(err, BL_ECRYPTO, "webhook verify: no v1a signature matches the body under this public key");
        return BL_WEBHOOK_VERIFY_NO_MATCH;
    }
    return BL_WEBHOOK_VERIFY_OK;
}
