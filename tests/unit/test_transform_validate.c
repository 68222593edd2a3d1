/* validate, and the JSON Schema subset under it: each keyword at its
 * boundary, problems with instance paths, unknown keywords refused. */
#include "tests/support/test.h"
#include "tests/support/transform_test.h"

/* Number of problems of instance against schema (both JSON texts); -1 when
 * the schema does not compile. first: the first problem's instancePath and
 * keyword ("/a minimum") when non-NULL. */
static int problems(const char *schema, const char *instance, char *first, size_t cap)
{
    bl_err err = {0};
    json_t *sj = bl_tt_json(schema), *ij = bl_tt_json(instance);
    bl_json_schema *s = sj ? bl_json_schema_compile(sj, &err) : NULL;
    int n = -1;
    if (!s) {
        fprintf(stderr, "  schema %s: %s\n", schema, err.msg);
    } else {
        json_t *list = bl_json_schema_validate(s, ij);
        n = (int)json_array_size(list);
        if (first && n > 0)
            snprintf(first, cap, "%s %s", json_string_value(json_object_get(json_array_get(list, 0), "instancePath")),
                     json_string_value(json_object_get(json_array_get(list, 0), "keyword")));
        json_decref(list);
    }
    bl_json_schema_free(s);
    json_decref(sj);
    json_decref(ij);
    return n;
}

static bool valid(const char *schema, const char *instance)
{
    return problems(schema, instance, NULL, 0) == 0;
}

static bool refused(const char *schema, const char *instance, const char *where)
{
    char first[256] = "";
    int n = problems(schema, instance, first, sizeof first);
    if (n <= 0 || strcmp(first, where) != 0)
        fprintf(stderr, "  %s on %s: %d problems, first \"%s\", want \"%s\"\n", schema, instance, n, first, where);
    return n > 0 && strcmp(first, where) == 0;
}

static bool schema_refused(const char *schema, const char *want)
{
    bl_err err = {0};
    json_t *sj = bl_tt_json(schema);
    bl_json_schema *s = bl_json_schema_compile(sj, &err);
    json_decref(sj);
    if (s) {
        fprintf(stderr, "  schema %s compiled, want \"%s\"\n", schema, want);
        bl_json_schema_free(s);
        return false;
    }
    if (!strstr(err.msg, want))
        fprintf(stderr, "  schema %s: got \"%s\", want \"%s\"\n", schema, err.msg, want);
    return strstr(err.msg, want) != NULL;
}

static void types_and_numbers_at_their_boundaries(void)
{
    CHECK(valid("{\"type\":\"integer\"}", "3"));
    CHECK(valid("{\"type\":\"integer\"}", "3.0"));
    CHECK(refused("{\"type\":\"integer\"}", "3.5", " type"));
    CHECK(valid("{\"type\":[\"string\",\"null\"]}", "null"));
    CHECK(refused("{\"type\":[\"string\",\"null\"]}", "1", " type"));
    CHECK(valid("{\"minimum\":18}", "18"));
    CHECK(refused("{\"minimum\":18}", "17.999", " minimum"));
    CHECK(valid("{\"maximum\":5}", "5"));
    CHECK(refused("{\"maximum\":5}", "6", " maximum"));
    CHECK(valid("{\"exclusiveMinimum\":0}", "0.001"));
    CHECK(refused("{\"exclusiveMinimum\":0}", "0", " exclusiveMinimum"));
    CHECK(valid("{\"exclusiveMaximum\":10}", "9"));
    CHECK(refused("{\"exclusiveMaximum\":10}", "10", " exclusiveMaximum"));
    CHECK(valid("{\"multipleOf\":0.5}", "2.5"));
    CHECK(refused("{\"multipleOf\":0.5}", "2.4", " multipleOf"));
    CHECK(valid("{\"minimum\":1}", "\"text is not judged by minimum\""));
}

