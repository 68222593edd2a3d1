#include "core/time_format.h"
#include "schemas/avro_json.h"
#include "tests/support/test.h"

#include <math.h>

#define J(...) #__VA_ARGS__

static const char *ENV = J({"type": "record", "name": "Env", "namespace": "t", "fields": [
    {"name": "id", "type": "string"},
    {"name": "time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "data", "type": {"type": "record", "name": "Data", "fields": [
        {"name": "severity", "type": {"type": "enum", "name": "Severity",
                                      "symbols": ["LOW", "MEDIUM", "HIGH", "CRITICAL"], "default": "LOW"}, "default": "MEDIUM"},
        {"name": "probability", "type": "int"},
        {"name": "owner", "type": ["null", "string"], "default": null},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "blob", "type": "bytes", "default": "\u00ff"},
        {"name": "due", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
        {"name": "score", "type": "double", "default": 0.5},
        {"name": "limits", "type": {"type": "map", "values": "int"}, "default": {}}]}},
    {"name": "parent", "type": ["null", "Data"], "default": null},
    {"name": "note", "type": "string", "default": "none"}]});

static const char *CMD = J({"type": "record", "name": "Cmd", "namespace": "t", "fields": [
    {"name": "data", "type": [
        {"type": "record", "name": "Create", "fields": [{"name": "title", "type": "string"},
                                                        {"name": "due", "type": ["null", "long"], "default": null}]},
        {"type": "record", "name": "Close", "fields": [{"name": "risk_id", "type": "string"},
                                                       {"name": "reason", "type": "string", "default": ""}]},
        {"type": "record", "name": "Reopen", "fields": [{"name": "risk_id", "type": "string"}]},
        {"type": "record", "name": "Rename", "fields": [{"name": "risk_id", "type": "string"},
                                                        {"name": "title", "type": "string"}]}]}]});

static bl_avro_schema *schema(const char *text)
{
    bl_err err = {0};
    bl_avro_schema *s = bl_avro_schema_parse(text, strlen(text), &err);
    if (!s)
        fprintf(stderr, "  schema: %s\n", err.msg);
    return s;
}

/* Parses text into a value of s (mode, hint), then writes it back in out_mode.
 * Returns the JSON (caller decrefs) or NULL with err filled. */
static json_t *through(const char *schema_text, const char *text, bl_avro_json_mode mode, const char *hint,
                       bl_avro_json_mode out_mode, bl_err *err)
{
    bl_avro_schema *s = schema(schema_text);
    json_t *out = NULL;
    avro_value_t v;
    if (!s || bl_avro_value_new(s, &v, err) != 0)
        goto done;
    bl_avro_json_opts opts = {.mode = mode, .union_hint = hint};
    if (bl_avro_from_json_text(s, text, strlen(text), &opts, &v, err) == 0)
        out = bl_avro_to_json(s, &v, out_mode, err);
    avro_value_decref(&v);
done:
    bl_avro_schema_free(s);
    return out;
}

/* The error text when text does not fit ENV in mode. */
static const char *env_error(const char *text, bl_avro_json_mode mode)
{
    static bl_err err;
    memset(&err, 0, sizeof err);
    json_t *out = through(ENV, text, mode, NULL, mode, &err);
    json_decref(out);
    return out ? "(accepted)" : err.msg;
}

static int same_json(json_t *got, const char *want)
{
    json_t *w = json_loads(want, JSON_ALLOW_NUL, NULL);
    int eq = got && w && json_equal(got, w);
    if (!eq) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "  got  %s\n  want %s\n", g ? g : "(null)", want);
        free(g);
    }
    json_decref(w);
    return eq;
}

static const char *FULL_AVRO = J({"id": "e-1", "time": 1764058133123,
    "data": {"severity": "HIGH", "probability": 70, "owner": {"string": "ana"}, "tags": ["a", "b"],
             "blob": "\u0000\u00e9\u00ff", "due": {"long": -1}, "score": 1.5, "limits": {"x": 1}},
    "parent": {"t.Data": {"severity": "LOW", "probability": 1, "owner": null, "tags": [], "blob": "",
                          "due": null, "score": 0.0, "limits": {}}},
    "note": "n"});

static const char *FULL_PLAIN = J({"id": "e-1", "time": "2025-11-25T08:08:53.123Z",
    "data": {"severity": "HIGH", "probability": 70, "owner": "ana", "tags": ["a", "b"],
             "blob": "\u0000\u00e9\u00ff", "due": "1969-12-31T23:59:59.999Z", "score": 1.5, "limits": {"x": 1}},
    "parent": {"severity": "LOW", "probability": 1, "owner": null, "tags": [], "blob": "",
               "due": null, "score": 0.0, "limits": {}},
    "note": "n"});

