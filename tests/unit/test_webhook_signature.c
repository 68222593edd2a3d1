#include "connectors/webhook/policy/signature.h"
#include "tests/support/test.h"

#include <stdint.h>
#include <unistd.h>

/* The example of the Standard Webhooks reference libraries (go, js, python
 * tests: "TestWebhookSign"). */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TIMESTAMP 1614265330
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static const char *checker(void)
{
    return BUSLINE_SOURCE_DIR "/tests/unit/standard_webhooks_verify.py";
}

/* Writes body to a fresh temp file; path receives its name. Returns 0 or -1. */
static int write_temp(const char *body, size_t len, char path[64])
{
    snprintf(path, 64, "/tmp/bl_sigtest_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int ok = write(fd, body, len) == (ssize_t)len;
    close(fd);
    return ok ? 0 : -1;
}

/* Runs the Python checker with args and copies its first output line. */
static int run_checker(const char *args, char *out, size_t out_len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", checker(), args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = '\0';
    if (fgets(out, (int)out_len, p))
        out[strcspn(out, "\n")] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

static void spec_example_signs_as_published(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    CHECK_EQ_INT(s.len, 24);
    char sig[BL_WEBHOOK_SIG_MAX];
    REQUIRE(bl_webhook_sign_v1(s.key, s.len, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY,
                               strlen(SPEC_BODY), sig, sizeof sig, &err) == 0);
    CHECK_EQ_STR(sig, SPEC_SIGNATURE);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330", SPEC_SIGNATURE, SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP + 10, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
}

static void independent_python_check_accepts_our_signatures(void)
{
    const char *bodies[] = {"", "{\"event\":\"risk.escalated\",\"data\":{\"title\":\"Grüße \\\"x\\\"\"}}",
                            "line1\nline2\r\n\ttabs . dots . and spaces"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char text[BL_WEBHOOK_SECRET_TEXT_MAX];
        bl_webhook_secret s;
        bl_err err = {0};
        REQUIRE(bl_webhook_secret_generate(text, sizeof text, &err) == 0);
        REQUIRE(bl_webhook_secret_parse(text, &s, &err) == 0);
        char sig[BL_WEBHOOK_SIG_MAX], legacy[BL_WEBHOOK_LEGACY_SIG_MAX];
        REQUIRE(bl_webhook_sign_v1(s.key, s.len, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", 1674087231,
                                   bodies[i], strlen(bodies[i]), sig, sizeof sig, &err) == 0);
        REQUIRE(bl_webhook_sign_legacy(s.key, s.len, bodies[i], strlen(bodies[i]), legacy,
                                       sizeof legacy, &err) == 0);
        char path[64];
        REQUIRE(write_temp(bodies[i], strlen(bodies[i]), path) == 0);
        char args[512], out[128];
        snprintf(args, sizeof args, "v1 '%s' msg_2KWPBgLlAfxdpx2AI54pPJ85f4W 1674087231 '%s' %s",
                 text, sig, path);
        CHECK(run_checker(args, out, sizeof out) == 0);
        CHECK_EQ_STR(out, "ok");
        /* The checker can say no: a signature for another timestamp is refused. */
        snprintf(args, sizeof args, "v1 '%s' msg_2KWPBgLlAfxdpx2AI54pPJ85f4W 1674087232 '%s' %s",
                 text, sig, path);
        CHECK(run_checker(args, out, sizeof out) == 0);
        CHECK_EQ_STR(out, "mismatch");
        snprintf(args, sizeof args, "legacy '%s' %s", text, path);
        CHECK(run_checker(args, out, sizeof out) == 0);
        CHECK_EQ_STR(out, legacy);
        unlink(path);
    }
}

static void tampered_body_timestamp_or_id_is_rejected(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    const int64_t now = SPEC_TIMESTAMP;
    const size_t n = strlen(SPEC_BODY);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330", SPEC_SIGNATURE,
                                      "{\"test\": 2432232315}", n, now, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK(strstr(err.msg, "no v1 signature matches") != NULL);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265331", SPEC_SIGNATURE, SPEC_BODY, n,
                                      now, 300, &err), BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, "msg_p5jXN8AQM9LWM0D4loKWxJeK", "1614265330",
                                      SPEC_SIGNATURE, SPEC_BODY, n, now, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    /* Same bytes, other secret. */
    bl_webhook_secret other;
    REQUIRE(bl_webhook_secret_parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &other, &err) == 0);
    CHECK_EQ_INT(bl_webhook_verify_v1(&other, SPEC_MSG_ID, "1614265330", SPEC_SIGNATURE,
                                      SPEC_BODY, n, now, 300, &err), BL_WEBHOOK_VERIFY_NO_MATCH);
    /* A truncated signature is not a prefix match. */
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330", "v1,g0hM9SsE+OTPJTGt", SPEC_BODY,
                                      n, now, 300, &err), BL_WEBHOOK_VERIFY_NO_MATCH);
}

