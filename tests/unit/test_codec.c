#include "schemas/codec.h"
#include "tests/support/test.h"

#include <pthread.h>
#include <stdint.h>

#define J(...) #__VA_ARGS__

static const char *RISK_V1 = J({"type": "record", "name": "Risk", "namespace": "t", "fields": [
    {"name": "id", "type": "string"},
    {"name": "severity", "type": {"type": "enum", "name": "Severity", "symbols": ["LOW", "MEDIUM", "HIGH", "CRITICAL"]}},
    {"name": "probability", "type": "int"},
    {"name": "owner", "type": ["null", "string"], "default": null},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "score", "type": "float"},
    {"name": "blob", "type": "bytes"},
    {"name": "legacy", "type": "string"}]});

/* v2: legacy removed; note and count added with defaults; score promoted to double. */
static const char *RISK_V2 = J({"type": "record", "name": "Risk", "namespace": "t", "fields": [
    {"name": "id", "type": "string"},
    {"name": "note", "type": "string", "default": "none"},
    {"name": "severity", "type": {"type": "enum", "name": "Severity", "symbols": ["LOW", "MEDIUM", "HIGH", "CRITICAL"]}},
    {"name": "probability", "type": "int"},
    {"name": "owner", "type": ["null", "string"], "default": null},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "score", "type": "double"},
    {"name": "blob", "type": "bytes"},
    {"name": "count", "type": "int", "default": 3}]});

static const char *RISK_VALUE = J({"id": "r-1", "severity": "HIGH", "probability": 70, "owner": {"string": "ana"},
    "tags": ["a", "bb", "ccc"], "attrs": {"x": 1, "y": -123456789012}, "score": 0.25, "blob": "\u0000\u00ff",
    "legacy": "old"});

static bl_avro_schema *schema(const char *text)
{
    bl_err err = {0};
    bl_avro_schema *s = bl_avro_schema_parse(text, strlen(text), &err);
    if (!s)
        fprintf(stderr, "  schema: %s\n", err.msg);
    return s;
}

/* Encodes RISK_VALUE under RISK_V1 as schema id 7. */
static int encode_risk(uint8_t **msg, size_t *len)
{
    bl_err err = {0};
    bl_avro_schema *s = schema(RISK_V1);
    avro_value_t v;
    int rc = -1;
    if (!s || bl_avro_value_new(s, &v, &err) != 0)
        goto done;
    if (bl_avro_from_json_text(s, RISK_VALUE, strlen(RISK_VALUE), NULL, &v, &err) == 0)
        rc = bl_codec_encode(7, &v, msg, len, &err);
    avro_value_decref(&v);
done:
    if (rc)
        fprintf(stderr, "  encode: %s\n", err.msg);
    bl_avro_schema_free(s);
    return rc;
}

static bl_schema_cache *cache_with_v1(void)
{
    bl_err err = {0};
    bl_schema_cache *c = bl_schema_cache_new(NULL, NULL, &err);
    if (c && bl_schema_cache_put(c, 7, RISK_V1, strlen(RISK_V1), &err) != 0) {
        bl_schema_cache_free(c);
        return NULL;
    }
    return c;
}

static void wire_round_trip_keeps_id_and_value(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    CHECK_EQ_INT(msg[0], 0);
    CHECK(msg[1] == 0 && msg[2] == 0 && msg[3] == 0 && msg[4] == 7);
    bl_schema_cache *c = cache_with_v1();
    bl_err err = {0};
    avro_value_t out;
    const bl_avro_schema *writer = NULL;
    int rc = bl_codec_decode(c, msg, len, &out, &writer, &err);
    CHECK_EQ_STR(err.msg, "");
    if (rc == 0) {
        json_t *got = bl_avro_to_json(writer, &out, BL_AVRO_JSON_AVRO, &err);
        json_t *want = json_loads(RISK_VALUE, JSON_ALLOW_NUL, NULL);
        CHECK(got && json_equal(got, want));
        uint8_t again[256];
        size_t again_len = 0;
        CHECK(bl_codec_encode_into(7, &out, again, sizeof again, &again_len, &err) == 0);
        CHECK(again_len == len && memcmp(again, msg, len) == 0);
        CHECK(bl_codec_encode_into(7, &out, again, len - 1, &again_len, &err) == -1);
        CHECK(strstr(err.msg, "buffer has") != NULL);
        json_decref(got);
        json_decref(want);
        avro_value_decref(&out);
    }
    bl_schema_cache_free(c);
    free(msg);
}