static void avro_json_round_trips_exactly(void)
{
    bl_err err = {0};
    json_t *out = through(ENV, FULL_AVRO, BL_AVRO_JSON_AVRO, NULL, BL_AVRO_JSON_AVRO, &err);
    CHECK_EQ_STR(err.msg, "");
    CHECK(same_json(out, FULL_AVRO));
    json_decref(out);
}

static void plain_json_round_trips_and_matches_avro_json(void)
{
    bl_err err = {0};
    json_t *out = through(ENV, FULL_PLAIN, BL_AVRO_JSON_PLAIN, NULL, BL_AVRO_JSON_PLAIN, &err);
    CHECK_EQ_STR(err.msg, "");
    CHECK(same_json(out, FULL_PLAIN));
    json_decref(out);
    out = through(ENV, FULL_PLAIN, BL_AVRO_JSON_PLAIN, NULL, BL_AVRO_JSON_AVRO, &err);
    CHECK(same_json(out, FULL_AVRO));
    json_decref(out);
    out = through(ENV, FULL_AVRO, BL_AVRO_JSON_AVRO, NULL, BL_AVRO_JSON_PLAIN, &err);
    CHECK(same_json(out, FULL_PLAIN));
    json_decref(out);
}

static void defaults_fill_absent_fields_and_required_ones_are_named(void)
{
    bl_err err = {0};
    json_t *out = through(ENV, J({"id": "e", "time": 0, "data": {"probability": 5}}), BL_AVRO_JSON_PLAIN, NULL,
                          BL_AVRO_JSON_PLAIN, &err);
    CHECK_EQ_STR(err.msg, "");
    CHECK(same_json(out, J({"id": "e", "time": "1970-01-01T00:00:00.000Z",
        "data": {"severity": "MEDIUM", "probability": 5, "owner": null, "tags": [], "blob": "\u00ff", "due": null,
                 "score": 0.5, "limits": {}},
        "parent": null, "note": "none"})));
    json_decref(out);
    CHECK_EQ_STR(env_error(J({"time": 0, "data": {"probability": 5}}), BL_AVRO_JSON_PLAIN),
                 "$.id: required field missing");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {}}), BL_AVRO_JSON_PLAIN),
                 "$.data.probability: required field missing");
}

static void wrong_values_name_their_json_path(void)
{
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 5, "severity": "SEVERE"}}),
                           BL_AVRO_JSON_PLAIN),
                 "$.data.severity: 'SEVERE' is not one of LOW, MEDIUM, HIGH, CRITICAL");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": "high"}}), BL_AVRO_JSON_PLAIN),
                 "$.data.probability: expected int, got string");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 3000000000}}), BL_AVRO_JSON_PLAIN),
                 "$.data.probability: 3000000000 is out of range for int");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": -2147483649}}), BL_AVRO_JSON_PLAIN),
                 "$.data.probability: -2147483649 is out of range for int");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1.5}}), BL_AVRO_JSON_PLAIN),
                 "$.data.probability: expected int, got number");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "tags": ["a", 2]}}),
                           BL_AVRO_JSON_PLAIN),
                 "$.data.tags[1]: expected string, got number");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "limits": {"k": "v"}}}),
                           BL_AVRO_JSON_PLAIN),
                 "$.data.limits.k: expected int, got string");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "bogus": 1}}), BL_AVRO_JSON_PLAIN),
                 "$.data.bogus: unknown field (record t.Data has no such field)");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "blob": "\u20ac"}}),
                           BL_AVRO_JSON_PLAIN),
                 "$.data.blob: bytes must be a string of code points U+0000..U+00FF");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "owner": {"int": 1}}}),
                           BL_AVRO_JSON_AVRO),
                 "$.data.owner: 'int' is not a branch of the union (null, string)");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1, "owner": "ana"}}), BL_AVRO_JSON_AVRO),
                 "$.data.owner: expected null or {\"<branch>\": value} for a union of null, string, got string");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": "2025-11-25T08:08:53Z", "data": {"probability": 1}}),
                           BL_AVRO_JSON_AVRO),
                 "$.time: expected long, got string");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": "yesterday", "data": {"probability": 1}}), BL_AVRO_JSON_PLAIN),
                 "$.time: 'yesterday' is not an RFC 3339 timestamp or date");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": "2025-02-30", "data": {"probability": 1}}), BL_AVRO_JSON_PLAIN),
                 "$.time: '2025-02-30' is not an RFC 3339 timestamp or date");
    CHECK_EQ_STR(env_error(J([1, 2]), BL_AVRO_JSON_PLAIN), "$: expected object, got array");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": null}), BL_AVRO_JSON_PLAIN),
                 "$.data: expected object, got null");
    CHECK_EQ_STR(env_error(J({"id": "e", "time": 0, "data": {"probability": 1}, "parent": {"probability": true}}),
                           BL_AVRO_JSON_PLAIN),
                 "$.parent.probability: expected int, got boolean");
}