static void timestamp_outside_tolerance_is_rejected(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    const size_t n = strlen(SPEC_BODY);
    const char *ts = "1614265330";
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, ts, SPEC_SIGNATURE, SPEC_BODY, n,
                                      SPEC_TIMESTAMP + 300, 300, &err), BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, ts, SPEC_SIGNATURE, SPEC_BODY, n,
                                      SPEC_TIMESTAMP + 301, 300, &err), BL_WEBHOOK_VERIFY_TOO_OLD);
    CHECK(strstr(err.msg, "301 s older") != NULL);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, ts, SPEC_SIGNATURE, SPEC_BODY, n,
                                      SPEC_TIMESTAMP - 300, 300, &err), BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, ts, SPEC_SIGNATURE, SPEC_BODY, n,
                                      SPEC_TIMESTAMP - 301, 300, &err), BL_WEBHOOK_VERIFY_TOO_NEW);
    /* A negative tolerance skips the window; the signature still counts. */
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, ts, SPEC_SIGNATURE, SPEC_BODY, n,
                                      SPEC_TIMESTAMP + 86400 * 365, -1, &err), BL_WEBHOOK_VERIFY_OK);
}

static void malformed_headers_name_the_failed_check(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    const size_t n = strlen(SPEC_BODY);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, NULL, "1", SPEC_SIGNATURE, SPEC_BODY, n, 1, 300, &err),
                 BL_WEBHOOK_VERIFY_MISSING_HEADER);
    CHECK(strstr(err.msg, "webhook-id") != NULL);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1", NULL, SPEC_BODY, n, 1, 300, &err),
                 BL_WEBHOOK_VERIFY_MISSING_HEADER);
    CHECK(strstr(err.msg, "webhook-signature") != NULL);
    const char *bad_ts[] = {"", "-5", "+5", " 5", "1.5", "12a", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++)
        CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, bad_ts[i], SPEC_SIGNATURE, SPEC_BODY, n,
                                          1, 300, &err), BL_WEBHOOK_VERIFY_BAD_TIMESTAMP);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, "msg.with.dots", "1614265330", SPEC_SIGNATURE, SPEC_BODY,
                                      n, SPEC_TIMESTAMP, 300, &err), BL_WEBHOOK_VERIFY_BAD_ID);
    CHECK_EQ_STR(bl_webhook_verdict_name(BL_WEBHOOK_VERIFY_TOO_OLD), "timestamp too old");
}

static void any_v1_entry_matching_is_enough(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    const char *header = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "
                         "v2," "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
                         "v1,not-base64!  " SPEC_SIGNATURE " v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw==";
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330", header, SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    /* The right MAC under another version label does not count. */
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330",
                                      "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_v1(&s, SPEC_MSG_ID, "1614265330", "", SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
}