static void evolved_reader_gets_defaults_and_drops_removed_fields(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    bl_schema_cache *c = cache_with_v1();
    bl_avro_schema *reader = schema(RISK_V2);
    bl_err err = {0};
    avro_value_t out;
    for (int round = 0; round < 2; round++) { /* the second uses the cached resolver */
        int rc = bl_codec_decode_as(c, reader, msg, len, &out, &err);
        CHECK_EQ_STR(err.msg, "");
        if (rc != 0)
            break;
        json_t *got = bl_avro_to_json(reader, &out, BL_AVRO_JSON_PLAIN, &err);
        CHECK_EQ_STR(json_string_value(json_object_get(got, "note")), "none");
        CHECK_EQ_INT(json_integer_value(json_object_get(got, "count")), 3);
        CHECK(json_object_get(got, "legacy") == NULL);
        CHECK_EQ_STR(json_string_value(json_object_get(got, "owner")), "ana");
        CHECK_EQ_STR(json_string_value(json_object_get(got, "severity")), "HIGH");
        CHECK(json_real_value(json_object_get(got, "score")) == 0.25);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(got, "attrs"), "y")), -123456789012);
        json_decref(got);
        avro_value_decref(&out);
    }
    bl_avro_schema_free(reader);
    bl_schema_cache_free(c);
    free(msg);
}

static void reader_without_changes_resolves_directly(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    bl_schema_cache *c = cache_with_v1();
    bl_avro_schema *reader = schema(RISK_V1);
    bl_err err = {0};
    avro_value_t out, plain;
    CHECK(bl_codec_decode_as(c, reader, msg, len, &out, &err) == 0);
    CHECK(bl_codec_decode(c, msg, len, &plain, NULL, &err) == 0);
    CHECK(avro_value_equal_fast(&out, &plain));
    avro_value_decref(&out);
    avro_value_decref(&plain);
    bl_avro_schema_free(reader);
    bl_schema_cache_free(c);
    free(msg);
}

static const char *ENV_W = J({"type": "record", "name": "Env", "namespace": "t", "fields": [
    {"name": "id", "type": "string"},
    {"name": "data", "type": [
        {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]},
        {"type": "record", "name": "B", "fields": [{"name": "y", "type": "string"}]}]}]});
static const char *ENV_R = J({"type": "record", "name": "Env", "namespace": "t", "fields": [
    {"name": "id", "type": "string"},
    {"name": "data", "type": [
        {"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"},
                                                   {"name": "z", "type": ["null", "string"], "default": null},
                                                   {"name": "k", "type": "long", "default": 9}]},
        {"type": "record", "name": "B", "fields": [{"name": "y", "type": "string"}]}]}]});

static void evolved_union_branch_gets_defaults(void)
{
    bl_err err = {0};
    bl_schema_cache *c = bl_schema_cache_new(NULL, NULL, &err);
    REQUIRE(bl_schema_cache_put(c, 3, ENV_W, strlen(ENV_W), &err) == 0);
    const bl_avro_schema *w = bl_schema_cache_get(c, 3, &err);
    bl_avro_schema *r = schema(ENV_R);
    const char *in[] = {J({"id": "e1", "data": {"t.A": {"x": 5}}}), J({"id": "e2", "data": {"t.B": {"y": "why"}}})};
    const char *want[] = {J({"id": "e1", "data": {"x": 5, "z": null, "k": 9}}), J({"id": "e2", "data": {"y": "why"}})};
    for (int i = 0; i < 2; i++) {
        avro_value_t v, out;
        uint8_t *msg = NULL;
        size_t len = 0;
        REQUIRE(bl_avro_value_new(w, &v, &err) == 0);
        CHECK(bl_avro_from_json_text(w, in[i], strlen(in[i]), NULL, &v, &err) == 0);
        CHECK(bl_codec_encode(3, &v, &msg, &len, &err) == 0);
        avro_value_decref(&v);
        int rc = bl_codec_decode_as(c, r, msg, len, &out, &err);
        CHECK_EQ_STR(err.msg, "");
        if (rc == 0) {
            json_t *got = bl_avro_to_json(r, &out, BL_AVRO_JSON_PLAIN, &err);
            json_t *exp = json_loads(want[i], 0, NULL);
            CHECK(json_equal(got, exp));
            json_decref(got);
            json_decref(exp);
            avro_value_decref(&out);
        }
        free(msg);
    }
    bl_avro_schema_free(r);
    bl_schema_cache_free(c);
}