static void garbage_json_text_is_rejected(void)
{
    const char *bad[] = {"", "{", "{\"id\": }", "nul", "{\"id\":\"e\"} trailing"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(strncmp(env_error(bad[i], BL_AVRO_JSON_PLAIN), "json: ", 6) == 0);
}

static void timestamps_are_rfc3339_in_and_out(void)
{
    int64_t ms = 0;
    CHECK(bl_rfc3339_parse_millis("2025-11-25T08:08:53.123Z", &ms) == 0);
    CHECK_EQ_INT(ms, 1764058133123);
    CHECK(bl_rfc3339_parse_millis("2025-11-25T09:38:53.123456+01:30", &ms) == 0);
    CHECK_EQ_INT(ms, 1764058133123);
    CHECK(bl_rfc3339_parse_millis("2024-02-29t00:00:00z", &ms) == 0);
    CHECK_EQ_INT(ms, 1709164800000);
    CHECK(bl_rfc3339_parse_millis("1969-12-31T23:59:59.9-00:00", &ms) == 0);
    CHECK_EQ_INT(ms, -100);
    const char *bad[] = {"2025-11-25", "2025-11-25T08:08:53", "2025-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
                         "2025-11-25T24:00:00Z", "2025-11-25T08:08:53.Z", "2025-11-25T08:08:53Zjunk", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(bl_rfc3339_parse_millis(bad[i], &ms) == -1);
    char out[40];
    bl_rfc3339_format_millis(0, out, sizeof out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000Z");
    bl_rfc3339_format_millis(-1, out, sizeof out);
    CHECK_EQ_STR(out, "1969-12-31T23:59:59.999Z");
    bl_rfc3339_format_millis(1709164800000, out, sizeof out);
    CHECK_EQ_STR(out, "2024-02-29T00:00:00.000Z");

    bl_err err = {0};
    json_t *j = through(ENV, J({"id": "e", "time": 1764058133123, "data": {"probability": 1, "due": 5}}),
                        BL_AVRO_JSON_PLAIN, NULL, BL_AVRO_JSON_PLAIN, &err);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "time")), "2025-11-25T08:08:53.123Z");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "data"), "due")), "1970-01-01T00:00:00.005Z");
    json_decref(j);
}

/* The Powalyze document writes dates as full-dates ("start_date":
 * "2026-03-01"): plain input reads one as its midnight UTC. */
static void plain_full_dates_are_read_as_midnight_utc(void)
{
    bl_err err = {0};
    json_t *j = through(ENV, J({"id": "e", "time": "2026-03-01", "data": {"probability": 1}}), BL_AVRO_JSON_PLAIN,
                        NULL, BL_AVRO_JSON_PLAIN, &err);
    REQUIRE(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "time")), "2026-03-01T00:00:00.000Z");
    json_decref(j);
}

static const char *pick(const char *text, const char *hint, bl_err *err)
{
    static char name[64];
    json_t *out = through(CMD, text, BL_AVRO_JSON_PLAIN, hint, BL_AVRO_JSON_AVRO, err);
    const char *key = json_object_iter_key(json_object_iter(json_object_get(out, "data")));
    snprintf(name, sizeof name, "%s", key ? key : "(none)");
    json_decref(out);
    return name;
}

static void plain_unions_of_records_pick_by_fields_or_hint(void)
{
    bl_err err = {0};
    CHECK_EQ_STR(pick(J({"data": {"title": "t"}}), NULL, &err), "t.Create");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r", "reason": "done"}}), NULL, &err), "t.Close");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r", "title": "t"}}), NULL, &err), "t.Rename");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r"}}), NULL, &err), "(none)");
    CHECK_EQ_STR(err.msg, "$.data: object fits several branches of the union (t.Create, t.Close, t.Reopen, "
                          "t.Rename); give a type hint");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r"}}), "Reopen", &err), "t.Reopen");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r"}}), "t.Close", &err), "t.Close");
    CHECK_EQ_STR(pick(J({"data": {"t.Reopen": {"risk_id": "r"}}}), NULL, &err), "t.Reopen");
    CHECK_EQ_STR(pick(J({"data": {"nothing": 1}}), NULL, &err), "(none)");
    CHECK_EQ_STR(err.msg, "$.data: object does not fit any branch of the union (t.Create, t.Close, t.Reopen, "
                          "t.Rename)");
    CHECK_EQ_STR(pick(J({"data": {"risk_id": "r"}}), "Rename", &err), "(none)");
    CHECK_EQ_STR(err.msg, "$.data.title: required field missing");
}

