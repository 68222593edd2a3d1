#include "consumers/event_filter.h"
#include "tests/support/test.h"

static json_t *sample_event(void)
{
    json_error_t jerr;
    return json_loads("{\"type\":\"risk.escalated\",\"organization_id\":\"org_1\","
                      "\"data\":{\"severity\":\"high\",\"score\":7,\"ratio\":0.75,\"count_text\":\"12\","
                      "\"title\":\"Supplier delay on site B\",\"tags\":[\"supply\",\"site-b\",3],"
                      "\"owner\":{\"id\":\"u_9\",\"team\":null},\"flag\":true,"
                      "\"due\":\"2026-12-01T00:00:00Z\",\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}]}}",
                      0, &jerr);
}

/* Compiles one condition from JSON text and tells whether it holds. */
static int holds(const char *conditions, const json_t *event)
{
    bl_err err = {0};
    bl_event_filter *f = bl_event_filter_parse(conditions, &err);
    if (!f) {
        fprintf(stderr, "  (compile failed: %s)\n", err.msg);
        return -1;
    }
    int r = bl_event_filter_matches(f, event) ? 1 : 0;
    bl_event_filter_free(f);
    return r;
}

#define COND(field, op, value) "[{\"field\":\"" field "\",\"operator\":\"" op "\",\"value\":" value "}]"

static void event_type_patterns_match_exact_prefix_and_all(void)
{
    CHECK(bl_event_type_matches("risk.escalated", "risk.escalated"));
    CHECK(!bl_event_type_matches("risk.escalated", "risk.escalated.more"));
    CHECK(!bl_event_type_matches("risk.escalated", "risk.Escalated"));
    CHECK(bl_event_type_matches("risk.*", "risk.escalated"));
    CHECK(bl_event_type_matches("risk.*", "risk.mitigation.added"));
    CHECK(!bl_event_type_matches("risk.*", "risk"));
    CHECK(!bl_event_type_matches("risk.*", "risky.escalated"));
    CHECK(!bl_event_type_matches("risk.*", "issue.created"));
    CHECK(bl_event_type_matches("*", "anything.at.all"));
    CHECK(!bl_event_type_matches(NULL, "risk.escalated"));
}

