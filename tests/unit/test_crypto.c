#include "core/crypto.h"
#include "tests/support/test.h"

#include <stdint.h>
#include <stdlib.h>

static void hex_of(const uint8_t *raw, size_t len, char *out)
{
    bl_hex_encode(raw, len, out);
}

static void sha256_matches_published_vectors(void)
{
    bl_err err;
    char hex[BL_SHA256_HEX_SIZE];
    REQUIRE(bl_sha256_hex("", 0, hex, &err) == 0);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    REQUIRE(bl_sha256_hex("abc", 3, hex, &err) == 0);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    uint8_t raw[BL_SHA256_LEN];
    REQUIRE(bl_sha256("abc", 3, raw, &err) == 0);
    CHECK(raw[0] == 0xba && raw[31] == 0xad);
}

static void hmac_sha256_matches_rfc4231_cases_1_2_6(void)
{
    bl_err err;
    uint8_t mac[BL_SHA256_LEN];
    char hex[BL_SHA256_HEX_SIZE];

    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    REQUIRE(bl_hmac_sha256(key1, sizeof key1, "Hi There", 8, mac, &err) == 0);
    hex_of(mac, sizeof mac, hex);
    CHECK_EQ_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    const char *data2 = "what do ya want for nothing?";
    REQUIRE(bl_hmac_sha256("Jefe", 4, data2, strlen(data2), mac, &err) == 0);
    hex_of(mac, sizeof mac, hex);
    CHECK_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    REQUIRE(bl_hmac_sha256(key6, sizeof key6, data6, strlen(data6), mac, &err) == 0);
    hex_of(mac, sizeof mac, hex);
    CHECK_EQ_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void hmac_of_parts_equals_hmac_of_joined_message(void)
{
    bl_err err;
    uint8_t joined[BL_SHA256_LEN], parted[BL_SHA256_LEN], empty_key[BL_SHA256_LEN];
    const char *msg = "msg_1.1700000000.{\"a\":1}";
    REQUIRE(bl_hmac_sha256("secret", 6, msg, strlen(msg), joined, &err) == 0);
    const bl_bytes parts[] = {{"msg_1", 5}, {".1700000000.", 12}, {"{\"a\":1}", 7}};
    REQUIRE(bl_hmac_sha256_parts("secret", 6, parts, 3, parted, &err) == 0);
    CHECK(memcmp(joined, parted, sizeof joined) == 0);
    /* An empty key is legal HMAC and must not reuse any earlier key. */
    REQUIRE(bl_hmac_sha256("", 0, msg, strlen(msg), empty_key, &err) == 0);
    CHECK(memcmp(joined, empty_key, sizeof joined) != 0);
}

static void constant_time_compare_tells_equal_from_different(void)
{
    uint8_t a[32], b[32];
    memset(a, 7, sizeof a);
    memcpy(b, a, sizeof b);
    CHECK(bl_crypto_equal(a, b, sizeof a));
    b[31] ^= 1;
    CHECK(!bl_crypto_equal(a, b, sizeof a));
    b[31] ^= 1;
    b[0] ^= 0x80;
    CHECK(!bl_crypto_equal(a, b, sizeof a));
    CHECK(bl_crypto_equal(a, b, 0));
}

static void base64_round_trips_all_tail_lengths(void)
{
    bl_err err;
    const char *expect[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t n = 0; n <= 6; n++) {
        char text[16];
        REQUIRE(bl_base64_encode("foobar", n, text, sizeof text, &err) == 0);
        CHECK_EQ_STR(text, expect[n]);
        CHECK_EQ_INT(strlen(text) + 1, bl_base64_encoded_size(n));
        uint8_t back[8];
        size_t back_len = 99;
        REQUIRE(bl_base64_decode(text, strlen(text), back, sizeof back, &back_len, &err) == 0);
        CHECK_EQ_INT(back_len, n);
        CHECK(memcmp(back, "foobar", n) == 0);
    }
    uint8_t all[256], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    char text[400];
    size_t back_len = 0;
    REQUIRE(bl_base64_encode(all, sizeof all, text, sizeof text, &err) == 0);
    REQUIRE(bl_base64_decode(text, strlen(text), back, sizeof back, &back_len, &err) == 0);
    CHECK_EQ_INT(back_len, 256);
    CHECK(memcmp(all, back, sizeof all) == 0);
    CHECK(bl_base64_encode("foo", 3, text, 4, &err) == -1);
}

static void base64_decode_rejects_bad_input(void)
{
    const char *bad[] = {
        "Zm9",      /* not a multiple of 4 */
        "Zm9v!A==", /* outside the alphabet */
        "Zm 9",     /* whitespace */
        "Zm9v\n",   /* newline */
        "Z===",     /* too much padding */
        "====",     /* only padding */
        "Zg=a",     /* padding inside */
        "Zg==Zm9v", /* padding before the end */
        "Zh==",     /* non-zero bits before padding */
        "Zm9=",     /* non-zero bits before padding */
        "Zm9v_-==", /* url-safe alphabet is not standard */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bl_err err = {0};
        uint8_t out[16];
        size_t out_len = 0;
        int rc = bl_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &out_len, &err);
        if (rc != -1)
            fprintf(stderr, "  accepted bad base64 \"%s\"\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(err.code, BL_EINVAL);
        CHECK(strncmp(err.msg, "base64: ", 8) == 0);
    }
    bl_err err;
    uint8_t small[2];
    size_t n;
    CHECK(bl_base64_decode("Zm9v", 4, small, sizeof small, &n, &err) == -1);
}

static void hex_encode_is_lowercase_two_digits_per_byte(void)
{
    char out[9];
    bl_hex_encode("\x00\x0f\xa0\xff", 4, out);
    CHECK_EQ_STR(out, "000fa0ff");
}

static void hex_value_reads_either_case_and_rejects_the_rest(void)
{
    CHECK_EQ_INT(bl_hex_value('0'), 0);
    CHECK_EQ_INT(bl_hex_value('9'), 9);
    CHECK_EQ_INT(bl_hex_value('a'), 10);
    CHECK_EQ_INT(bl_hex_value('F'), 15);
    CHECK_EQ_INT(bl_hex_value('g'), -1);
    CHECK_EQ_INT(bl_hex_value('/'), -1);
    CHECK_EQ_INT(bl_hex_value('\0'), -1);
}

static void random_token_has_prefix_fixed_length_and_base62_alphabet(void)
{
    bl_err err;
    CHECK_EQ_INT(bl_base62_len(32), 43);
    CHECK_EQ_INT(bl_base62_len(16), 22);
    CHECK_EQ_INT(bl_base62_len(1), 2);
    char a[64], b[64];
    REQUIRE(bl_random_token("bl_live_", 32, a, sizeof a, &err) == 0);
    REQUIRE(bl_random_token("bl_live_", 32, b, sizeof b, &err) == 0);
    CHECK_EQ_INT(strlen(a), 8 + 43);
    CHECK(strncmp(a, "bl_live_", 8) == 0);
    CHECK(strspn(a + 8, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 43);
    CHECK(strcmp(a, b) != 0);
    /* Over many tokens every digit class shows up, so the whole alphabet is used. */
    bool seen[128] = {0};
    for (int i = 0; i < 50; i++) {
        REQUIRE(bl_random_token(NULL, 32, a, sizeof a, &err) == 0);
        CHECK_EQ_INT(strlen(a), 43);
        for (const char *p = a + 1; *p; p++)
            seen[(unsigned char)*p] = true;
    }
    CHECK(seen['0'] && seen['9'] && seen['A'] && seen['Z'] && seen['a'] && seen['z']);
    CHECK(bl_random_token("bl_live_", 32, a, 8 + 43, &err) == -1);
    CHECK(bl_random_token("x", 0, a, sizeof a, &err) == -1);
    CHECK(bl_random_token("x", BL_TOKEN_MAX_BYTES + 1, a, sizeof a, &err) == -1);
}

/* ---- AES-256-GCM keyring ---- */

static void key_b64(uint8_t fill, char out[64])
{
    uint8_t key[32];
    memset(key, fill, sizeof key);
    bl_err err;
    bl_base64_encode(key, sizeof key, out, 64, &err);
}

static bl_keyring *ring(const char *ids, const char *active)
{
    /* ids like "k1,k2": key n is filled with byte n. */
    char spec[512] = "";
    char copy[64];
    snprintf(copy, sizeof copy, "%s", ids);
    uint8_t fill = 1;
    for (char *id = strtok(copy, ","); id; id = strtok(NULL, ","), fill++) {
        char b64[64];
        key_b64(fill, b64);
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%s:%s", *spec ? "," : "",
                 id, b64);
    }
    bl_err err;
    bl_keyring *kr = bl_keyring_parse(spec, active, &err);
    if (!kr)
        fprintf(stderr, "  keyring: %s\n", err.msg);
    return kr;
}

static int open_text(const bl_keyring *kr, const char *sealed, const char *aad, char **plain,
                     bl_err *err)
{
    uint8_t *out = NULL;
    size_t len = 0;
    int rc = bl_keyring_open(kr, sealed, aad, aad ? strlen(aad) : 0, &out, &len, err);
    *plain = (char *)out;
    return rc;
}

static void sealed_value_opens_to_the_same_bytes(void)
{
    bl_keyring *kr = ring("k1", NULL);
    REQUIRE(kr);
    bl_err err;
    const char *secret = "xoxb-slack-token";
    char *sealed = bl_keyring_seal(kr, secret, strlen(secret), "endpoint-7", 10, &err);
    REQUIRE(sealed);
    CHECK(strncmp(sealed, "v1.k1.", 6) == 0);
    CHECK(strstr(sealed, secret) == NULL);
    /* base64 of 12 nonce + 16 plain + 16 tag = 44 bytes -> 60 chars */
    CHECK_EQ_INT(strlen(sealed), 6 + 60);
    char *plain = NULL;
    REQUIRE(open_text(kr, sealed, "endpoint-7", &plain, &err) == 0);
    CHECK_EQ_STR(plain, secret);
    free(plain);

    char *again = bl_keyring_seal(kr, secret, strlen(secret), "endpoint-7", 10, &err);
    REQUIRE(again);
    CHECK(strcmp(sealed, again) != 0); /* fresh nonce every time */
    free(again);

    char *empty = bl_keyring_seal(kr, "", 0, NULL, 0, &err);
    REQUIRE(empty);
    uint8_t *out = NULL;
    size_t out_len = 99;
    REQUIRE(bl_keyring_open(kr, empty, NULL, 0, &out, &out_len, &err) == 0);
    CHECK_EQ_INT(out_len, 0);
    free(out);
    free(empty);
    free(sealed);
    bl_keyring_free(kr);
}

/* Flips one bit of the decoded blob at offset (negative: from the end). */
static char *flip_bit(const char *sealed, long offset)
{
    const char *b64 = strrchr(sealed, '.') + 1;
    uint8_t blob[256];
    size_t len = 0;
    bl_err err;
    if (bl_base64_decode(b64, strlen(b64), blob, sizeof blob, &len, &err) != 0)
        return NULL;
    size_t at = offset < 0 ? len - (size_t)(-offset) : (size_t)offset;
    blob[at] ^= 0x01;
    size_t head = (size_t)(b64 - sealed);
    char *out = malloc(head + bl_base64_encoded_size(len));
    memcpy(out, sealed, head);
    bl_base64_encode(blob, len, out + head, bl_base64_encoded_size(len), &err);
    return out;
}

static void tampered_nonce_ciphertext_or_tag_fails_authentication(void)
{
    bl_keyring *kr = ring("k1", NULL);
    REQUIRE(kr);
    bl_err err;
    char *sealed = bl_keyring_seal(kr, "webhook-secret", 14, "ep1", 3, &err);
    REQUIRE(sealed);
    const long offsets[] = {0, 11, 12, 12 + 13, -16, -1};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        char *bad = flip_bit(sealed, offsets[i]);
        REQUIRE(bad);
        char *plain = NULL;
        err.code = 0;
        CHECK_EQ_INT(open_text(kr, bad, "ep1", &plain, &err), -1);
        CHECK(plain == NULL);
        CHECK_EQ_INT(err.code, BL_ECRYPTO);
        CHECK(strstr(err.msg, "authentication failed") != NULL);
        free(bad);
    }
    free(sealed);
    bl_keyring_free(kr);
}