static void non_finite_doubles_and_bad_utf8_do_not_break_json(void)
{
    bl_err err = {0};
    json_t *out = through(ENV, J({"id": "e", "time": 0, "data": {"probability": 1, "score": "NaN"}}),
                          BL_AVRO_JSON_PLAIN, NULL, BL_AVRO_JSON_PLAIN, &err);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(out, "data"), "score")), "NaN");
    json_decref(out);

    bl_avro_schema *s = schema(J({"type": "record", "name": "R", "fields": [{"name": "s", "type": "string"}]}));
    REQUIRE(s != NULL);
    avro_value_t v, f;
    REQUIRE(bl_avro_value_new(s, &v, &err) == 0);
    avro_value_get_by_index(&v, 0, &f, NULL);
    avro_value_set_string(&f, "bad \xff utf8");
    out = bl_avro_to_json(s, &v, BL_AVRO_JSON_AVRO, &err);
    CHECK(out == NULL);
    CHECK_EQ_STR(err.msg, "$.s: string is not valid UTF-8");
    avro_value_decref(&v);
    bl_avro_schema_free(s);
}

static void unknown_fields_and_symbols_follow_options(void)
{
    bl_err err = {0};
    bl_avro_schema *s = schema(ENV);
    REQUIRE(s != NULL);
    const char *text = J({"id": "e", "time": 0, "extra": 1, "data": {"probability": 1, "severity": "SEVERE"}});
    avro_value_t v;
    REQUIRE(bl_avro_value_new(s, &v, &err) == 0);
    bl_avro_json_opts lenient = {.mode = BL_AVRO_JSON_PLAIN, .ignore_unknown_fields = 1, .use_enum_defaults = 1};
    CHECK(bl_avro_from_json_text(s, text, strlen(text), &lenient, &v, &err) == 0);
    json_t *out = bl_avro_to_json(s, &v, BL_AVRO_JSON_PLAIN, &err);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(out, "data"), "severity")), "LOW");
    CHECK(json_object_get(out, "extra") == NULL);
    json_decref(out);
    avro_value_decref(&v);
    REQUIRE(bl_avro_value_new(s, &v, &err) == 0);
    bl_avro_json_opts strict = {.mode = BL_AVRO_JSON_PLAIN};
    CHECK(bl_avro_from_json_text(s, text, strlen(text), &strict, &v, &err) == -1);
    CHECK_EQ_STR(err.msg, "$.data.severity: 'SEVERE' is not one of LOW, MEDIUM, HIGH, CRITICAL");
    avro_value_decref(&v);
    bl_avro_schema_free(s);
}

static void bad_schemas_are_rejected(void)
{
    bl_err err = {0};
    CHECK(bl_avro_schema_parse("{", 1, &err) == NULL);
    CHECK(strncmp(err.msg, "avro: schema is not JSON: ", 26) == 0);
    const char *unknown = J({"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]});
    CHECK(bl_avro_schema_parse(unknown, strlen(unknown), &err) == NULL);
    CHECK(strncmp(err.msg, "avro: bad schema: ", 18) == 0);
}

int main(void)
{
    BL_RUN(avro_json_round_trips_exactly);
    BL_RUN(plain_json_round_trips_and_matches_avro_json);
    BL_RUN(defaults_fill_absent_fields_and_required_ones_are_named);
    BL_RUN(wrong_values_name_their_json_path);
    BL_RUN(garbage_json_text_is_rejected);
    BL_RUN(timestamps_are_rfc3339_in_and_out);
    BL_RUN(plain_full_dates_are_read_as_midnight_utc);
    BL_RUN(plain_unions_of_records_pick_by_fields_or_hint);
    BL_RUN(non_finite_doubles_and_bad_utf8_do_not_break_json);
    BL_RUN(unknown_fields_and_symbols_follow_options);
    BL_RUN(bad_schemas_are_rejected);
    return bl_test_summary();
}
