/* Standard Webhooks v1a: ed25519 signing and verifying (signature_v1a.h),
 * the whsk_/whpk_ key texts, the header with both schemes and rotation, and
 * a check of both directions against Python's cryptography (an independent
 * ed25519 implementation). */
#include "connectors/webhook/policy/signature_v1a.h"
#include "core/ed25519.h"
#include "tests/support/test.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TS 1614265330
#define TS_TEXT "1614265330"
#define BODY "{\"test\": 2432232314}"

/* RFC 8032, 7.1, TEST 1 (the empty message). */
static const uint8_t rfc_seed[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
static const uint8_t rfc_pub[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t rfc_sig[64] = {
    0xe5, 0x56, 0x43, 0x00, 0xc3, 0x60, 0xac, 0x72, 0x90, 0x86, 0xe2, 0xcc, 0x80, 0x6e, 0x82, 0x8a,
    0x84, 0x87, 0x7f, 0x1e, 0xb8, 0xe5, 0xd9, 0x74, 0xd8, 0x73, 0xe0, 0x65, 0x22, 0x49, 0x01, 0x55,
    0x5f, 0xb8, 0x82, 0x15, 0x90, 0xa3, 0x3b, 0xac, 0xc6, 0x1e, 0x39, 0x70, 0x1c, 0xf9, 0xb4, 0x6b,
    0xd2, 0x5b, 0xf5, 0xf0, 0x59, 0x5b, 0xbe, 0x24, 0x65, 0x51, 0x41, 0x43, 0x8e, 0x7a, 0x10, 0x0b};

/* Runs tests/unit/standard_webhooks_verify.py with args then a temp file of
 * body; out gets its output lines (up to out_len bytes). Returns 0 or -1. */
static int python(const char *args, const char *body, char *out, size_t out_len)
{
    char path[] = "/tmp/bl_v1a_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int ok = write(fd, body, strlen(body)) == (ssize_t)strlen(body);
    close(fd);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/unit/standard_webhooks_verify.py %s %s",
             BUSLINE_SOURCE_DIR, args, path);
    FILE *p = ok ? popen(cmd, "r") : NULL;
    out[0] = '\0';
    size_t n = p ? fread(out, 1, out_len - 1, p) : 0;
    out[n] = '\0';
    int rc = p && pclose(p) == 0 ? 0 : -1;
    unlink(path);
    return rc;
}

static void core_ed25519_matches_rfc8032(void)
{
    bl_err err = {0};
    uint8_t pub[32], sig[64];
    REQUIRE(bl_ed25519_public_of(rfc_seed, pub, &err) == 0);
    CHECK(memcmp(pub, rfc_pub, 32) == 0);
    bl_bytes none = {"", 0};
    REQUIRE(bl_ed25519_sign(rfc_seed, &none, 1, sig, &err) == 0);
    CHECK(memcmp(sig, rfc_sig, 64) == 0);
    CHECK_EQ_INT(bl_ed25519_verify(rfc_pub, &none, 1, rfc_sig, &err), 1);
    bl_bytes one = {"x", 1};
    CHECK_EQ_INT(bl_ed25519_verify(rfc_pub, &one, 1, rfc_sig, &err), 0);
}

static void key_texts_round_trip(void)
{
    bl_err err = {0};
    bl_webhook_ed25519_key k, back, pub;
    REQUIRE(bl_webhook_ed25519_generate(&k, &err) == 0);
    char sk[BL_WEBHOOK_ED_KEY_TEXT_MAX], pk[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX];
    REQUIRE(bl_webhook_ed25519_signing_text(&k, sk, sizeof sk, &err) == 0);
    REQUIRE(bl_webhook_ed25519_public_text(&k, pk, sizeof pk, &err) == 0);
    CHECK(strncmp(sk, "whsk_", 5) == 0 && strlen(sk) == 5 + 44);
    CHECK(strncmp(pk, "whpk_", 5) == 0 && strlen(pk) == 5 + 44);
    REQUIRE(bl_webhook_ed25519_parse(sk, &back, &err) == 0);
    CHECK(back.has_private && memcmp(back.private_key, k.private_key, 32) == 0);
    CHECK(memcmp(back.public_key, k.public_key, 32) == 0);
    REQUIRE(bl_webhook_ed25519_parse(pk, &pub, &err) == 0);
    CHECK(pub.set && !pub.has_private && memcmp(pub.public_key, k.public_key, 32) == 0);
    /* a public key cannot sign */
    char sig[BL_WEBHOOK_SIG_V1A_MAX];
    CHECK(bl_webhook_sign_v1a(&pub, MSG_ID, TS, BODY, strlen(BODY), sig, sizeof sig, &err) == -1);
}

static void key_texts_refused_without_quoting_them(void)
{
    bl_err err = {0};
    bl_webhook_ed25519_key k;
    CHECK(bl_webhook_ed25519_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k, &err) == -1);
    CHECK(strstr(err.msg, "whsk_") != NULL);
    CHECK(bl_webhook_ed25519_parse("whsk_not*base64", &k, &err) == -1);
    CHECK(strstr(err.msg, "base64") != NULL && strstr(err.msg, "not*") == NULL);
    /* 24 bytes: neither a private key nor a pair */
    CHECK(bl_webhook_ed25519_parse("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k, &err) == -1);
    CHECK(strstr(err.msg, "24 bytes") != NULL);
    CHECK(bl_webhook_ed25519_parse("whpk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &k, &err) == -1);
    CHECK(bl_webhook_ed25519_parse(NULL, &k, &err) == -1);
    /* the 64-byte private||public form: read when its halves agree */
    uint8_t pair[64];
    memcpy(pair, rfc_seed, 32);
    memcpy(pair + 32, rfc_pub, 32);
    char text[BL_WEBHOOK_ED_KEY_TEXT_MAX] = "whsk_";
    REQUIRE(bl_base64_encode(pair, 64, text + 5, sizeof text - 5, &err) == 0);
    REQUIRE(bl_webhook_ed25519_parse(text, &k, &err) == 0);
    CHECK(memcmp(k.public_key, rfc_pub, 32) == 0);
    pair[63] ^= 1;
    REQUIRE(bl_base64_encode(pair, 64, text + 5, sizeof text - 5, &err) == 0);
    CHECK(bl_webhook_ed25519_parse(text, &k, &err) == -1);
    CHECK(strstr(err.msg, "second half") != NULL);
}

static void signs_and_verifies_and_refuses_tampering_and_wrong_keys(void)
{
    bl_err err = {0};
    bl_webhook_ed25519_key k, other;
    REQUIRE(bl_webhook_ed25519_generate(&k, &err) == 0);
    REQUIRE(bl_webhook_ed25519_generate(&other, &err) == 0);
    char sig[BL_WEBHOOK_SIG_V1A_MAX];
    REQUIRE(bl_webhook_sign_v1a(&k, MSG_ID, TS, BODY, strlen(BODY), sig, sizeof sig, &err) == 0);
    CHECK(strncmp(sig, "v1a,", 4) == 0 && strlen(sig) == 4 + 88);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, sig, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    const char *forged = "{\"test\": 2432232315}";
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, sig, forged, strlen(forged), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK(strstr(err.msg, "no v1a signature") != NULL);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, "1614265331", sig, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, "msg_other", TS_TEXT, sig, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&other, MSG_ID, TS_TEXT, sig, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    /* the envelope checks of v1 apply */
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, sig, BODY, strlen(BODY), TS + 301, 300, &err),
                 BL_WEBHOOK_VERIFY_TOO_OLD);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, NULL, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_MISSING_HEADER);
    /* a v1 entry with the same bytes is not a v1a one */
    char as_v1[BL_WEBHOOK_SIG_V1A_MAX];
    snprintf(as_v1, sizeof as_v1, "v1,%s", sig + 4);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, as_v1, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    /* one flipped bit of the signature */
    char flipped[BL_WEBHOOK_SIG_V1A_MAX];
    memcpy(flipped, sig, sizeof flipped);
    flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, flipped, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
}

static void header_carries_both_schemes_and_both_keys_during_overlap(void)
{
    bl_err err = {0};
    bl_webhook_secret cur;
    REQUIRE(bl_webhook_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &cur, &err) == 0);
    bl_webhook_ed25519_key ed, ed_old;
    REQUIRE(bl_webhook_ed25519_generate(&ed, &err) == 0);
    REQUIRE(bl_webhook_ed25519_generate(&ed_old, &err) == 0);
    bl_webhook_rotation keys = {.current = &cur, .scheme = BL_WEBHOOK_SCHEME_BOTH, .ed_current = &ed,
                                .ed_previous = &ed_old, .ed_previous_until = 2000};
    char h[BL_WEBHOOK_SIG_HEADER_MAX];
    REQUIRE(bl_webhook_sign_header(&keys, 1999, MSG_ID, TS, BODY, strlen(BODY), h, sizeof h, &err) == 0);
    /* "v1,<44> v1a,<88> v1a,<88>", v1 first */
    CHECK(strncmp(h, "v1,", 3) == 0);
    CHECK_EQ_INT(strlen(h), 3 + 44 + 1 + 4 + 88 + 1 + 4 + 88);
    CHECK_EQ_INT(bl_webhook_verify_v1(&cur, MSG_ID, TS_TEXT, h, BODY, strlen(BODY), TS, -1, &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&ed, MSG_ID, TS_TEXT, h, BODY, strlen(BODY), TS, -1, &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&ed_old, MSG_ID, TS_TEXT, h, BODY, strlen(BODY), TS, -1, &err),
                 BL_WEBHOOK_VERIFY_OK);
    /* after the overlap the old key no longer signs */
    REQUIRE(bl_webhook_sign_header(&keys, 2000, MSG_ID, TS, BODY, strlen(BODY), h, sizeof h, &err) == 0);
    CHECK_EQ_INT(strlen(h), 3 + 44 + 1 + 4 + 88);
    CHECK_EQ_INT(bl_webhook_verify_v1a(&ed_old, MSG_ID, TS_TEXT, h, BODY, strlen(BODY), TS, -1, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    /* v1a only: no v1 entry, so the HMAC check fails */
    keys.scheme = BL_WEBHOOK_SCHEME_V1A;
    REQUIRE(bl_webhook_sign_header(&keys, 2000, MSG_ID, TS, BODY, strlen(BODY), h, sizeof h, &err) == 0);
    CHECK(strncmp(h, "v1a,", 4) == 0 && strchr(h, ' ') == NULL);
    CHECK_EQ_INT(bl_webhook_verify_v1(&cur, MSG_ID, TS_TEXT, h, BODY, strlen(BODY), TS, -1, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    /* a v1a scheme without a key is refused, not sent unsigned */
    keys.ed_current = NULL;
    CHECK(bl_webhook_sign_header(&keys, 2000, MSG_ID, TS, BODY, strlen(BODY), h, sizeof h, &err) == -1);
    CHECK(strstr(err.msg, "ed25519") != NULL);
}

static void python_cryptography_agrees_both_ways(void)
{
    bl_err err = {0};
    bl_webhook_ed25519_key k;
    REQUIRE(bl_webhook_ed25519_generate(&k, &err) == 0);
    char sk[BL_WEBHOOK_ED_KEY_TEXT_MAX], pk[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX], sig[BL_WEBHOOK_SIG_V1A_MAX];
    REQUIRE(bl_webhook_ed25519_signing_text(&k, sk, sizeof sk, &err) == 0);
    REQUIRE(bl_webhook_ed25519_public_text(&k, pk, sizeof pk, &err) == 0);
    REQUIRE(bl_webhook_sign_v1a(&k, MSG_ID, TS, BODY, strlen(BODY), sig, sizeof sig, &err) == 0);
    char args[1024], out[512];
    /* ours verified by Python */
    snprintf(args, sizeof args, "v1a %s %s %s '%s'", pk, MSG_ID, TS_TEXT, sig);
    REQUIRE(python(args, BODY, out, sizeof out) == 0);
    CHECK_EQ_STR(out, "ok\n");
    REQUIRE(python(args, "{\"test\": 1}", out, sizeof out) == 0);
    CHECK_EQ_STR(out, "mismatch\n");
    /* Python's signature (deterministic, so equal to ours) and public key, read by us */
    snprintf(args, sizeof args, "v1a-sign %s %s %s", sk, MSG_ID, TS_TEXT);
    REQUIRE(python(args, BODY, out, sizeof out) == 0);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s\n%s\n", sig, pk);
    CHECK_EQ_STR(out, expected);
    *strchr(out, '\n') = '\0';
    CHECK_EQ_INT(bl_webhook_verify_v1a(&k, MSG_ID, TS_TEXT, out, BODY, strlen(BODY), TS, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
}

int main(void)
{
    BL_RUN(core_ed25519_matches_rfc8032);
    BL_RUN(key_texts_round_trip);
    BL_RUN(key_texts_refused_without_quoting_them);
    BL_RUN(signs_and_verifies_and_refuses_tampering_and_wrong_keys);
    BL_RUN(header_carries_both_schemes_and_both_keys_during_overlap);
    BL_RUN(python_cryptography_agrees_both_ways);
    return bl_test_summary();
}
