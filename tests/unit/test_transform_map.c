/* map: target fields from source expressions, over a new object. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

/* The design document's TransformationRule, as an endpoint would carry it. */
static const char *order_summary =
    "{\"id\":\"t-map\",\"name\":\"order summary\",\"type\":\"map\","
    " \"inputSchema\":{\"type\":\"object\",\"required\":[\"id\",\"items\"]},"
    " \"outputSchema\":{\"type\":\"object\",\"required\":[\"orderId\",\"total\"]},"
    " \"rules\":["
    "  {\"operation\":\"set\",\"source\":\"$.id\",\"target\":\"$.orderId\"},"
    "  {\"operation\":\"set\",\"source\":\"lower($.customer.email)\",\"target\":\"$.customer.email\","
    "   \"condition\":\"exists($.customer.email)\"},"
    "  {\"operation\":\"set\",\"source\":\"$.customer.name\",\"target\":\"$.customer.name\","
    "   \"parameters\":{\"default\":\"anonymous\"}},"
    "  {\"operation\":\"set\",\"source\":\"sum($.items[*].price)\",\"target\":\"$.total\"},"
    "  {\"operation\":\"set\",\"source\":\"$.items[*].sku\",\"target\":\"$.skus\"},"
    "  {\"operation\":\"set\",\"source\":\"true\",\"target\":\"$.vip\",\"condition\":\"'vip' in $.tags\"}],"
    " \"testCases\":[{\"name\":\"a vip order\",\"description\":\"every field\","
    "   \"input\":{\"id\":\"o-1\",\"customer\":{\"name\":\"Ada\",\"email\":\"ADA@X.ORG\"},\"tags\":[\"vip\"],"
    "              \"items\":[{\"sku\":\"a\",\"price\":10},{\"sku\":\"b\",\"price\":2.5}]},"
    "   \"expectedOutput\":{\"orderId\":\"o-1\",\"customer\":{\"email\":\"ada@x.org\",\"name\":\"Ada\"},"
    "                       \"total\":12.5,\"skus\":[\"a\",\"b\"],\"vip\":true}},"
    "  {\"name\":\"no customer\",\"input\":{\"id\":\"o-2\",\"tags\":[],\"items\":[]},"
    "   \"expectedOutput\":{\"orderId\":\"o-2\",\"customer\":{\"name\":\"anonymous\"},\"total\":0,\"skus\":[]}}]}";

static void map_builds_the_target_fields_and_passes_its_test_cases(void)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(order_summary, &err);
    REQUIRE(t);
    CHECK_EQ_STR(bl_transform_id(t), "t-map");
    CHECK_EQ_STR(bl_transform_type(t), "map");
    CHECK_EQ_INT(bl_transform_test_count(t), 2);
    json_t *failures = NULL;
    CHECK_EQ_INT(bl_transform_run_tests(t, &failures), 0);
    CHECK(failures == NULL);
    bl_transform_free(t);
}

static void map_leaves_a_missing_source_unset_and_keeps_null(void)
{
    const char *rule = "{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"$.x\"},"
                       "{\"operation\":\"set\",\"source\":\"$.b\",\"target\":\"$.y\"}]}";
    CHECK(bl_tt_applies(rule, "{\"b\":null}", "{\"y\":null}", NULL));
    CHECK(bl_tt_applies(rule, "{\"a\":[1,{\"k\":2}]}", "{\"x\":[1,{\"k\":2}]}", NULL));
}

static void map_output_is_a_copy_that_later_steps_cannot_reach_into_the_input(void)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.c\",\"target\":\"$.c\"},"
                                    "{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.c.added\"}]}",
                                    &err);
    REQUIRE(t);
    json_t *in = bl_tt_json("{\"c\":{\"k\":0}}");
    json_t *out = bl_transform_apply(t, in, &err);
    REQUIRE(out);
    CHECK(json_object_get(json_object_get(out, "c"), "added") != NULL);
    CHECK(json_object_get(json_object_get(in, "c"), "added") == NULL);
    json_decref(out);
    json_decref(in);
    bl_transform_free(t);
}

static void map_targets_into_arrays_and_refuses_scalars_as_containers(void)
{
    CHECK(bl_tt_applies("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"$.list[0]\"},"
                        "{\"operation\":\"set\",\"source\":\"$.b\",\"target\":\"$.list[1]\"}]}",
                        "{\"a\":1,\"b\":2}", "{\"list\":[1,2]}", NULL));
    CHECK(bl_tt_apply_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\"},"
                            "{\"operation\":\"set\",\"source\":\"2\",\"target\":\"$.a.b\"}]}",
                            "{}", "rules[1] (set): target: $.a is a scalar, so it has no fields"));
    CHECK(bl_tt_apply_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.l[3]\"}]}",
                            "{}", "index out of range"));
}

static void map_steps_are_checked_when_compiled(void)
{
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"target\":\"$.a\"}]}",
                              "rules[0].source: set needs a source expression"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"1\"}]}",
                              "rules[0]: target: a path ($.a.b) is required"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"$.x[*]\"}]}",
                              "rules[0]: target: a wildcard [*] names no single place"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"@.x\"}]}",
                              "rules[0]: target: starts at $, not @"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"copy\",\"source\":\"$.a\",\"target\":\"$.a\"}]}",
                              "rules[0].operation: \"copy\" is not an operation of type map (set)"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a +\",\"target\":\"$.a\"}]}",
                              "rules[0].source: at offset 5: expected a value"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[{\"operation\":\"set\",\"source\":\"$.a\",\"target\":\"$.a\","
                              "\"parameters\":{\"fallback\":1}}]}",
                              "rules[0].parameters: unknown parameter \"fallback\" for set (it takes default"));
    CHECK(bl_tt_compile_fails("{\"type\":\"map\",\"rules\":[]}", "rules: a map needs at least one step"));
}

int main(void)
{
    BL_RUN(map_builds_the_target_fields_and_passes_its_test_cases);
    BL_RUN(map_leaves_a_missing_source_unset_and_keeps_null);
    BL_RUN(map_output_is_a_copy_that_later_steps_cannot_reach_into_the_input);
    BL_RUN(map_targets_into_arrays_and_refuses_scalars_as_containers);
    BL_RUN(map_steps_are_checked_when_compiled);
    return bl_test_summary();
}
