#include "core/crypto.h"
#include "schemas/canonical.h"
#include "tests/support/test.h"

#include <stdint.h>

/* Input, expected canonical form and, when the spec's test data gives one,
 * the Rabin fingerprint as the signed 64-bit number Java prints (0 = none).
 * Vectors from the Avro project's share/test/data/schema-tests.txt. */
static const struct {
    const char *input;
    const char *canonical;
    int64_t fingerprint;
} SPEC_CASES[] = {
    {"\"null\"", "\"null\"", 7195948357588979594LL},
    {"{\"type\":\"null\"}", "\"null\"", 0},
    {"\"boolean\"", "\"boolean\"", -6970731678124411036LL},
    {"{\"type\":\"int\"}", "\"int\"", 0},
    {"\"int\"", "\"int\"", 8247732601305521295LL},
    {"\"long\"", "\"long\"", -3434872931120570953LL},
    {"\"float\"", "\"float\"", 5583340709985441680LL},
    {"\"double\"", "\"double\"", -8181574048448539266LL},
    {"\"bytes\"", "\"bytes\"", 5746618253357095269LL},
    {"\"string\"", "\"string\"", -8142146995180207161LL},
    {"[  ]", "[]", -1241056759729112623LL},
    {"[ \"int\"  ]", "[\"int\"]", -5232228896498058493LL},
    {"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 5392556393470105090LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 5916914534497305771LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", -4616218487480524110LL},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", -4824392279771201922LL},
    {"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}",
     7843277075252814651LL},
    {"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":\"true\"},\n"
     "            {\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
     "  \"type\":\"record\", \"name\":\"foo\"\n}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},"
     "{\"name\":\"f2\",\"type\":\"int\"}]}",
     -4860222112080293046LL},
    {"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}",
     "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}", -6342190197741309591LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", \"symbols\":[\"A1\", \"A2\"]}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", -4448647247586288245LL},
    {"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}",
     1756455273707447556LL},
    {"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", \"size\":32}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", -3064184465700546786LL},
    {"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}", "{\"type\":\"array\",\"items\":\"null\"}",
     -589620603366471059LL},
    {"{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}",
     -8732877298790414990LL},
    {"  {\"name\":\"PigValue\",\"type\":\"record\",\n"
     "   \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
     "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":[\"null\",\"int\",\"long\","
     "\"PigValue\"]}]}",
     -1759257747318642341LL},
};

static void spec_examples_have_their_canonical_form_and_fingerprint(void)
{
    for (size_t i = 0; i < sizeof SPEC_CASES / sizeof SPEC_CASES[0]; i++) {
        bl_err err = {0};
        char *canon = bl_canonical_form(SPEC_CASES[i].input, &err);
        if (!canon) {
            fprintf(stderr, "  case %zu: %s\n", i, err.msg);
            CHECK(canon != NULL);
            continue;
        }
        CHECK_EQ_STR(canon, SPEC_CASES[i].canonical);
        if (SPEC_CASES[i].fingerprint)
            CHECK_EQ_INT((int64_t)bl_canonical_rabin64(canon, strlen(canon)), SPEC_CASES[i].fingerprint);
        free(canon);
    }
}

static const char *RISK_COMPACT =
    "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"busline.events.pmo\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"severity\",\"type\":{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[\"LOW\",\"HIGH\"],\"default\":\"LOW\"}},"
    "{\"name\":\"previous\",\"type\":[\"null\",\"Severity\"],\"default\":null},"
    "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";

/* Same schema: other attribute order, whitespace, docs, aliases, defaults, a
 * fullname where the short name would do, an escaped character. */
static const char *RISK_DECORATED =
    "{\n  \"doc\": \"A risk\",\n  \"fields\": [\n"
    "    {\"type\": \"string\", \"name\": \"id\", \"doc\": \"Risk id\"},\n"
    "    {\"name\": \"severity\", \"aliases\": [\"level\"], \"type\": {\"symbols\": [\"LOW\", \"HIGH\"],\n"
    "      \"name\": \"busline.events.pmo.Severity\", \"type\": \"enum\", \"doc\": \"how bad\", \"default\": \"LOW\"}},\n"
    "    {\"default\": null, \"name\": \"previous\", \"type\": [\"null\", \"busline.events.pmo.Severity\"]},\n"
    "    {\"name\": \"\\u0061t\", \"type\": {\"logicalType\": \"timestamp-millis\", \"type\": \"long\"}}\n"
    "  ],\n  \"name\": \"Risk\", \"aliases\": [\"OldRisk\"], \"type\": \"record\", \"namespace\": \"busline.events.pmo\"\n}";

static const char *RISK_CANONICAL =
    "{\"name\":\"busline.events.pmo.Risk\",\"type\":\"record\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"string\"},"
    "{\"name\":\"severity\",\"type\":{\"name\":\"busline.events.pmo.Severity\",\"type\":\"enum\",\"symbols\":[\"LOW\",\"HIGH\"]}},"
    "{\"name\":\"previous\",\"type\":[\"null\",\"busline.events.pmo.Severity\"]},"
    "{\"name\":\"at\",\"type\":\"long\"}]}";

static void whitespace_doc_and_order_differences_give_the_same_form(void)
{
    bl_err err = {0};
    char *a = bl_canonical_form(RISK_COMPACT, &err);
    char *b = bl_canonical_form(RISK_DECORATED, &err);
    REQUIRE(a && b);
    CHECK_EQ_STR(a, RISK_CANONICAL);
    CHECK_EQ_STR(b, RISK_CANONICAL);
    char ha[BL_SHA256_HEX_SIZE], hb[BL_SHA256_HEX_SIZE];
    CHECK(bl_sha256_hex(a, strlen(a), ha, &err) == 0);
    CHECK(bl_sha256_hex(b, strlen(b), hb, &err) == 0);
    CHECK_EQ_STR(ha, hb);
    free(a);
    free(b);
}

static void nested_types_inherit_the_enclosing_namespace(void)
{
    const char *schema =
        "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"a.b\",\"fields\":["
        "{\"name\":\"data\",\"type\":[{\"type\":\"record\",\"name\":\"Inner\",\"fields\":["
        "{\"name\":\"h\",\"type\":{\"type\":\"fixed\",\"name\":\"Hash\",\"namespace\":\"c\",\"size\":4}},"
        "{\"name\":\"h2\",\"type\":\"c.Hash\"},"
        "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"Inner\"}}}]}]}]}";
    bl_err err = {0};
    char *canon = bl_canonical_form(schema, &err);
    REQUIRE(canon != NULL);
    CHECK_EQ_STR(canon,
                 "{\"name\":\"a.b.Envelope\",\"type\":\"record\",\"fields\":[{\"name\":\"data\",\"type\":["
                 "{\"name\":\"a.b.Inner\",\"type\":\"record\",\"fields\":["
                 "{\"name\":\"h\",\"type\":{\"name\":\"c.Hash\",\"type\":\"fixed\",\"size\":4}},"
                 "{\"name\":\"h2\",\"type\":\"c.Hash\"},"
                 "{\"name\":\"tags\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"a.b.Inner\"}}}]}]}]}");
    free(canon);
}

static void invalid_json_is_a_clear_error(void)
{
    bl_err err = {0};
    CHECK(bl_canonical_form("{\"type\": \"record\", ", &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "invalid JSON at line 1") != NULL);
    CHECK(bl_canonical_form(NULL, &err) == NULL);
}

static void invalid_schemas_are_refused_with_the_reason(void)
{
    bl_err err = {0};
    CHECK(bl_canonical_form("\"Missing\"", &err) == NULL);
    CHECK(strstr(err.msg, "unknown type 'Missing'") != NULL);
    CHECK(bl_canonical_form("{\"type\":\"record\",\"name\":\"R\"}", &err) == NULL);
    CHECK(strstr(err.msg, "fields is not an array") != NULL);
    CHECK(bl_canonical_form("{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"x\"}", &err) == NULL);
    CHECK(strstr(err.msg, "size") != NULL);
    CHECK(bl_canonical_form("[\"int\",[\"long\"]]", &err) == NULL);
    CHECK(bl_canonical_form("42", &err) == NULL);
    /* A type used before its definition is not yet known. */
    CHECK(bl_canonical_form("[\"R\",{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}]", &err) == NULL);
    CHECK(strstr(err.msg, "unknown type 'R'") != NULL);
}

static void sha256_matches_a_known_digest(void)
{
    char hex[BL_SHA256_HEX_SIZE];
    bl_err err = {0};
    REQUIRE(bl_sha256_hex("\"int\"", 5, hex, &err) == 0);
    CHECK_EQ_STR(hex, "3f2b87a9fe7cc9b13835598c3981cd45e3e355309e5090aa0933d7becb6fba45");
}

int main(void)
{
    BL_RUN(spec_examples_have_their_canonical_form_and_fingerprint);
    BL_RUN(whitespace_doc_and_order_differences_give_the_same_form);
    BL_RUN(nested_types_inherit_the_enclosing_namespace);
    BL_RUN(invalid_json_is_a_clear_error);
    BL_RUN(invalid_schemas_are_refused_with_the_reason);
    BL_RUN(sha256_matches_a_known_digest);
    return bl_test_summary();
}