static void wrong_associated_data_fails_authentication(void)
{
    bl_keyring *kr = ring("k1", NULL);
    REQUIRE(kr);
    bl_err err;
    char *sealed = bl_keyring_seal(kr, "s", 1, "endpoint-1", 10, &err);
    REQUIRE(sealed);
    char *plain = NULL;
    CHECK_EQ_INT(open_text(kr, sealed, "endpoint-2", &plain, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECRYPTO);
    CHECK_EQ_INT(open_text(kr, sealed, NULL, &plain, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECRYPTO);
    /* Swapping the key id for another key's id must not open either. */
    bl_keyring *two = ring("k1,k2", NULL);
    REQUIRE(two);
    char *swapped = strdup(sealed);
    swapped[4] = '2';
    CHECK_EQ_INT(open_text(two, swapped, "endpoint-1", &plain, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECRYPTO);
    free(swapped);
    /* Even when two ids name the same key bytes, the id is authenticated. */
    char k[64], spec[160];
    key_b64(1, k);
    snprintf(spec, sizeof spec, "k1:%s,k9:%s", k, k);
    bl_keyring *alias = bl_keyring_parse(spec, NULL, &err);
    REQUIRE(alias);
    char *relabeled = strdup(sealed);
    relabeled[4] = '9';
    CHECK_EQ_INT(open_text(alias, relabeled, "endpoint-1", &plain, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECRYPTO);
    CHECK_EQ_INT(open_text(alias, sealed, "endpoint-1", &plain, &err), 0);
    free(plain);
    free(relabeled);
    bl_keyring_free(alias);
    free(sealed);
    bl_keyring_free(two);
    bl_keyring_free(kr);
}

static void unknown_key_id_is_reported_by_id(void)
{
    bl_keyring *old = ring("old", NULL);
    bl_keyring *other = ring("new", NULL);
    REQUIRE(old && other);
    bl_err err;
    char *sealed = bl_keyring_seal(old, "s", 1, NULL, 0, &err);
    REQUIRE(sealed);
    char *plain = NULL;
    CHECK_EQ_INT(open_text(other, sealed, NULL, &plain, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK_EQ_STR(err.msg, "crypto: open: unknown key id old");
    free(sealed);
    bl_keyring_free(old);
    bl_keyring_free(other);
}

static void rotation_keeps_old_values_readable(void)
{
    bl_keyring *before = ring("2024", NULL);
    REQUIRE(before);
    bl_err err;
    char *old_sealed = bl_keyring_seal(before, "token-A", 7, NULL, 0, &err);
    REQUIRE(old_sealed);
    bl_keyring_free(before);

    /* The new key is listed first (active); the old one stays for reading. */
    char k_new[64], k_old[64], spec[256];
    key_b64(9, k_new);
    key_b64(1, k_old);
    snprintf(spec, sizeof spec, "2025:%s,2024:%s", k_new, k_old);
    bl_keyring *after = bl_keyring_parse(spec, NULL, &err);
    REQUIRE(after);
    CHECK_EQ_STR(bl_keyring_active_id(after), "2025");
    char *plain = NULL;
    REQUIRE(open_text(after, old_sealed, NULL, &plain, &err) == 0);
    CHECK_EQ_STR(plain, "token-A");
    free(plain);
    char *new_sealed = bl_keyring_seal(after, "token-B", 7, NULL, 0, &err);
    REQUIRE(new_sealed);
    CHECK(strncmp(new_sealed, "v1.2025.", 8) == 0);
    free(new_sealed);
    bl_keyring_free(after);

    /* BUSLINE_ENCRYPTION_KEY_ID picks another entry as active. */
    setenv(BL_KEYRING_ENV_KEYS, spec, 1);
    setenv(BL_KEYRING_ENV_ACTIVE, "2024", 1);
    bl_keyring *env = bl_keyring_from_env(&err);
    REQUIRE(env);
    CHECK_EQ_STR(bl_keyring_active_id(env), "2024");
    bl_keyring_free(env);
    setenv(BL_KEYRING_ENV_ACTIVE, "2023", 1);
    CHECK(bl_keyring_from_env(&err) == NULL);
    CHECK_EQ_STR(err.msg, "crypto: active key id 2023 is not among the keys");
    unsetenv(BL_KEYRING_ENV_KEYS);
    unsetenv(BL_KEYRING_ENV_ACTIVE);
    CHECK(bl_keyring_from_env(&err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    free(old_sealed);
}

static void malformed_sealed_texts_are_rejected(void)
{
    bl_keyring *kr = ring("k1", NULL);
    REQUIRE(kr);
    const char *bad[] = {
        "",
        "hello",
        "v2.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.k1",
        "v1..AAAA",
        "v1.k 1.AAAA",
        "v1.k1.AAAA",                                     /* shorter than nonce + tag */
        "v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!!", /* not base64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bl_err err = {0};
        char *plain = NULL;
        CHECK_EQ_INT(open_text(kr, bad[i], NULL, &plain, &err), -1);
        if (err.code != BL_EINVAL)
            fprintf(stderr, "  \"%s\" -> %d %s\n", bad[i], err.code, err.msg);
        CHECK_EQ_INT(err.code, BL_EINVAL);
        CHECK(strncmp(err.msg, "crypto: open: ", 14) == 0);
    }
    bl_err err;
    uint8_t *p = NULL;
    size_t n = 0;
    CHECK_EQ_INT(bl_keyring_open(kr, NULL, NULL, 0, &p, &n, &err), -1);
    bl_keyring_free(kr);
}

static void bad_key_specs_fail_without_quoting_the_key(void)
{
    char good[64];
    key_b64(5, good);
    char short_key[32];
    bl_err err;
    bl_base64_encode("0123456789", 10, short_key, sizeof short_key, &err);
    char spec[256];
    struct {
        const char *fmt;
        const char *msg;
    } cases[] = {
        {"%s", "crypto: key entry 1: expected keyid:base64key"},
        {"k1:%s,k1:%s", "crypto: key id k1 appears twice"},
        {"bad.id:%s", "crypto: key entry 1: key id must be 1..32 of [A-Za-z0-9_-]"},
        {"k1:%s,", "crypto: key entry 2: expected keyid:base64key"},
        {"k1:!%s", "crypto: key k1: must be the base64 of exactly 32 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(spec, sizeof spec, cases[i].fmt, good, good);
        CHECK(bl_keyring_parse(spec, NULL, &err) == NULL);
        CHECK_EQ_STR(err.msg, cases[i].msg);
        CHECK(strstr(err.msg, good) == NULL);
    }
    snprintf(spec, sizeof spec, "k1:%s", short_key);
    CHECK(bl_keyring_parse(spec, NULL, &err) == NULL);
    CHECK_EQ_STR(err.msg, "crypto: key k1: must be the base64 of exactly 32 bytes");
    CHECK(strstr(err.msg, short_key) == NULL);
}

int main(void)
{
    BL_RUN(sha256_matches_published_vectors);
    BL_RUN(hmac_sha256_matches_rfc4231_cases_1_2_6);
    BL_RUN(hmac_of_parts_equals_hmac_of_joined_message);
    BL_RUN(constant_time_compare_tells_equal_from_different);
    BL_RUN(base64_round_trips_all_tail_lengths);
    BL_RUN(base64_decode_rejects_bad_input);
    BL_RUN(hex_encode_is_lowercase_two_digits_per_byte);
    BL_RUN(hex_value_reads_either_case_and_rejects_the_rest);
    BL_RUN(random_token_has_prefix_fixed_length_and_base62_alphabet);
    BL_RUN(sealed_value_opens_to_the_same_bytes);
    BL_RUN(tampered_nonce_ciphertext_or_tag_fails_authentication);
    BL_RUN(wrong_associated_data_fails_authentication);
    BL_RUN(unknown_key_id_is_reported_by_id);
    BL_RUN(rotation_keeps_old_values_readable);
    BL_RUN(malformed_sealed_texts_are_rejected);
    BL_RUN(bad_key_specs_fail_without_quoting_the_key);
    return bl_test_summary();
}
