/* filter: keep or drop an array's items by condition, or pass or drop the
 * whole input. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

static const char *open_items =
    "{\"id\":\"t-filter\",\"name\":\"open tickets\",\"type\":\"filter\","
    " \"rules\":[{\"operation\":\"keep\",\"source\":\"$.tickets\",\"condition\":\"@.status != 'closed'\"},"
    "            {\"operation\":\"drop\",\"source\":\"$.tickets\",\"condition\":\"@.priority < $.minPriority\"}],"
    " \"testCases\":[{\"name\":\"closed and low go\","
    "   \"input\":{\"minPriority\":2,\"tickets\":[{\"id\":1,\"status\":\"open\",\"priority\":3},"
    "     {\"id\":2,\"status\":\"closed\",\"priority\":5},{\"id\":3,\"status\":\"open\",\"priority\":1}]},"
    "   \"expectedOutput\":{\"minPriority\":2,\"tickets\":[{\"id\":1,\"status\":\"open\",\"priority\":3}]}}]}";

static void filter_keeps_and_drops_items_and_passes_its_test_case(void)
{
    CHECK(bl_tt_tests_pass(open_items));
}

static void filter_of_the_root_array_and_into_another_target(void)
{
    CHECK(bl_tt_applies("{\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"condition\":\"@ > 2\"}]}",
                        "[1,5,2,3]", "[5,3]", NULL));
    CHECK(bl_tt_applies("{\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"source\":\"$.all\","
                        "\"target\":\"$.big\",\"condition\":\"@ >= 10\"}]}",
                        "{\"all\":[1,10,20]}", "{\"all\":[1,10,20],\"big\":[10,20]}", NULL));
}

static void filter_pass_gives_the_input_or_null(void)
{
    const char *rule = "{\"type\":\"filter\",\"outputSchema\":{\"type\":\"object\"},"
                       "\"rules\":[{\"operation\":\"pass\",\"condition\":\"$.severity in ['high','critical']\"}]}";
    CHECK(bl_tt_applies(rule, "{\"severity\":\"high\"}", "{\"severity\":\"high\"}", NULL));
    /* dropped: null, and the output schema does not judge what was dropped */
    CHECK(bl_tt_applies(rule, "{\"severity\":\"low\"}", "null", NULL));
}

static void filter_needs_an_array_and_a_boolean_condition(void)
{
    const char *rule = "{\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"source\":\"$.t\",\"condition\":\"@.n\"}]}";
    CHECK(bl_tt_apply_fails(rule, "{\"t\":{\"n\":1}}", "rules[0] (keep): source $.t gave an object, not an array"));
    CHECK(bl_tt_apply_fails(rule, "{}", "source $.t gave missing, not an array"));
    CHECK(bl_tt_apply_fails(rule, "{\"t\":[{\"n\":true},{\"n\":3}]}",
                            "rules[0] (keep): item 1: condition: condition gave a number, not a boolean"));
    CHECK(bl_tt_compile_fails("{\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"source\":\"$.t\"}]}",
                              "rules[0].condition: keep needs a condition"));
    CHECK(bl_tt_compile_fails("{\"type\":\"filter\",\"rules\":[{\"operation\":\"pass\",\"source\":\"$.t\","
                              "\"condition\":\"true\"}]}",
                              "rules[0].source: pass takes no source"));
    CHECK(bl_tt_compile_fails("{\"type\":\"filter\",\"rules\":[{\"operation\":\"keep\",\"source\":\"$.a[*].b\","
                              "\"condition\":\"true\"}]}",
                              "rules[0].target: keep needs a target when its source is not a plain path from $"));
    CHECK(bl_tt_applies("{\"type\":\"filter\",\"rules\":[{\"operation\":\"drop\",\"source\":\" $.v\","
                        "\"condition\":\"@ == 1\"}]}",
                        "{\"v\":[1,2]}", "{\"v\":[2]}", NULL));
}

int main(void)
{
    BL_RUN(filter_keeps_and_drops_items_and_passes_its_test_case);
    BL_RUN(filter_of_the_root_array_and_into_another_target);
    BL_RUN(filter_pass_gives_the_input_or_null);
    BL_RUN(filter_needs_an_array_and_a_boolean_condition);
    return bl_test_summary();
}