static void strings_at_their_boundaries(void)
{
    CHECK(valid("{\"minLength\":2,\"maxLength\":3}", "\"h\xc3\xa9\"")); /* 2 characters, 3 bytes */
    CHECK(refused("{\"minLength\":2}", "\"a\"", " minLength"));
    CHECK(valid("{\"maxLength\":3}", "\"abc\""));
    CHECK(refused("{\"maxLength\":3}", "\"abcd\"", " maxLength"));
    CHECK(valid("{\"pattern\":\"^[a-z]+@[a-z]+\\\\.org$\"}", "\"ada@x.org\""));
    CHECK(refused("{\"pattern\":\"^[a-z]+@[a-z]+\\\\.org$\"}", "\"ada@x.com\"", " pattern"));
    CHECK(valid("{\"pattern\":\"b\"}", "\"abc\"")); /* unanchored, as JSON Schema says */
    CHECK(valid("{\"enum\":[\"a\",1,null]}", "1.0"));
    CHECK(refused("{\"enum\":[\"a\",1,null]}", "\"b\"", " enum"));
    CHECK(valid("{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2.0]}"));
    CHECK(refused("{\"const\":{\"a\":[1,2]}}", "{\"a\":[2,1]}", " const"));
}

static void arrays_at_their_boundaries(void)
{
    CHECK(valid("{\"minItems\":1,\"maxItems\":2}", "[1,2]"));
    CHECK(refused("{\"minItems\":1}", "[]", " minItems"));
    CHECK(refused("{\"maxItems\":2}", "[1,2,3]", " maxItems"));
    CHECK(valid("{\"uniqueItems\":true}", "[1,\"1\",[1]]"));
    CHECK(refused("{\"uniqueItems\":true}", "[{\"a\":1},{\"a\":1.0}]", " uniqueItems"));
    const char *tuple = "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}],\"items\":{\"type\":\"boolean\"}}";
    CHECK(valid(tuple, "[\"a\",1,true,false]"));
    CHECK(valid(tuple, "[\"a\"]"));
    CHECK(refused(tuple, "[\"a\",\"b\"]", "/1 type"));
    CHECK(refused(tuple, "[\"a\",1,true,3]", "/3 type"));
    CHECK(refused("{\"items\":false,\"prefixItems\":[true]}", "[1,2]", "/1 false"));
}

static void objects_at_their_boundaries(void)
{
    const char *person = "{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
                         "\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0}}}";
    CHECK(valid(person, "{\"name\":\"Ada\",\"age\":0}"));
    CHECK(refused(person, "{\"age\":1}", " required"));
    CHECK(refused(person, "{\"name\":\"Ada\",\"age\":-1}", "/age minimum"));
    CHECK(refused(person, "{\"name\":\"Ada\",\"nick\":\"a\"}", "/nick additionalProperties"));
    CHECK(refused("{\"additionalProperties\":{\"type\":\"number\"}}", "{\"a/b~c\":\"x\"}", "/a~1b~0c type"));
    CHECK(valid("{\"minProperties\":1,\"maxProperties\":1}", "{\"a\":1}"));
    CHECK(refused("{\"minProperties\":1}", "{}", " minProperties"));
    CHECK(refused("{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", " maxProperties"));
}

