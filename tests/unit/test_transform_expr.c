/* The transformation engine's expression language: paths, operators,
 * functions, errors with their offsets, and its bounds. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

#include "consumers/event_filter.h"

static const char *order = "{\"id\":\"o-1\",\"customer\":{\"name\":\"Ada\",\"email\":\"ADA@Example.org\"},"
                           "\"items\":[{\"sku\":\"a\",\"price\":10,\"qty\":2},{\"sku\":\"b\",\"price\":2.5,\"qty\":4},"
                           "{\"sku\":\"c\",\"qty\":1}],\"tags\":[\"new\",\"vip\"],\"odd key\":1,\"flag\":true}";

static void paths_reach_fields_indexes_wildcards_and_quoted_keys(void)
{
    CHECK(bl_tt_evaluates("$.customer.name", order, "\"Ada\""));
    CHECK(bl_tt_evaluates("$.items[0].sku", order, "\"a\""));
    CHECK(bl_tt_evaluates("$.items.1.sku", order, "\"b\""));
    CHECK(bl_tt_evaluates("$.items[-1].sku", order, "\"c\""));
    CHECK(bl_tt_evaluates("$.items[*].price", order, "[10, 2.5]"));
    CHECK(bl_tt_evaluates("$.items[*]", order, "[{\"sku\":\"a\",\"price\":10,\"qty\":2},"
                                               "{\"sku\":\"b\",\"price\":2.5,\"qty\":4},{\"sku\":\"c\",\"qty\":1}]"));
    CHECK(bl_tt_evaluates("$['odd key']", order, "1"));
    CHECK(bl_tt_evaluates("$", "[1]", "[1]"));
    CHECK(bl_tt_evaluates("$.customer.missing", order, NULL));
    CHECK(bl_tt_evaluates("$.items[7]", order, NULL));
    CHECK(bl_tt_evaluates("$.tags.name", order, NULL));
    CHECK(bl_tt_evaluates("$.nothing[*].x", order, "[]"));
}

static void operators_compare_compute_and_short_circuit(void)
{
    CHECK(bl_tt_evaluates("$.items[0].price * $.items[0].qty + 1", order, "21"));
    CHECK(bl_tt_evaluates("7 / 2", "{}", "3.5"));
    CHECK(bl_tt_evaluates("6 / 2", "{}", "3"));
    CHECK(bl_tt_evaluates("7 % 3", "{}", "1"));
    CHECK(bl_tt_evaluates("-(2 - 5) * 2", "{}", "6"));
    CHECK(bl_tt_evaluates("1 + 2 * 3 == 7 && !(1 > 2)", "{}", "true"));
    CHECK(bl_tt_evaluates("$.customer.name == 'Ada'", order, "true"));
    CHECK(bl_tt_evaluates("$.customer.name != \"Ada\"", order, "false"));
    CHECK(bl_tt_evaluates("$.missing == null", order, "true"));
    CHECK(bl_tt_evaluates("$.missing != null", order, "false"));
    CHECK(bl_tt_evaluates("'5' == 5", "{}", "true")); /* event_filter's numeric strings */
    CHECK(bl_tt_evaluates("'b' > 'a' && 2 >= 2 && 1 <= 1 && 1 < 2", "{}", "true"));
    CHECK(bl_tt_evaluates("$.missing > 1", order, "false"));
    CHECK(bl_tt_evaluates("'vip' in $.tags", order, "true"));
    CHECK(bl_tt_evaluates("$.customer.name in ['Bob', 'Eve']", order, "false"));
    CHECK(bl_tt_evaluates("$.tags contains 'new'", order, "true"));
    CHECK(bl_tt_evaluates("$.customer.email contains 'Example'", order, "true"));
    CHECK(bl_tt_evaluates("$.flag ? 'yes' : 'no'", order, "\"yes\""));
    CHECK(bl_tt_evaluates("$.missing || true", order, "true"));
    /* short circuit: the right side would fail (a string is no boolean) */
    CHECK(bl_tt_evaluates("false && $.customer.name", order, "false"));
    CHECK(bl_tt_evaluates("[1, 'a', null, [true]]", "{}", "[1, \"a\", null, [true]]"));
    CHECK(bl_tt_evaluates("9223372036854775807 + 1 > 0", "{}", "true")); /* overflow leaves integers */
}