static void incompatible_reader_gets_clear_error(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    bl_schema_cache *c = cache_with_v1();
    const char *no_default = J({"type": "record", "name": "Risk", "namespace": "t", "fields": [
        {"name": "id", "type": "string"}, {"name": "extra", "type": "string"}]});
    const char *wrong_type = J({"type": "record", "name": "Risk", "namespace": "t", "fields": [
        {"name": "id", "type": "int"}]});
    bl_avro_schema *r1 = schema(no_default), *r2 = schema(wrong_type);
    bl_err err = {0};
    avro_value_t out;
    CHECK(bl_codec_decode_as(c, r1, msg, len, &out, &err) == -1);
    CHECK_EQ_STR(err.msg, "codec: schema id 7 cannot be read as Risk: avro: reader field t.Risk.extra is not "
                          "in the writer schema and has no default");
    CHECK(bl_codec_decode_as(c, r2, msg, len, &out, &err) == -1);
    CHECK(strncmp(err.msg, "codec: schema id 7 cannot be read as Risk: avro: ", 49) == 0);
    bl_avro_schema_free(r1);
    bl_avro_schema_free(r2);
    bl_schema_cache_free(c);
    free(msg);
}

static void short_or_foreign_messages_are_rejected_by_header(void)
{
    bl_schema_cache *c = cache_with_v1();
    bl_err err = {0};
    avro_value_t out;
    const uint8_t bytes[] = {0, 0, 0, 0, 7};
    char want[128];
    for (size_t n = 0; n < 5; n++) {
        CHECK(bl_codec_decode(c, n ? bytes : NULL, n, &out, NULL, &err) == -1);
        snprintf(want, sizeof want, "codec: message of %zu bytes is shorter than the 5-byte header", n);
        CHECK_EQ_STR(err.msg, want);
    }
    const uint8_t json_text[] = "{\"id\":1}";
    CHECK(bl_codec_decode(c, json_text, sizeof json_text - 1, &out, NULL, &err) == -1);
    CHECK_EQ_STR(err.msg, "codec: magic byte 0x7b is not 0 (not Confluent wire format)");
    const uint8_t unknown[] = {0, 0, 0, 0, 42, 2, 'a'};
    CHECK(bl_codec_decode(c, unknown, sizeof unknown, &out, NULL, &err) == -1);
    CHECK_EQ_STR(err.msg, "codec: schema id 42 unknown");
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_schema_cache_free(c);
}

static void every_truncation_is_reported_not_crashed(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    bl_schema_cache *c = cache_with_v1();
    bl_avro_schema *reader = schema(RISK_V2);
    const char *prefix = "codec: truncated Avro body for schema id 7: ";
    for (size_t n = 5; n < len; n++) {
        bl_err err = {0};
        avro_value_t out;
        CHECK(bl_codec_decode(c, msg, n, &out, NULL, &err) == -1);
        CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
        CHECK(bl_codec_decode_as(c, reader, msg, n, &out, &err) == -1);
        CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
    }
    bl_avro_schema_free(reader);
    bl_schema_cache_free(c);
    free(msg);
}

static void trailing_bytes_are_rejected(void)
{
    uint8_t *msg = NULL;
    size_t len = 0;
    REQUIRE(encode_risk(&msg, &len) == 0);
    uint8_t *longer = malloc(len + 2);
    memcpy(longer, msg, len);
    longer[len] = 0;
    longer[len + 1] = 0x55;
    bl_schema_cache *c = cache_with_v1();
    bl_err err = {0};
    avro_value_t out;
    CHECK(bl_codec_decode(c, longer, len + 2, &out, NULL, &err) == -1);
    CHECK_EQ_STR(err.msg, "codec: 2 trailing bytes after the Avro body for schema id 7");
    bl_schema_cache_free(c);
    free(longer);
    free(msg);
}

