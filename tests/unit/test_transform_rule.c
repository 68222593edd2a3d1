/* A TransformationRule as a whole: its shape checked when compiled, its
 * schemas checked on apply, failing test cases reported, chains. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

static void rules_of_the_wrong_shape_are_refused_with_the_path(void)
{
    CHECK(bl_tt_compile_fails("[]", "a TransformationRule object is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"reduce\",\"rules\":[]}", "type: one of map, filter, aggregate, validate, custom"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"config\":{},\"rules\":[]}", "rule: unknown key \"config\" (one of id, name"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"id\":7,\"rules\":[]}", "id: a string is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":{}}", "rules: an array of steps is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\","
                              "\"when\":\"x\"}]}",
                              "rules[0]: unknown key \"when\""));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"source\":\"1\",\"target\":\"$.a\"}]}",
                              "rules[0].operation: a string is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\","
                              "\"condition\":\"$.a ==\"}]}",
                              "rules[0].condition: at offset 6: expected a value"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"inputSchema\":{\"type\":\"obj\"},\"rules\":[]}",
                              "inputSchema: /type: unknown type"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"outputSchema\":{\"format\":1},\"rules\":[]}",
                              "outputSchema: /format: must be a string"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\"}],"
                              "\"testCases\":[{\"name\":\"x\",\"input\":{}}]}",
                              "testCases[0]: expectedOutput is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\"}],"
                              "\"testCases\":[{\"input\":{},\"expectedOutput\":{},\"expected\":1}]}",
                              "testCases[0]: unknown key \"expected\""));
}

static const char *typed =
    "{\"id\":\"t1\",\"type\":\"map\","
    " \"inputSchema\":{\"type\":\"object\",\"required\":[\"age\"],\"properties\":{\"age\":{\"type\":\"integer\",\"minimum\":18}}},"
    " \"outputSchema\":{\"type\":\"object\",\"properties\":{\"label\":{\"type\":\"string\",\"maxLength\":8}}},"
    " \"rules\":[{\"operation\":\"set\",\"source\":\"concat('age ', $.age)\",\"target\":\"$.label\"}],"
    " \"testCases\":[{\"name\":\"adult\",\"input\":{\"age\":30},\"expectedOutput\":{\"label\":\"age 30\"}},"
    "               {\"name\":\"wrong on purpose\",\"input\":{\"age\":40},\"expectedOutput\":{\"label\":\"age 41\"}},"
    "               {\"name\":\"too young\",\"input\":{\"age\":3},\"expectedOutput\":{\"label\":\"age 3\"}}]}";

static void input_and_output_schemas_are_checked_on_apply(void)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(typed, &err);
    REQUIRE(t);
    json_t *in = bl_tt_json("{\"age\":17}"), *problems = NULL;
    CHECK(bl_transform_apply_ex(t, in, NULL, &problems, &err) == NULL);
    CHECK_EQ_STR(err.msg, "inputSchema: /age: 17 is less than the minimum 18");
    REQUIRE(json_array_size(problems) == 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(problems, 0), "stage")), "inputSchema");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(problems, 0), "instancePath")), "/age");
    json_decref(problems);
    json_decref(in);
    in = bl_tt_json("{\"age\":123456789}");
    CHECK(bl_transform_apply_ex(t, in, NULL, &problems, &err) == NULL);
    CHECK_EQ_STR(err.msg, "outputSchema: /label: 13 characters, more than the maximum 8");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(problems, 0), "stage")), "outputSchema");
    json_decref(problems);
    json_decref(in);
    bl_transform_free(t);
}

static void failing_test_cases_are_reported_with_what_was_expected_and_got(void)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(typed, &err);
    REQUIRE(t);
    json_t *failures = NULL;
    CHECK_EQ_INT(bl_transform_run_tests(t, &failures), 2);
    REQUIRE(json_array_size(failures) == 2);
    json_t *wrong = json_array_get(failures, 0), *young = json_array_get(failures, 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(wrong, "index")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(wrong, "name")), "wrong on purpose");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(wrong, "actual"), "label")), "age 40");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(wrong, "expected"), "label")), "age 41");
    CHECK(json_is_null(json_object_get(wrong, "error")));
    CHECK(json_object_get(json_object_get(wrong, "input"), "age") != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(young, "index")), 2);
    CHECK(json_is_null(json_object_get(young, "actual")));
    CHECK_EQ_STR(json_string_value(json_object_get(young, "error")), "inputSchema: /age: 3 is less than the minimum 18");
    json_decref(failures);
    CHECK_EQ_INT(bl_transform_run_tests(t, NULL), 2);
    bl_transform_free(t);
}

static void a_chain_applies_its_rules_in_order_and_names_the_failing_one(void)
{
    json_t *rules = bl_tt_json(
        "[{\"id\":\"keep\",\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"source\":\"$.items\","
        "  \"condition\":\"@.qty != 0\"}],"
        "  \"testCases\":[{\"input\":{\"items\":[{\"qty\":0}]},\"expectedOutput\":{\"items\":[]}}]},"
        " {\"id\":\"sum\",\"type\":\"aggregate\",\"rules\":[{\"operation\":\"sum\",\"source\":\"$.items[*].qty\","
        "  \"target\":\"$.total\"}],"
        "  \"testCases\":[{\"name\":\"off\",\"input\":{\"items\":[{\"qty\":1}]},\"expectedOutput\":{\"total\":2}}]},"
        " {\"id\":\"shape\",\"type\":\"map\",\"outputSchema\":{\"required\":[\"total\"]},"
        "  \"rules\":[{\"operation\":\"set\",\"source\":\"$.total * 10\",\"target\":\"$.total\"}]}]");
    bl_err err = {0};
    bl_transform_chain *c = bl_transform_chain_compile(rules, &err);
    REQUIRE(c);
    CHECK_EQ_INT(bl_transform_chain_count(c), 3);
    CHECK(bl_transform_chain_find(c, "sum") == bl_transform_chain_at(c, 1));
    CHECK(bl_transform_chain_at(c, 3) == NULL);
    json_t *in = bl_tt_json("{\"items\":[{\"qty\":2},{\"qty\":0},{\"qty\":3}]}");
    json_t *out = bl_transform_chain_apply(c, in, NULL, NULL, &err);
    REQUIRE(out);
    CHECK_EQ_INT(json_integer_value(json_object_get(out, "total")), 50);
    json_decref(out);
    json_decref(in);
    in = bl_tt_json("{\"items\":[{\"qty\":\"x\"}]}");
    json_t *problems = NULL;
    CHECK(bl_transform_chain_apply(c, in, NULL, &problems, &err) == NULL);
    CHECK_EQ_STR(err.msg, "transformations[1] (id sum): rules[0] (sum): item 0 is a string, not a number");
    json_decref(in);
    json_t *failures = NULL;
    CHECK_EQ_INT(bl_transform_chain_run_tests(c, &failures), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(failures, 0), "ruleId")), "sum");
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(failures, 0), "rule")), 1);
    json_decref(failures);
    bl_transform_chain_free(c);
    json_decref(rules);

    rules = bl_tt_json("[{\"id\":\"a\",\"type\":\"validate\"},{\"id\":\"a\",\"type\":\"validate\"}]");
    CHECK(bl_transform_chain_compile(rules, &err) == NULL);
    CHECK_EQ_STR(err.msg, "transformations[1]: id \"a\" is used twice");
    json_decref(rules);
    rules = bl_tt_json("[{\"id\":\"ok\",\"type\":\"validate\"},{\"id\":\"bad\",\"type\":\"map\",\"rules\":[]}]");
    CHECK(bl_transform_chain_compile(rules, &err) == NULL);
    CHECK_EQ_STR(err.msg, "transformations[1] (id bad): rules: a map needs at least one step");
    json_decref(rules);
    bl_transform_chain *none = bl_transform_chain_compile(NULL, &err);
    REQUIRE(none);
    in = bl_tt_json("{\"x\":1}");
    out = bl_transform_chain_apply(none, in, NULL, NULL, &err);
    CHECK(out == in);
    json_decref(out);
    json_decref(in);
    bl_transform_chain_free(none);
}

int main(void)
{
    BL_RUN(rules_of_the_wrong_shape_are_refused_with_the_path);
    BL_RUN(input_and_output_schemas_are_checked_on_apply);
    BL_RUN(failing_test_cases_are_reported_with_what_was_expected_and_got);
    BL_RUN(a_chain_applies_its_rules_in_order_and_names_the_failing_one);
    return bl_test_summary();
}
