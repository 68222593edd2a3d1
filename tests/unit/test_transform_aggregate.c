/* aggregate: groupBy, count, sum, avg, min, max. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

static const char *orders = "{\"orders\":[{\"region\":\"eu\",\"amount\":10,\"status\":\"paid\"},"
                            "{\"region\":\"us\",\"amount\":5.5,\"status\":\"paid\"},"
                            "{\"region\":\"eu\",\"amount\":20,\"status\":\"open\"},"
                            "{\"region\":\"eu\",\"status\":\"open\"}]}";

static void aggregate_over_the_whole_collection(void)
{
    CHECK(bl_tt_applies("{\"type\":\"aggregate\",\"rules\":["
                        "{\"operation\":\"count\",\"source\":\"$.orders\",\"target\":\"$.orders\"},"
                        "{\"operation\":\"sum\",\"source\":\"$.orders[*].amount\",\"target\":\"$.total\"},"
                        "{\"operation\":\"avg\",\"source\":\"[1, 2, null]\",\"target\":\"$.average\"},"
                        "{\"operation\":\"min\",\"source\":\"$.orders[*].amount\",\"target\":\"$.smallest\"},"
                        "{\"operation\":\"max\",\"source\":\"$.orders[*].region\",\"target\":\"$.lastRegion\"},"
                        "{\"operation\":\"count\",\"source\":\"$.orders\",\"target\":\"$.open\","
                        " \"condition\":\"@.status == 'open'\"}]}",
                        orders, "{\"orders\":4,\"total\":35.5,\"average\":1.5,\"smallest\":5.5,\"lastRegion\":\"us\","
                                "\"open\":2}",
                        NULL));
    CHECK(bl_tt_apply_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"sum\",\"source\":\"$.orders\","
                            "\"target\":\"$.s\"}]}",
                            orders, "rules[0] (sum): item 0 is an object, not a number"));
}

static const char *by_region =
    "{\"id\":\"t-agg\",\"name\":\"revenue by region\",\"type\":\"aggregate\","
    " \"rules\":[{\"operation\":\"groupBy\",\"source\":\"$.orders\",\"target\":\"$.region\","
    "             \"parameters\":{\"key\":\"@.region\"}},"
    "            {\"operation\":\"count\",\"target\":\"$.orders\"},"
    "            {\"operation\":\"count\",\"source\":\"@.amount\",\"target\":\"$.priced\"},"
    "            {\"operation\":\"sum\",\"source\":\"@.amount\",\"target\":\"$.total\"},"
    "            {\"operation\":\"avg\",\"source\":\"@.amount\",\"target\":\"$.average\"},"
    "            {\"operation\":\"min\",\"source\":\"@.amount\",\"target\":\"$.min\"},"
    "            {\"operation\":\"max\",\"source\":\"@.amount\",\"target\":\"$.max\"},"
    "            {\"operation\":\"sum\",\"source\":\"@.amount\",\"target\":\"$.paid\",\"condition\":\"@.status == 'paid'\"}],"
    " \"testCases\":[{\"name\":\"two regions\",\"input\":%s,"
    "   \"expectedOutput\":[{\"region\":\"eu\",\"orders\":3,\"priced\":2,\"total\":30,\"average\":15,\"min\":10,"
    "\"max\":20,\"paid\":10},"
    "                       {\"region\":\"us\",\"orders\":1,\"priced\":1,\"total\":5.5,\"average\":5.5,\"min\":5.5,"
    "\"max\":5.5,\"paid\":5.5}]},"
    "  {\"name\":\"nothing\",\"input\":{\"orders\":[]},\"expectedOutput\":[]}]}";

static void aggregate_by_group_in_first_seen_order(void)
{
    char rule[4096];
    snprintf(rule, sizeof rule, by_region, orders);
    CHECK(bl_tt_tests_pass(rule));
}

static void aggregate_steps_are_checked_when_compiled(void)
{
    CHECK(bl_tt_compile_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"sum\",\"source\":\"$.a\","
                              "\"target\":\"$.s\"},{\"operation\":\"groupBy\",\"source\":\"$.a\",\"target\":\"$.k\","
                              "\"parameters\":{\"key\":\"@.k\"}}]}",
                              "rules[1]: groupBy must be the first step"));
    CHECK(bl_tt_compile_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"groupBy\",\"source\":\"$.a\","
                              "\"target\":\"$.k\"}]}",
                              "rules[0].parameters.key: an expression of each item"));
    CHECK(bl_tt_compile_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"groupBy\",\"source\":\"$.a\","
                              "\"target\":\"$.k\",\"parameters\":{\"key\":\"@.k\"}}]}",
                              "groupBy needs at least one count"));
    CHECK(bl_tt_compile_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"count\",\"target\":\"$.n\"}]}",
                              "rules[0].source: count needs a source"));
    CHECK(bl_tt_compile_fails("{\"type\":\"aggregate\",\"rules\":[{\"operation\":\"median\",\"source\":\"$.a\","
                              "\"target\":\"$.n\"}]}",
                              "(groupBy, count, sum, avg, min, max)"));
}

int main(void)
{
    BL_RUN(aggregate_over_the_whole_collection);
    BL_RUN(aggregate_by_group_in_first_seen_order);
    BL_RUN(aggregate_steps_are_checked_when_compiled);
    return bl_test_summary();
}