static const char *SMALL = J({"type": "record", "name": "S", "fields": [
    {"name": "s", "type": "string"},
    {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
    {"name": "u", "type": ["null", "int"]},
    {"name": "n", "type": {"type": "array", "items": "null"}}]});

static void decode_small(const uint8_t *body, size_t n, bl_err *err)
{
    uint8_t msg[64] = {0, 0, 0, 0, 1};
    memcpy(msg + 5, body, n);
    bl_schema_cache *c = bl_schema_cache_new(NULL, NULL, err);
    bl_schema_cache_put(c, 1, SMALL, strlen(SMALL), err);
    avro_value_t out;
    if (bl_codec_decode(c, msg, n + 5, &out, NULL, err) == 0)
        avro_value_decref(&out);
    bl_schema_cache_free(c);
}

static void hostile_lengths_and_indexes_get_clear_errors(void)
{
    bl_err err = {0};
    const uint8_t ok[] = {2, 'x', 2, 2, 4, 0};
    decode_small(ok, sizeof ok, &err);
    CHECK_EQ_STR(err.msg, "");
    const uint8_t negative_len[] = {1, 'x'};
    decode_small(negative_len, sizeof negative_len, &err);
    CHECK(strstr(err.msg, "malformed Avro body for schema id 1: negative string length -1") != NULL);
    const uint8_t huge_len[] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    decode_small(huge_len, sizeof huge_len, &err);
    CHECK(strstr(err.msg, "truncated Avro body for schema id 1: string needs") != NULL);
    const uint8_t bad_enum[] = {0, 4, 0, 0};
    decode_small(bad_enum, sizeof bad_enum, &err);
    CHECK(strstr(err.msg, "enum index 2 out of range") != NULL);
    const uint8_t bad_branch[] = {0, 0, 4, 0};
    decode_small(bad_branch, sizeof bad_branch, &err);
    CHECK(strstr(err.msg, "union branch 2 out of range") != NULL);
    const uint8_t billion_nulls[] = {0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    decode_small(billion_nulls, sizeof billion_nulls, &err);
    CHECK(strstr(err.msg, "more than 1048576 array or map items") != NULL);
    const uint8_t long_varint[] = {0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    decode_small(long_varint, sizeof long_varint, &err);
    CHECK(strstr(err.msg, "varint longer than 10 bytes") != NULL);
}

static void random_bodies_never_crash(void)
{
    bl_err err = {0};
    bl_schema_cache *c = cache_with_v1();
    uint32_t seed = 12345;
    int failures = 0;
    for (int round = 0; round < 3000; round++) {
        uint8_t msg[64] = {0, 0, 0, 0, 7};
        size_t n = 5 + round % 59;
        for (size_t i = 5; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            msg[i] = (uint8_t)(seed >> 16);
        }
        avro_value_t out;
        if (bl_codec_decode(c, msg, n, &out, NULL, &err) == 0)
            avro_value_decref(&out);
        else
            failures += strncmp(err.msg, "codec: ", 7) == 0;
    }
    CHECK(failures > 2900);
    bl_schema_cache_free(c);
}

static int fetch_calls;
static char *fetch_v1(void *ctx, int32_t id, bl_err *err)
{
    (void)ctx;
    __atomic_fetch_add(&fetch_calls, 1, __ATOMIC_SEQ_CST);
    if (id != 7) {
        bl_err_set(err, BL_ENOTFOUND, "registry: no schema %d", (int)id);
        return NULL;
    }
    return strdup(RISK_V1);
}

static void *get_schema_7(void *arg)
{
    bl_err err = {0};
    return (void *)bl_schema_cache_get(arg, 7, &err);
}

static void cache_fetches_each_id_once_across_threads(void)
{
    bl_err err = {0};
    bl_schema_cache *c = bl_schema_cache_new(fetch_v1, NULL, &err);
    REQUIRE(c != NULL);
    pthread_t t[4];
    void *got[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, get_schema_7, c);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], &got[i]);
    CHECK(got[0] != NULL && got[0] == got[1] && got[1] == got[2] && got[2] == got[3]);
    CHECK_EQ_INT(fetch_calls, 1);
    CHECK(bl_schema_cache_get(c, 42, &err) == NULL);
    CHECK_EQ_STR(err.msg, "codec: schema id 42 unknown");
    bl_schema_cache_free(c);
}

/* avro-c alone would turn writer "B" (index 1) into reader index 1 = "C". */
static void enum_symbols_resolve_by_name_not_index(void)
{
    const char *w_text = J({"type": "record", "name": "U", "fields": [
        {"name": "v", "type": ["null", "string", "int"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C", "D"]}}]});
    const char *r_text = J({"type": "record", "name": "U", "fields": [
        {"name": "v", "type": ["null", "string"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "B", "C", "A"], "default": "X"}}]});
    const char *strict_text = J({"type": "record", "name": "U", "fields": [
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}}]});
    const char *values[] = {J({"v": null, "e": "A"}), J({"v": null, "e": "B"}), J({"v": {"string": "s"}, "e": "C"}),
                            J({"v": null, "e": "D"}), J({"v": {"int": 5}, "e": "A"})};
    const char *want[] = {"A", "B", "C", "X", NULL};
    bl_err err = {0};
    bl_schema_cache *c = bl_schema_cache_new(NULL, NULL, &err);
    REQUIRE(bl_schema_cache_put(c, 9, w_text, strlen(w_text), &err) == 0);
    const bl_avro_schema *w = bl_schema_cache_get(c, 9, &err);
    bl_avro_schema *r = schema(r_text), *strict = schema(strict_text);
    for (int i = 0; i < 5; i++) {
        avro_value_t v, out;
        uint8_t *msg = NULL;
        size_t len = 0;
        REQUIRE(bl_avro_value_new(w, &v, &err) == 0);
        CHECK(bl_avro_from_json_text(w, values[i], strlen(values[i]), NULL, &v, &err) == 0);
        CHECK(bl_codec_encode(9, &v, &msg, &len, &err) == 0);
        avro_value_decref(&v);
        bl_err_clear(&err);
        int rc = bl_codec_decode_as(c, r, msg, len, &out, &err);
        if (!want[i]) {
            CHECK(rc == -1);
            CHECK(strncmp(err.msg, "codec: cannot read Avro body for schema id 9: ", 46) == 0);
        } else if (rc == 0) {
            json_t *got = bl_avro_to_json(r, &out, BL_AVRO_JSON_PLAIN, &err);
            CHECK_EQ_STR(json_string_value(json_object_get(got, "e")), want[i]);
            json_decref(got);
            avro_value_decref(&out);
        } else {
            CHECK_EQ_STR(err.msg, "");
        }
        if (i == 2) {
            CHECK(bl_codec_decode_as(c, strict, msg, len, &out, &err) == -1);
            CHECK_EQ_STR(err.msg, "codec: schema id 9 as U: $.e: 'C' is not one of A, B");
        }
        free(msg);
    }
    bl_avro_schema_free(r);
    bl_avro_schema_free(strict);
    bl_schema_cache_free(c);
}

int main(void)
{
    BL_RUN(wire_round_trip_keeps_id_and_value);
    BL_RUN(evolved_reader_gets_defaults_and_drops_removed_fields);
    BL_RUN(reader_without_changes_resolves_directly);
    BL_RUN(evolved_union_branch_gets_defaults);
    BL_RUN(incompatible_reader_gets_clear_error);
    BL_RUN(short_or_foreign_messages_are_rejected_by_header);
    BL_RUN(every_truncation_is_reported_not_crashed);
    BL_RUN(trailing_bytes_are_rejected);
    BL_RUN(hostile_lengths_and_indexes_get_clear_errors);
    BL_RUN(random_bodies_never_crash);
    BL_RUN(cache_fetches_each_id_once_across_threads);
    BL_RUN(enum_symbols_resolve_by_name_not_index);
    return bl_test_summary();
}