static void functions_do_what_the_readme_says(void)
{
    CHECK(bl_tt_evaluates("length($.items)", order, "3"));
    CHECK(bl_tt_evaluates("length('h\xc3\xa9')", "{}", "2"));
    CHECK(bl_tt_evaluates("length($.customer)", order, "2"));
    CHECK(bl_tt_evaluates("lower($.customer.email)", order, "\"ada@example.org\""));
    CHECK(bl_tt_evaluates("upper('ab1')", "{}", "\"AB1\""));
    CHECK(bl_tt_evaluates("concat($.customer.name, ' #', 7, ' ', true, $.missing)", order, "\"Ada #7 true\""));
    CHECK(bl_tt_evaluates("concat([1], $.tags)", order, "[1, \"new\", \"vip\"]"));
    CHECK(bl_tt_evaluates("coalesce($.missing, null, $.customer.name)", order, "\"Ada\""));
    CHECK(bl_tt_evaluates("coalesce($.missing)", order, "null"));
    CHECK(bl_tt_evaluates("round(2.345, 2)", "{}", "2.35"));
    CHECK(bl_tt_evaluates("round(2.5)", "{}", "3"));
    CHECK(bl_tt_evaluates("round(-2.5)", "{}", "-3"));
    CHECK(bl_tt_evaluates("exists($.customer.name) && !exists($.customer.age)", order, "true"));
    CHECK(bl_tt_evaluates("sum($.items[*].price)", order, "12.5"));
    CHECK(bl_tt_evaluates("sum($.items[*].qty)", order, "7"));
    CHECK(bl_tt_evaluates("min($.items[*].price)", order, "2.5"));
    CHECK(bl_tt_evaluates("max($.items[*].sku)", order, "\"c\""));
    CHECK(bl_tt_evaluates("max([])", "{}", "null"));
    CHECK(bl_tt_evaluates("string(1.5)", "{}", "\"1.5\""));
    CHECK(bl_tt_evaluates("number('42') + 1", "{}", "43"));
}

static void now_is_refused_unless_the_caller_gives_a_clock(void)
{
    CHECK(bl_tt_expr_fails("now()", "{}", "at offset 0: now() is not available"));
    bl_err err = {0};
    bl_tx_expr *e = bl_tx_expr_compile("now()", &err);
    REQUIRE(e);
    json_t *out = NULL, *root = json_object();
    bl_transform_ctx ctx = {.now = "2026-12-07T08:00:00Z"};
    CHECK_EQ_INT(bl_tx_expr_eval(e, &(bl_tx_scope){.root = root, .ctx = &ctx}, &out, &err), 0);
    CHECK_EQ_STR(json_string_value(out), "2026-12-07T08:00:00Z");
    json_decref(out);
    json_decref(root);
    bl_tx_expr_free(e);
}

static void syntax_errors_name_their_offset(void)
{
    CHECK(bl_tt_expr_fails("$.a +", NULL, "at offset 5: expected a value, found the end"));
    CHECK(bl_tt_expr_fails("($.a", NULL, "at offset 4: expected ')'"));
    CHECK(bl_tt_expr_fails("$.a $.b", NULL, "at offset 4: expected an operator or the end, found '$'"));
    CHECK(bl_tt_expr_fails("upcase($.a)", NULL, "at offset 0: unknown function \"upcase\""));
    CHECK(bl_tt_expr_fails("1 + name", NULL, "at offset 4: unknown name \"name\""));
    CHECK(bl_tt_expr_fails("'abc", NULL, "at offset 0: unterminated string"));
    CHECK(bl_tt_expr_fails("$.", NULL, "at offset 2: expected a field name after '.'"));
    CHECK(bl_tt_expr_fails("$.a[x]", NULL, "at offset 4: expected an index"));
    CHECK(bl_tt_expr_fails("length()", NULL, "at offset 0: length() takes 1 argument, 0 given"));
    CHECK(bl_tt_expr_fails("round(1, 2, 3)", NULL, "round() takes 1 to 2 arguments, 3 given"));
    CHECK(bl_tt_expr_fails("exists(1)", NULL, "at offset 7: exists() takes a path"));
    CHECK(bl_tt_expr_fails("1 = 2", NULL, "at offset 2: expected an operator or the end, found '='"));
    CHECK(bl_tt_expr_fails("$.a ? 1", NULL, "at offset 7: expected ':' of '?'"));
    CHECK(bl_tt_expr_fails("12abc", NULL, "at offset 2: expected an operator after a number"));
    CHECK(bl_tt_expr_fails("'\\q'", NULL, "at offset 1: unknown escape"));
}

