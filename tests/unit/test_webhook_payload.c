#include "connectors/webhook/workers/payload.h"
#include "tests/support/test.h"

#include <stdlib.h>

static json_t *envelope(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        fprintf(stderr, "  bad test JSON: %s\n", jerr.text);
    return j;
}

/* Builds the body of envelope text; NULL on failure (err filled). */
static char *build(const char *text, bl_err *err)
{
    json_t *env = envelope(text);
    size_t len = 0;
    char *body = bl_webhook_payload_build(env, &len, err);
    if (body && len != strlen(body)) {
        fprintf(stderr, "  FAIL: len %zu != strlen %zu\n", len, strlen(body));
        bl_test_current_failed = 1;
    }
    json_decref(env);
    return body;
}

static void body_has_event_timestamp_organization_and_data_compactly(void)
{
    bl_err err = {0};
    char *body = build("{\"id\":\"0b7c\",\"type\":\"risk.escalated\",\"time\":1795594560123,"
                       "\"source\":\"pmo-cockpit\",\"organization_id\":\"org_1\",\"subject\":\"prj_9\","
                       "\"data\":{\"severity\":\"high\",\"score\":7,\"title\":\"Grüße \\\"quoted\\\"\","
                       "\"owner\":{\"name\":\"Ann\",\"id\":\"u_1\"},\"tags\":[\"a\",\"b\"],\"gone\":null}}",
                       &err);
    REQUIRE(body != NULL);
    CHECK_EQ_STR(body, "{\"event\":\"risk.escalated\",\"timestamp\":\"2026-11-25T08:16:00.123Z\","
                       "\"organization_id\":\"org_1\",\"data\":{\"gone\":null,\"owner\":{\"id\":\"u_1\","
                       "\"name\":\"Ann\"},\"score\":7,\"severity\":\"high\",\"tags\":[\"a\",\"b\"],"
                       "\"title\":\"Grüße \\\"quoted\\\"\"}}");
    free(body);
}

static void same_event_in_any_key_order_gives_the_same_bytes(void)
{
    bl_err err = {0};
    char *a = build("{\"type\":\"t.x\",\"time\":0,\"organization_id\":\"o\",\"data\":{\"b\":1,\"a\":{\"d\":2,\"c\":3}}}", &err);
    char *b = build("{\"data\":{\"a\":{\"c\":3,\"d\":2},\"b\":1},\"organization_id\":\"o\",\"time\":0,\"type\":\"t.x\"}", &err);
    REQUIRE(a && b);
    CHECK_EQ_STR(a, b);
    CHECK_EQ_STR(a, "{\"event\":\"t.x\",\"timestamp\":\"1970-01-01T00:00:00.000Z\",\"organization_id\":\"o\","
                    "\"data\":{\"a\":{\"c\":3,\"d\":2},\"b\":1}}");
    free(a);
    free(b);
    /* The output parses back to what went in. */
    char *c = build("{\"type\":\"t.x\",\"time\":5,\"organization_id\":\"o\",\"data\":{\"r\":0.5,\"n\":-3}}", &err);
    REQUIRE(c != NULL);
    json_error_t jerr;
    json_t *back = json_loads(c, 0, &jerr);
    REQUIRE(back != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(back, "timestamp")), "1970-01-01T00:00:00.005Z");
    CHECK(json_real_value(json_object_get(json_object_get(back, "data"), "r")) == 0.5);
    json_decref(back);
    free(c);
}

static void rfc3339_times_cover_edges(void)
{
    char out[BL_RFC3339_MS_SIZE];
    bl_err err = {0};
    CHECK(bl_rfc3339_from_ms(-1, out, &err) == 0);
    CHECK_EQ_STR(out, "1969-12-31T23:59:59.999Z");
    CHECK(bl_rfc3339_from_ms(951782400000LL, out, &err) == 0);
    CHECK_EQ_STR(out, "2000-02-29T00:00:00.000Z");
    CHECK(bl_rfc3339_from_ms(253402300799999LL, out, &err) == 0);
    CHECK_EQ_STR(out, "9999-12-31T23:59:59.999Z");
    CHECK(bl_rfc3339_from_ms(253402300800000LL, out, &err) == -1);
    CHECK(strstr(err.msg, "outside years") != NULL);
}

static void null_data_is_kept_as_null(void)
{
    bl_err err = {0};
    char *body = build("{\"type\":\"t.x\",\"time\":0,\"organization_id\":\"o\",\"data\":null}", &err);
    REQUIRE(body != NULL);
    CHECK(strstr(body, ",\"data\":null}") != NULL);
    free(body);
}

static void bad_envelopes_name_the_field(void)
{
    const char *cases[][2] = {
        {"{\"time\":0,\"organization_id\":\"o\",\"data\":{}}", "field type"},
        {"{\"type\":\"\",\"time\":0,\"organization_id\":\"o\",\"data\":{}}", "field type"},
        {"{\"type\":\"t\",\"time\":0,\"data\":{}}", "field organization_id"},
        {"{\"type\":\"t\",\"time\":\"2026-01-01\",\"organization_id\":\"o\",\"data\":{}}", "field time"},
        {"{\"type\":\"t\",\"time\":1.5,\"organization_id\":\"o\",\"data\":{}}", "field time"},
        {"{\"type\":\"t\",\"time\":0,\"organization_id\":\"o\",\"data\":[1]}", "field data"},
        {"{\"type\":\"t\",\"time\":0,\"organization_id\":\"o\"}", "field data"},
        {"{\"type\":\"t\",\"time\":-99999999999999999,\"organization_id\":\"o\",\"data\":{}}", "outside years"},
        {"[1]", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bl_err err = {0};
        char *body = build(cases[i][0], &err);
        CHECK(body == NULL);
        if (!strstr(err.msg, cases[i][1])) {
            fprintf(stderr, "  FAIL: \"%s\" not in \"%s\"\n", cases[i][1], err.msg);
            bl_test_current_failed = 1;
        }
        free(body);
    }
    size_t len;
    bl_err err = {0};
    CHECK(bl_webhook_payload_build(NULL, &len, &err) == NULL);
}

static void oversized_bodies_are_refused(void)
{
    json_t *env = envelope("{\"type\":\"t\",\"time\":0,\"organization_id\":\"o\",\"data\":{}}");
    REQUIRE(env != NULL);
    char *big = malloc(BL_WEBHOOK_PAYLOAD_MAX + 1);
    REQUIRE(big != NULL);
    memset(big, 'x', BL_WEBHOOK_PAYLOAD_MAX);
    big[BL_WEBHOOK_PAYLOAD_MAX] = '\0';
    json_object_set_new(json_object_get(env, "data"), "blob", json_string(big));
    size_t len;
    bl_err err = {0};
    char *body = bl_webhook_payload_build(env, &len, &err);
    CHECK(body == NULL);
    CHECK(strstr(err.msg, "exceeds") != NULL);
    free(body);
    free(big);
    json_decref(env);
}

int main(void)
{
    BL_RUN(body_has_event_timestamp_organization_and_data_compactly);
    BL_RUN(same_event_in_any_key_order_gives_the_same_bytes);
    BL_RUN(rfc3339_times_cover_edges);
    BL_RUN(null_data_is_kept_as_null);
    BL_RUN(bad_envelopes_name_the_field);
    BL_RUN(oversized_bodies_are_refused);
    return bl_test_summary();
}