static void combinators_and_refs(void)
{
    CHECK(valid("{\"allOf\":[{\"type\":\"number\"},{\"minimum\":2}]}", "2"));
    CHECK(refused("{\"allOf\":[{\"type\":\"number\"},{\"minimum\":2}]}", "1", " minimum"));
    CHECK(valid("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "3"));
    CHECK(refused("{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":2}]}", "1", " anyOf"));
    CHECK(valid("{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "1"));
    CHECK(refused("{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}", "1", " oneOf"));
    CHECK(refused("{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "1", " oneOf"));
    CHECK(valid("{\"not\":{\"type\":\"null\"}}", "0"));
    CHECK(refused("{\"not\":{\"type\":\"null\"}}", "null", " not"));
    const char *tree = "{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"number\"},"
                       "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}}}},\"$ref\":\"#/$defs/node\"}";
    CHECK(valid(tree, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[]}]}"));
    CHECK(refused(tree, "{\"v\":1,\"kids\":[{\"v\":\"x\"}]}", "/kids/0/v type"));
    CHECK(refused("{\"$ref\":\"#\"}", "1", " $ref")); /* a cycle ends at the depth bound */
    CHECK(valid("true", "{\"anything\":1}"));
    CHECK(refused("false", "1", " false"));
}

static void schemas_outside_the_subset_are_refused_with_their_path(void)
{
    CHECK(schema_refused("{\"properties\":{\"a\":{\"dependentRequired\":{}}}}",
                         "/properties/a/dependentRequired: unknown keyword \"dependentRequired\""));
    CHECK(schema_refused("{\"minimum\":\"1\"}", "/minimum: must be a number"));
    CHECK(schema_refused("{\"minLength\":-1}", "/minLength: must be a non-negative integer"));
    CHECK(schema_refused("{\"pattern\":\"(\"}", "/pattern: not a POSIX extended regular expression"));
    CHECK(schema_refused("{\"$ref\":\"#/$defs/nope\"}", "/$ref: \"#/$defs/nope\" does not resolve"));
    CHECK(schema_refused("{\"$ref\":\"https://example.org/s.json\"}", "does not resolve"));
    CHECK(schema_refused("{\"type\":\"text\"}", "/type: unknown type"));
    CHECK(schema_refused("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}", "only draft 2020-12"));
    CHECK(schema_refused("{\"anyOf\":[]}", "/anyOf: must be a non-empty array of schemas"));
    CHECK(schema_refused("{\"items\":[{}]}", "/items: a schema must be an object or a boolean"));
    CHECK(schema_refused("{\"minimum\":3,\"maximum\":2}", "minimum is greater than maximum"));
    CHECK(schema_refused("{\"required\":[\"a\",\"a\"]}", "/required: names a property twice"));
}

static const char *contact =
    "{\"id\":\"t-val\",\"name\":\"contact\",\"type\":\"validate\","
    " \"rules\":[{\"operation\":\"assert\",\"source\":\"$.contact\",\"parameters\":{\"schema\":"
    "   {\"type\":\"object\",\"required\":[\"email\"],\"properties\":{\"email\":{\"type\":\"string\","
    "    \"pattern\":\"^[^@]+@[^@]+$\"}}}}}],"
    " \"testCases\":[{\"name\":\"valid passes through\",\"input\":{\"contact\":{\"email\":\"a@b\"}},"
    "                 \"expectedOutput\":{\"contact\":{\"email\":\"a@b\"}}}]}";

static void validate_asserts_a_schema_and_gives_its_problems(void)
{
    bl_err err = {0};
    bl_transform *t = bl_tt_compile(contact, &err);
    REQUIRE(t);
    CHECK_EQ_INT(bl_transform_run_tests(t, NULL), 0);
    json_t *in = bl_tt_json("{\"contact\":{\"email\":\"nope\"}}"), *list = NULL;
    json_t *out = bl_transform_apply_ex(t, in, NULL, &list, &err);
    CHECK(out == NULL);
    CHECK_EQ_STR(err.msg, "rules[0] (assert): validate: /email: does not match the pattern ^[^@]+@[^@]+$");
    REQUIRE(json_array_size(list) == 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "stage")), "validate");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "schemaPath")),
                 "/properties/email/pattern");
    json_decref(list);
    json_decref(in);
    bl_transform_free(t);
}

static void validate_report_writes_the_verdict_beside_the_input(void)
{
    CHECK(bl_tt_applies("{\"type\":\"validate\",\"rules\":[{\"operation\":\"report\",\"source\":\"$.n\","
                        "\"target\":\"$.check\",\"parameters\":{\"schema\":{\"maximum\":3}}}]}",
                        "{\"n\":4}",
                        "{\"n\":4,\"check\":{\"valid\":false,\"errors\":[{\"instancePath\":\"\",\"schemaPath\":\"/maximum\","
                        "\"keyword\":\"maximum\",\"message\":\"4 is greater than the maximum 3\"}]}}",
                        NULL));
    CHECK(bl_tt_compile_fails("{\"type\":\"validate\",\"rules\":[{\"operation\":\"assert\",\"parameters\":{\"schema\":"
                              "{\"maximum\":true}}}]}",
                              "rules[0].parameters.schema: /maximum: must be a number"));
    CHECK(bl_tt_compile_fails("{\"type\":\"validate\",\"rules\":[{\"operation\":\"assert\"}]}",
                              "rules[0].parameters.schema: a JSON Schema is required"));
    /* no steps: the rule's inputSchema alone */
    CHECK(bl_tt_apply_fails("{\"type\":\"validate\",\"inputSchema\":{\"required\":[\"id\"]}}", "{}",
                            "inputSchema: (root): missing required property \"id\""));
}

int main(void)
{
    BL_RUN(types_and_numbers_at_their_boundaries);
    BL_RUN(strings_at_their_boundaries);
    BL_RUN(arrays_at_their_boundaries);
    BL_RUN(objects_at_their_boundaries);
    BL_RUN(combinators_and_refs);
    BL_RUN(schemas_outside_the_subset_are_refused_with_their_path);
    BL_RUN(validate_asserts_a_schema_and_gives_its_problems);
    BL_RUN(validate_report_writes_the_verdict_beside_the_input);
    return bl_test_summary();
}