static void runtime_errors_name_the_operator_and_its_offset(void)
{
    CHECK(bl_tt_expr_fails("1 + $.customer.name", order, "at offset 2: '+' needs numbers, got a number and a string "
                                                          "(concat() joins text)"));
    CHECK(bl_tt_expr_fails("$.missing * 2", order, "at offset 10: '*' needs numbers, got a missing value"));
    CHECK(bl_tt_expr_fails("1 / 0", "{}", "at offset 2: division by zero"));
    CHECK(bl_tt_expr_fails("1.5 % 1", "{}", "'%' needs integers"));
    CHECK(bl_tt_expr_fails("$.customer.name && true", order, "at offset 16: '&&' needs a boolean, got a string"));
    CHECK(bl_tt_expr_fails("1 in $.customer", order, "'in' needs an array on its right, got an object"));
    CHECK(bl_tt_expr_fails("lower(1)", "{}", "lower() needs a string, got a number"));
    CHECK(bl_tt_expr_fails("sum($.tags)", order, "sum() needs numbers, item 0 is a string"));
    CHECK(bl_tt_expr_fails("-'a'", "{}", "at offset 0: '-' needs a number"));
}

static void bounds_stop_deep_nesting_long_text_and_large_values(void)
{
    char deep[300];
    memset(deep, '(', 100);
    strcpy(deep + 100, "1");
    memset(deep + 101, ')', 100);
    deep[201] = '\0';
    CHECK(bl_tt_expr_fails(deep, NULL, "nested deeper than 64"));
    char chain[400] = "1";
    for (int i = 0; i < 100; i++)
        strcat(chain, "+1");
    CHECK(bl_tt_expr_fails(chain, NULL, "nested deeper than 64"));
    char shallow[200] = "1";
    for (int i = 0; i < 20; i++)
        strcat(shallow, "+1");
    CHECK(bl_tt_evaluates(shallow, "{}", "21"));
    char *longtext = malloc(BL_TX_EXPR_MAX + 2);
    memset(longtext, '1', BL_TX_EXPR_MAX + 1);
    longtext[BL_TX_EXPR_MAX + 1] = '\0';
    CHECK(bl_tt_expr_fails(longtext, NULL, "expression longer than 4096 bytes"));
    free(longtext);
    /* a wildcard over 10,001 items, and text doubled past 64 KiB */
    json_t *big = json_object(), *arr = json_array();
    for (int i = 0; i <= BL_TX_VALUE_ITEMS_MAX; i++)
        json_array_append_new(arr, json_integer(i));
    json_object_set_new(big, "a", arr);
    json_object_set_new(big, "s", json_string("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    char *text = json_dumps(big, JSON_COMPACT);
    CHECK(bl_tt_expr_fails("$.a[*]", text, "reaches more than 10000 values"));
    CHECK(bl_tt_evaluates("length($.a)", text, "10001"));
    free(text);
    json_decref(big);
    json_t *root = json_object();
    char *s = malloc(40 * 1024 + 1);
    memset(s, 'x', 40 * 1024);
    s[40 * 1024] = '\0';
    json_object_set_new(root, "s", json_string(s));
    free(s);
    char *rtext = json_dumps(root, JSON_COMPACT);
    CHECK(bl_tt_evaluates("length(concat($.s))", rtext, "40960"));
    CHECK(bl_tt_expr_fails("concat($.s, $.s)", rtext, "text longer than 65536 bytes"));
    free(rtext);
    json_decref(root);
}

static void conditions_in_the_event_filter_form_mean_what_event_filter_means(void)
{
    const char *conds[] = {
        "[{\"field\":\"data.severity\",\"operator\":\"in\",\"value\":[\"HIGH\",\"CRITICAL\"]}]",
        "[{\"field\":\"data.score\",\"operator\":\"gt\",\"value\":5}]",
        "[{\"field\":\"data.score\",\"operator\":\"lt\",\"value\":\"7\"}]",
        "[{\"field\":\"data.missing\",\"operator\":\"not_equals\",\"value\":1}]",
        "[{\"field\":\"data.none\",\"operator\":\"exists\",\"value\":false}]",
        "[{\"field\":\"data.none\",\"operator\":\"equals\",\"value\":null}]",
        "[{\"field\":\"data.tags\",\"operator\":\"contains\",\"value\":\"x\"},"
        "{\"field\":\"data.tags.0\",\"operator\":\"equals\",\"value\":\"x\"}]",
        "[{\"field\":\"data.some-field\",\"operator\":\"equals\",\"value\":\"5\"}]",
        "[]",
    };
    const char *events[] = {
        "{\"data\":{\"severity\":\"HIGH\",\"score\":\"6\",\"none\":null,\"tags\":[\"x\"],\"some-field\":5}}",
        "{\"data\":{\"severity\":\"LOW\",\"score\":9,\"tags\":[\"y\",\"x\"]}}",
        "{\"data\":[]}",
        "{}",
    };
    for (size_t c = 0; c < sizeof conds / sizeof conds[0]; c++) {
        bl_err err = {0};
        json_t *cj = bl_tt_json(conds[c]);
        bl_tx_expr *e = bl_tx_expr_from_conditions(cj, &err);
        bl_event_filter *f = bl_event_filter_new(cj, &err);
        REQUIRE(e && f);
        for (size_t v = 0; v < sizeof events / sizeof events[0]; v++) {
            json_t *ev = bl_tt_json(events[v]);
            bool got = false;
            CHECK_EQ_INT(bl_tx_expr_test(e, &(bl_tx_scope){.root = ev}, &got, &err), 0);
            if (got != bl_event_filter_matches(f, ev))
                fprintf(stderr, "  conditions %s on %s: engine %d\n", conds[c], events[v], got);
            CHECK(got == bl_event_filter_matches(f, ev));
            json_decref(ev);
        }
        bl_tx_expr_free(e);
        bl_event_filter_free(f);
        json_decref(cj);
    }
    bl_err err = {0};
    json_t *bad = bl_tt_json("[{\"field\":\"data.x\",\"operator\":\"like\",\"value\":1}]");
    CHECK(!bl_tx_expr_from_conditions(bad, &err));
    CHECK(strstr(err.msg, "condition 0: unknown operator \"like\"") != NULL);
    json_decref(bad);
}

static void dot_path_lookup_matches_event_field_lookup(void)
{
    json_t *ev = bl_tt_json("{\"data\":{\"tags\":[\"a\",\"b\"],\"0\":\"zero\",\"x-y\":{\"z\":1}}}");
    const char *paths[] = {"data.tags.1", "data.0", "data.x-y.z", "data.tags.9", "data..x", "data.", ".data", "data",
                           "data.tags.01", "nothing.at.all", ""};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        CHECK(bl_tx_path_lookup(ev, paths[i], strlen(paths[i])) == bl_event_field_lookup(ev, paths[i]));
    json_decref(ev);
}

int main(void)
{
    BL_RUN(paths_reach_fields_indexes_wildcards_and_quoted_keys);
    BL_RUN(operators_compare_compute_and_short_circuit);
    BL_RUN(functions_do_what_the_readme_says);
    BL_RUN(now_is_refused_unless_the_caller_gives_a_clock);
    BL_RUN(syntax_errors_name_their_offset);
    BL_RUN(runtime_errors_name_the_operator_and_its_offset);
    BL_RUN(bounds_stop_deep_nesting_long_text_and_large_values);
    BL_RUN(conditions_in_the_event_filter_form_mean_what_event_filter_means);
    BL_RUN(dot_path_lookup_matches_event_field_lookup);
    return bl_test_summary();
}