static void event_type_patterns_are_validated(void)
{
    bl_err err = {0};
    const char *good[] = {"*", "risk.escalated", "risk.*", "field_service.visit-done", "a.b.c.*"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(bl_event_type_pattern_check(good[i], &err) == 0);
    const char *bad[] = {"", "risk.", ".risk", "risk..x", "risk*", "*.escalated", "risk.*.x",
                         "ri sk", "risk.**"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(bl_event_type_pattern_check(bad[i], &err) == -1);
    }
    CHECK(strstr(err.msg, "prefix wildcard") != NULL);
}

static void equals_and_not_equals_compare_numbers_and_strings_sensibly(void)
{
    json_t *e = sample_event();
    CHECK_EQ_INT(holds(COND("data.severity", "equals", "\"high\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.severity", "equals", "\"High\""), e), 0);
    CHECK_EQ_INT(holds(COND("data.score", "equals", "7"), e), 1);
    CHECK_EQ_INT(holds(COND("data.score", "equals", "7.0"), e), 1);
    CHECK_EQ_INT(holds(COND("data.score", "equals", "\"7\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.count_text", "equals", "12"), e), 1);
    CHECK_EQ_INT(holds(COND("data.count_text", "equals", "\"12.0\""), e), 0); /* both strings: exact */
    CHECK_EQ_INT(holds(COND("data.severity", "equals", "0"), e), 0);
    CHECK_EQ_INT(holds(COND("data.flag", "equals", "true"), e), 1);
    CHECK_EQ_INT(holds(COND("data.flag", "equals", "1"), e), 0);
    CHECK_EQ_INT(holds(COND("data.owner.team", "equals", "null"), e), 1);
    CHECK_EQ_INT(holds(COND("data.owner", "equals", "{\"team\":null,\"id\":\"u_9\"}"), e), 1);
    CHECK_EQ_INT(holds(COND("data.items.1.id", "equals", "\"b\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.missing", "equals", "\"x\""), e), 0);
    CHECK_EQ_INT(holds(COND("data.severity", "not_equals", "\"low\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.severity", "not_equals", "\"high\""), e), 0);
    CHECK_EQ_INT(holds(COND("data.missing", "not_equals", "\"x\""), e), 1);
    json_decref(e);
}

static void in_matches_any_element_of_the_array(void)
{
    json_t *e = sample_event();
    CHECK_EQ_INT(holds(COND("data.severity", "in", "[\"high\",\"critical\"]"), e), 1);
    CHECK_EQ_INT(holds(COND("data.severity", "in", "[\"low\",\"medium\"]"), e), 0);
    CHECK_EQ_INT(holds(COND("data.score", "in", "[1,\"7\"]"), e), 1);
    CHECK_EQ_INT(holds(COND("data.score", "in", "[]"), e), 0);
    CHECK_EQ_INT(holds(COND("data.missing", "in", "[null]"), e), 0);
    json_decref(e);
}

static void gt_and_lt_order_numbers_and_strings(void)
{
    json_t *e = sample_event();
    CHECK_EQ_INT(holds(COND("data.score", "gt", "5"), e), 1);
    CHECK_EQ_INT(holds(COND("data.score", "gt", "7"), e), 0);
    CHECK_EQ_INT(holds(COND("data.score", "lt", "7.5"), e), 1);
    CHECK_EQ_INT(holds(COND("data.ratio", "lt", "1"), e), 1);
    CHECK_EQ_INT(holds(COND("data.count_text", "gt", "9"), e), 1); /* numerically, not "12" < "9" */
    CHECK_EQ_INT(holds(COND("data.severity", "gt", "1"), e), 0);   /* a word is not a number */
    CHECK_EQ_INT(holds(COND("data.due", "gt", "\"2026-11-30T23:59:59Z\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.due", "lt", "\"2026-11-30T23:59:59Z\""), e), 0);
    CHECK_EQ_INT(holds(COND("data.score", "lt", "\"9\""), e), 0); /* number field, string value */
    CHECK_EQ_INT(holds(COND("data.missing", "lt", "100"), e), 0);
    json_decref(e);
}

static void contains_is_substring_or_array_membership(void)
{
    json_t *e = sample_event();
    CHECK_EQ_INT(holds(COND("data.title", "contains", "\"delay\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.title", "contains", "\"Delay\""), e), 0);
    CHECK_EQ_INT(holds(COND("data.tags", "contains", "\"site-b\""), e), 1);
    CHECK_EQ_INT(holds(COND("data.tags", "contains", "\"site\""), e), 0); /* elements match whole */
    CHECK_EQ_INT(holds(COND("data.tags", "contains", "3"), e), 1);
    CHECK_EQ_INT(holds(COND("data.score", "contains", "7"), e), 0);
    CHECK_EQ_INT(holds(COND("data.missing", "contains", "\"x\""), e), 0);
    json_decref(e);
}

static void exists_true_and_false(void)
{
    json_t *e = sample_event();
    CHECK_EQ_INT(holds(COND("data.owner.id", "exists", "true"), e), 1);
    CHECK_EQ_INT(holds(COND("data.owner.id", "exists", "false"), e), 0);
    CHECK_EQ_INT(holds(COND("data.owner.team", "exists", "true"), e), 0); /* null counts as absent */
    CHECK_EQ_INT(holds(COND("data.nothing", "exists", "false"), e), 1);
    CHECK_EQ_INT(holds(COND("data.severity.deeper", "exists", "false"), e), 1);
    CHECK_EQ_INT(holds(COND("data.items.5", "exists", "false"), e), 1);
    json_decref(e);
}

static void all_conditions_must_hold(void)
{
    json_t *e = sample_event();
    const char *both = "[{\"field\":\"data.severity\",\"operator\":\"equals\",\"value\":\"high\"},"
                       "{\"field\":\"data.score\",\"operator\":\"gt\",\"value\":5}]";
    const char *one = "[{\"field\":\"data.severity\",\"operator\":\"equals\",\"value\":\"high\"},"
                      "{\"field\":\"data.score\",\"operator\":\"gt\",\"value\":8}]";
    CHECK_EQ_INT(holds(both, e), 1);
    CHECK_EQ_INT(holds(one, e), 0);
    CHECK_EQ_INT(holds("[]", e), 1);
    bl_err err = {0};
    bl_event_filter *none = bl_event_filter_new(NULL, &err);
    REQUIRE(none != NULL);
    CHECK(bl_event_filter_matches(none, e));
    bl_event_filter_free(none);
    json_decref(e);
}

/* Expects compiling conditions to fail with a message containing want. */
static void expect_invalid(const char *conditions, const char *want)
{
    bl_err err = {0};
    bl_event_filter *f = bl_event_filter_parse(conditions, &err);
    CHECK(f == NULL);
    if (!strstr(err.msg, want)) {
        fprintf(stderr, "  FAIL: \"%s\" not in \"%s\"\n", want, err.msg);
        bl_test_current_failed = 1;
    }
    bl_event_filter_free(f);
}

static void invalid_conditions_name_the_condition_and_the_problem(void)
{
    const char *ok = "{\"field\":\"data.a\",\"operator\":\"exists\",\"value\":true}";
    char buf[512];
    snprintf(buf, sizeof buf, "[%s,%s,{\"field\":\"data.a\",\"operator\":\"like\",\"value\":\"x\"}]", ok, ok);
    expect_invalid(buf, "condition 2: unknown operator \"like\"");
    snprintf(buf, sizeof buf, "[%s,{\"field\":\"data.a\",\"operator\":\"equals\"}]", ok);
    expect_invalid(buf, "condition 1: missing value");
    expect_invalid(COND("data..severity", "equals", "1"), "condition 0: field must be a dot path");
    expect_invalid(COND("", "equals", "1"), "condition 0: field must be a dot path");
    expect_invalid(COND("data.sev erity", "equals", "1"), "condition 0: field must be a dot path");
    expect_invalid(COND("data.", "equals", "1"), "condition 0: field must be a dot path");
    expect_invalid("[{\"operator\":\"equals\",\"value\":1}]", "condition 0: missing field");
    expect_invalid("[{\"field\":\"data.a\",\"value\":1}]", "condition 0: missing operator");
    expect_invalid(COND("data.a", "in", "\"high\""), "condition 0: operator in needs an array");
    expect_invalid(COND("data.a", "gt", "[1]"), "condition 0: operator gt needs a number or a string");
    expect_invalid(COND("data.a", "lt", "null"), "condition 0: operator lt needs");
    expect_invalid(COND("data.a", "exists", "\"yes\""), "condition 0: operator exists needs true or false");
    expect_invalid(COND("data.a", "contains", "{}"), "condition 0: operator contains needs");
    expect_invalid("[{\"field\":\"data.a\",\"operator\":\"equals\",\"value\":1,\"operater\":\"x\"}]",
                   "condition 0: unknown key \"operater\"");
    expect_invalid("[1]", "condition 0: not an object");
    expect_invalid("{\"field\":\"data.a\"}", "conditions: not a JSON array");
    expect_invalid("[{\"field\":", "conditions: invalid JSON at line 1");
    expect_invalid(COND("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", "exists", "true"), "deeper than 16");
    char many[4096] = "[";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s%s", i ? "," : "", ok);
    strcat(many, "]");
    expect_invalid(many, "conditions: 33 given, at most 32");
}

int main(void)
{
    BL_RUN(event_type_patterns_match_exact_prefix_and_all);
    BL_RUN(event_type_patterns_are_validated);
    BL_RUN(equals_and_not_equals_compare_numbers_and_strings_sensibly);
    BL_RUN(in_matches_any_element_of_the_array);
    BL_RUN(gt_and_lt_order_numbers_and_strings);
    BL_RUN(contains_is_substring_or_array_membership);
    BL_RUN(exists_true_and_false);
    BL_RUN(all_conditions_must_hold);
    BL_RUN(invalid_conditions_name_the_condition_and_the_problem);
    return bl_test_summary();
}