static void rotation_signs_with_both_secrets_during_overlap_only(void)
{
    bl_webhook_secret cur, old;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &cur, &err) == 0);
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &old, &err) == 0);
    bl_webhook_rotation keys = {.current = &cur, .previous = &old, .previous_until = 2000};
    char header[BL_WEBHOOK_SIG_HEADER_MAX], cur_sig[BL_WEBHOOK_SIG_MAX];
    REQUIRE(bl_webhook_sign_v1(cur.key, cur.len, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY,
                               strlen(SPEC_BODY), cur_sig, sizeof cur_sig, &err) == 0);
    REQUIRE(bl_webhook_sign_header(&keys, 1999, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY,
                                   strlen(SPEC_BODY), header, sizeof header, &err) == 0);
    char expected[BL_WEBHOOK_SIG_HEADER_MAX];
    snprintf(expected, sizeof expected, "%s %s", cur_sig, SPEC_SIGNATURE);
    CHECK_EQ_STR(header, expected);
    /* A receiver holding either secret accepts the rotated header. */
    CHECK_EQ_INT(bl_webhook_verify_v1(&old, SPEC_MSG_ID, "1614265330", header, SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_v1(&cur, SPEC_MSG_ID, "1614265330", header, SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_OK);
    /* Once the overlap has ended only the current secret signs. */
    REQUIRE(bl_webhook_sign_header(&keys, 2000, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY,
                                   strlen(SPEC_BODY), header, sizeof header, &err) == 0);
    CHECK_EQ_STR(header, cur_sig);
    CHECK_EQ_INT(bl_webhook_verify_v1(&old, SPEC_MSG_ID, "1614265330", header, SPEC_BODY,
                                      strlen(SPEC_BODY), SPEC_TIMESTAMP, 300, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    keys.previous = NULL;
    REQUIRE(bl_webhook_sign_header(&keys, 0, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_BODY,
                                   strlen(SPEC_BODY), header, sizeof header, &err) == 0);
    CHECK_EQ_STR(header, cur_sig);
}

static void secret_parse_errors_say_what_is_wrong(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    CHECK(bl_webhook_secret_parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &s, &err) == -1);
    CHECK(strstr(err.msg, "must start with \"whsec_\"") != NULL);
    CHECK(bl_webhook_secret_parse("whsec_", &s, &err) == -1);
    CHECK(strstr(err.msg, "no key") != NULL);
    CHECK(bl_webhook_secret_parse("whsec_MfKQ9r8GKYqrTwjUPD8I*PZIo2LaLaSw", &s, &err) == -1);
    CHECK(strstr(err.msg, "not standard base64") != NULL);
    CHECK(strstr(err.msg, "MfKQ") == NULL); /* never quotes the secret */
    CHECK(bl_webhook_secret_parse("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAA", &s, &err) == -1);
    CHECK(strstr(err.msg, "21 bytes, at least 24") != NULL);
    char big[200] = "whsec_";
    memset(big + 6, 'A', 92); /* 69 bytes */
    CHECK(bl_webhook_secret_parse(big, &s, &err) == -1);
    CHECK(strstr(err.msg, "longer than 64") != NULL);
    big[6 + 88] = '\0'; /* 66 bytes of base64 text for 64 bytes + "==" padding shape */
    memcpy(big + 6 + 86, "==", 3);
    CHECK(bl_webhook_secret_parse(big, &s, &err) == 0);
    CHECK_EQ_INT(s.len, 64);
    CHECK(bl_webhook_secret_parse(NULL, &s, &err) == -1);
}

static void generated_secrets_are_whsec_32_bytes_and_differ(void)
{
    char a[BL_WEBHOOK_SECRET_TEXT_MAX], b[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_generate(a, sizeof a, &err) == 0);
    REQUIRE(bl_webhook_secret_generate(b, sizeof b, &err) == 0);
    CHECK(strncmp(a, "whsec_", 6) == 0);
    CHECK_EQ_INT(strlen(a), 6 + 44);
    CHECK(strcmp(a, b) != 0);
    bl_webhook_secret s;
    CHECK(bl_webhook_secret_parse(a, &s, &err) == 0);
    CHECK_EQ_INT(s.len, 32);
    char small[20];
    CHECK(bl_webhook_secret_generate(small, sizeof small, &err) == -1);
}

static void message_ids_that_would_blur_the_signed_text_are_refused(void)
{
    bl_err err = {0};
    uint8_t key[24] = {1};
    char sig[BL_WEBHOOK_SIG_MAX];
    const char *bad[] = {"", "a.b", "a b", "a,b", "a\nb", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(bl_webhook_sign_v1(key, sizeof key, bad[i], 1, "x", 1, sig, sizeof sig, &err) == -1);
    char longid[300];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    CHECK(bl_webhook_sign_v1(key, sizeof key, longid, 1, "x", 1, sig, sizeof sig, &err) == -1);
    CHECK(strstr(err.msg, "longer than 255") != NULL);
    CHECK(bl_webhook_sign_v1(key, sizeof key, "msg_1", -1, "x", 1, sig, sizeof sig, &err) == -1);
    CHECK(bl_webhook_sign_v1(key, sizeof key, "evt_0b7c-4f1e_9", 1, "x", 1, sig, sizeof sig, &err) == 0);
    CHECK(bl_webhook_sign_v1(key, sizeof key, "msg_1", 1, "x", 1, sig, 20, &err) == -1);
}

static void legacy_signature_verifies_and_catches_tampering(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    char legacy[BL_WEBHOOK_LEGACY_SIG_MAX];
    REQUIRE(bl_webhook_sign_legacy(s.key, s.len, SPEC_BODY, strlen(SPEC_BODY), legacy,
                                   sizeof legacy, &err) == 0);
    CHECK_EQ_INT(strlen(legacy), 7 + 64);
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, legacy, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_OK);
    char upper[BL_WEBHOOK_LEGACY_SIG_MAX];
    strcpy(upper, legacy);
    for (char *p = upper + 7; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, upper, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, legacy, "{\"test\": 1}", 11, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, legacy + 7, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK(strstr(err.msg, "sha256=<64 hex digits>") != NULL);
    /* the fuzzer's case: a non-hex digit first (once shifted as -1, undefined behaviour) */
    char bad[BL_WEBHOOK_LEGACY_SIG_MAX];
    strcpy(bad, legacy);
    bad[7] = '\xff';
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, bad, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK_EQ_INT(bl_webhook_verify_legacy(&s, NULL, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_MISSING_HEADER);
}

/* The HMAC header (X-Powalyze-Signature and the like) is keyed with the
 * secret's text as the user saw it; Python's hmac computes the same. */
static void text_keyed_signature_uses_the_secret_string(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &s, &err) == 0);
    CHECK_EQ_STR(s.text, SPEC_SECRET);
    char mac[BL_WEBHOOK_LEGACY_SIG_MAX], legacy[BL_WEBHOOK_LEGACY_SIG_MAX];
    REQUIRE(bl_webhook_sign_text_keyed(&s, SPEC_BODY, strlen(SPEC_BODY), mac, sizeof mac, &err) == 0);
    /* hmac.new(b"whsec_MfKQ...", b'{"test": 2432232314}', sha256).hexdigest() */
    CHECK_EQ_STR(mac, "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c");
    char path[64], args[256], out[128];
    REQUIRE(write_temp(SPEC_BODY, strlen(SPEC_BODY), path) == 0);
    snprintf(args, sizeof args, "text-keyed %s %s", SPEC_SECRET, path);
    CHECK(run_checker(args, out, sizeof out) == 0);
    CHECK_EQ_STR(out, mac);
    unlink(path);
    /* not the legacy header under another name: that one uses the decoded key */
    REQUIRE(bl_webhook_sign_legacy(s.key, s.len, SPEC_BODY, strlen(SPEC_BODY), legacy, sizeof legacy, &err) == 0);
    CHECK(strcmp(mac, legacy) != 0);
    bl_webhook_secret none = {0};
    CHECK(bl_webhook_sign_text_keyed(&none, SPEC_BODY, 1, mac, sizeof mac, &err) == -1);
}

/* What a receiver checks (busline webhooks sink --hmac-header): the header
 * bl_webhook_sign_text_keyed writes, and no other. */
static void text_keyed_header_verifies_only_its_own_signature(void)
{
    bl_webhook_secret s;
    bl_err err = {0};
    REQUIRE(bl_webhook_secret_from_text("a-secret-the-caller-chose", &s, &err) == 0);
    char mac[BL_WEBHOOK_LEGACY_SIG_MAX];
    REQUIRE(bl_webhook_sign_text_keyed(&s, SPEC_BODY, strlen(SPEC_BODY), mac, sizeof mac, &err) == 0);
    CHECK_EQ_INT(bl_webhook_verify_text_keyed(&s, "X-Webhook-Signature", mac, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_OK);
    CHECK_EQ_INT(bl_webhook_verify_text_keyed(&s, "X-Webhook-Signature", mac, "{}", 2, &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
    CHECK(strstr(err.msg, "X-Webhook-Signature does not match") != NULL);
    CHECK_EQ_INT(bl_webhook_verify_text_keyed(&s, "X-Webhook-Signature", NULL, SPEC_BODY, strlen(SPEC_BODY), &err),
                 BL_WEBHOOK_VERIFY_MISSING_HEADER);
    bl_webhook_secret other;
    REQUIRE(bl_webhook_secret_parse(SPEC_SECRET, &other, &err) == 0);
    CHECK_EQ_INT(bl_webhook_verify_text_keyed(&other, "X-Webhook-Signature", mac, SPEC_BODY, strlen(SPEC_BODY),
                                              &err),
                 BL_WEBHOOK_VERIFY_NO_MATCH);
}

int main(void)
{
    BL_RUN(spec_example_signs_as_published);
    BL_RUN(text_keyed_header_verifies_only_its_own_signature);
    BL_RUN(independent_python_check_accepts_our_signatures);
    BL_RUN(tampered_body_timestamp_or_id_is_rejected);
    BL_RUN(timestamp_outside_tolerance_is_rejected);
    BL_RUN(malformed_headers_name_the_failed_check);
    BL_RUN(any_v1_entry_matching_is_enough);
    BL_RUN(rotation_signs_with_both_secrets_during_overlap_only);
    BL_RUN(secret_parse_errors_say_what_is_wrong);
    BL_RUN(generated_secrets_are_whsec_32_bytes_and_differ);
    BL_RUN(message_ids_that_would_blur_the_signed_text_are_refused);
    BL_RUN(legacy_signature_verifies_and_catches_tampering);
    BL_RUN(text_keyed_signature_uses_the_secret_string);
    return bl_test_summary();
}
