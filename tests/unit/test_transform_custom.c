/* custom: set and delete, in order, over a copy of the input. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

static const char *invoice =
    "{\"id\":\"t-custom\",\"name\":\"invoice lines\",\"type\":\"custom\","
    " \"rules\":[{\"operation\":\"set\",\"source\":\"$.qty * $.unitPrice\",\"target\":\"$.net\"},"
    "            {\"operation\":\"set\",\"source\":\"round($.net * 0.2, 2)\",\"target\":\"$.vat\"},"
    "            {\"operation\":\"set\",\"source\":\"$.net + $.vat\",\"target\":\"$.gross\"},"
    "            {\"operation\":\"set\",\"source\":\"$.gross > 100 ? 'large' : 'small'\",\"target\":\"$.size\"},"
    "            {\"operation\":\"set\",\"source\":\"concat(upper($.currency), ' ', $.gross)\",\"target\":\"$.label\"},"
    "            {\"operation\":\"delete\",\"target\":\"$.internal\"},"
    "            {\"operation\":\"set\",\"source\":\"'check'\",\"target\":\"$.flags[0]\",\"condition\":\"$.qty > 10\"}],"
    " \"testCases\":[{\"name\":\"small\",\"input\":{\"qty\":2,\"unitPrice\":10.5,\"currency\":\"eur\",\"internal\":1},"
    "   \"expectedOutput\":{\"qty\":2,\"unitPrice\":10.5,\"currency\":\"eur\",\"net\":21,\"vat\":4.2,\"gross\":25.2,"
    "                       \"size\":\"small\",\"label\":\"EUR 25.2\"}},"
    "  {\"name\":\"large\",\"input\":{\"qty\":20,\"unitPrice\":10,\"currency\":\"usd\"},"
    "   \"expectedOutput\":{\"qty\":20,\"unitPrice\":10,\"currency\":\"usd\",\"net\":200,\"vat\":40,\"gross\":240,"
    "                       \"size\":\"large\",\"label\":\"USD 240\",\"flags\":[\"check\"]}}]}";

static void custom_steps_run_in_order_and_see_each_others_results(void)
{
    CHECK(bl_tt_tests_pass(invoice));
}

static void custom_can_replace_the_whole_document_and_uses_the_callers_clock(void)
{
    CHECK(bl_tt_applies("{\"type\":\"custom\",\"rules\":[{\"operation\":\"set\",\"source\":\"[$.a, now()]\","
                        "\"target\":\"$\"}]}",
                        "{\"a\":1}", "[1, \"2026-12-07T08:00:00Z\"]", "2026-12-07T08:00:00Z"));
    CHECK(bl_tt_apply_fails("{\"type\":\"custom\",\"rules\":[{\"operation\":\"set\",\"source\":\"now()\","
                            "\"target\":\"$.at\"}]}",
                            "{}", "rules[0] (set): at offset 0: now() is not available"));
}

static void custom_errors_name_the_step_and_the_offset(void)
{
    CHECK(bl_tt_apply_fails("{\"type\":\"custom\",\"rules\":[{\"operation\":\"set\",\"source\":\"1\",\"target\":\"$.a\"},"
                            "{\"operation\":\"set\",\"source\":\"$.a + $.b.c\",\"target\":\"$.x\"}]}",
                            "{\"b\":{\"c\":\"7\"}}", "rules[1] (set): at offset 4: '+' needs numbers, got a number and a string"));
    CHECK(bl_tt_compile_fails("{\"type\":\"custom\",\"rules\":[{\"operation\":\"delete\",\"source\":\"1\",\"target\":\"$.a\"}]}",
                              "rules[0].source: delete takes no source"));
    CHECK(bl_tt_apply_fails("{\"type\":\"custom\",\"rules\":[{\"operation\":\"delete\",\"target\":\"$\"}]}", "{}",
                            "rules[0] (delete): target: $ alone cannot be deleted"));
}

static void custom_output_is_bounded(void)
{
    /* 20 doublings of a 64-byte text pass 1 MiB; each step stays under the
     * 64 KiB text bound by copying arrays rather than text */
    char rule[4096] = "{\"type\":\"custom\",\"rules\":[{\"operation\":\"set\",\"source\":\"[$.s, $.s, $.s, $.s]\","
                      "\"target\":\"$.a\"}";
    for (int i = 0; i < 12; i++)
        strcat(rule, ",{\"operation\":\"set\",\"source\":\"[$.a, $.a]\",\"target\":\"$.a\"}");
    strcat(rule, "]}");
    CHECK(bl_tt_apply_fails(rule, "{\"s\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}",
                            "output larger than 1048576 bytes"));
}

int main(void)
{
    BL_RUN(custom_steps_run_in_order_and_see_each_others_results);
    BL_RUN(custom_can_replace_the_whole_document_and_uses_the_callers_clock);
    BL_RUN(custom_errors_name_the_step_and_the_offset);
    BL_RUN(custom_output_is_bounded);
    return bl_test_summary();
}
