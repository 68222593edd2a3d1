#include "connectors/jira/jira.h"
#include "connectors/mapping.h"
#include "tests/support/test.h"

static bl_catalog *catalog;

static json_t *risk_event(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:i}}", "id", "ev-1", "type",
                     "risk.escalated", "time", "2026-11-25T08:00:00.000Z", "organization_id", "org_1", "subject",
                     "risk-7", "data", "risk_id", "risk-7", "title", "Vendor <late> & \"over\" budget", "severity",
                     "CRITICAL", "description", "line one\nline\ttwo\x01", "probability", 80);
}

static void expect_template_error(const char *tmpl, const char *want)
{
    bl_err err = {0};
    const char *patterns[] = {"risk.escalated"};
    CHECK_EQ_INT(bl_template_check(tmpl, patterns, 1, bl_mapping_catalog_field_known, catalog, &err), -1);
    if (!strstr(err.msg, want))
        fprintf(stderr, "  template %s: got \"%s\", want \"%s\"\n", tmpl, err.msg, want);
    CHECK(strstr(err.msg, want) != NULL);
}

static void templates_with_bad_braces_or_unknown_roots_are_refused_when_saved(void)
{
    expect_template_error("x {data.title", "unbalanced '{' at 2");
    expect_template_error("{data.title} }", "unbalanced '}' at 13");
    expect_template_error("a {data.{title}}", "unbalanced '{' at 2");
    expect_template_error("{}", "empty placeholder at 0");
    expect_template_error("{data..title}", "malformed placeholder");
    expect_template_error("{titel}", "unknown placeholder root \"titel\"");
    expect_template_error("{data.titel}", "unknown placeholder root \"titel\"");
    expect_template_error("{id.x}", "id has no fields");
    bl_err err = {0};
    const char *patterns[] = {"risk.escalated"};
    CHECK_EQ_INT(bl_template_check("{{literal}} {data.title} {title} {projectName} {id} {data} {type}", patterns, 1,
                                   bl_mapping_catalog_field_known, catalog, &err),
                 0);
    const char *attendance[] = {"event.reminder_due"};
    CHECK_EQ_INT(bl_template_check("{eventName} at {startsAt}", attendance, 1, bl_mapping_catalog_field_known,
                                   catalog, &err),
                 0);
    CHECK_EQ_INT(bl_template_check("{eventName}", patterns, 1, bl_mapping_catalog_field_known, catalog, &err), -1);
}

static void rendering_escapes_values_per_target_and_keeps_literal_text(void)
{
    json_t *ev = risk_event();
    bl_err err = {0};
    char *s = bl_template_render("*{title}* ({data.severity}, {data.probability}%) {{x}}", ev,
                                 BL_CONNECTOR_ESCAPE_MRKDWN, &err);
    CHECK_EQ_STR(s, "*Vendor &lt;late&gt; &amp; \"over\" budget* (CRITICAL, 80%) {x}");
    free(s);
    s = bl_template_render("\"{data.title}\"", ev, BL_CONNECTOR_ESCAPE_JSON, &err);
    CHECK_EQ_STR(s, "\"Vendor <late> & \\\"over\\\" budget\"");
    free(s);
    s = bl_template_render("{data.description}", ev, BL_CONNECTOR_ESCAPE_JSON, &err);
    CHECK_EQ_STR(s, "line one\\nline\\ttwo\\u0001");
    free(s);
    s = bl_template_render("{data.description}", ev, BL_CONNECTOR_ESCAPE_ADF, &err);
    CHECK_EQ_STR(s, "line one\nline\ttwo");
    free(s);
    s = bl_template_render("[{type}] {data.missing}{subject}", ev, BL_CONNECTOR_ESCAPE_PLAIN, &err);
    CHECK_EQ_STR(s, "[risk.escalated] risk-7");
    free(s);
    json_object_set_new(json_object_get(ev, "data"), "attendance_rate", json_real(0.875));
    s = bl_template_render("{attendanceRate}", ev, BL_CONNECTOR_ESCAPE_PLAIN, &err);
    CHECK_EQ_STR(s, "0.875");
    free(s);
    json_decref(ev);
}

static bl_mapping *compile(const char *rules_text, bl_err *err)
{
    json_t *rules = json_loads(rules_text, 0, NULL);
    bl_mapping *m = bl_mapping_new(rules, bl_jira_connector(), bl_mapping_catalog_field_known, catalog, err);
    json_decref(rules);
    return m;
}

static void rules_name_the_rule_and_the_problem(void)
{
    bl_err err = {0};
    CHECK(!compile("[{\"events\":[\"risk.escalated\"],\"action\":\"explode\",\"template\":{}}]", &err));
    CHECK(strstr(err.msg, "rule 1: action: \"explode\" is not an action of connector jira") != NULL);
    CHECK(!compile("[{\"events\":[\"risk.escalated\"],\"action\":\"create_issue\",\"template\":{\"color\":\"x\"}}]",
                   &err));
    CHECK(strstr(err.msg, "template.color: not a field of action create_issue") != NULL);
    CHECK(!compile("[{\"events\":[\"risk.escalated\"],\"action\":\"create_issue\",\"template\":{}}]", &err));
    CHECK(strstr(err.msg, "template.summary: required by action create_issue") != NULL);
    CHECK(!compile("[{\"events\":[\"risk.escalated\"],\"action\":\"create_issue\",\"template\":{\"summary\":\"{x\"}}]",
                   &err));
    CHECK(strstr(err.msg, "rule 1: template.summary: unbalanced '{' at 0") != NULL);
    CHECK(!compile("[{\"events\":[\"risk..x\"],\"action\":\"create_issue\",\"template\":{\"summary\":\"s\"}}]", &err));
    CHECK(strstr(err.msg, "rule 1: events[0]") != NULL);
    CHECK(!compile("[{\"events\":[\"risk.*\"],\"conditions\":[{\"field\":\"data.severity\",\"operator\":\"like\"}],"
                   "\"action\":\"create_issue\",\"template\":{\"summary\":\"s\"}}]",
                   &err));
    CHECK(strstr(err.msg, "rule 1: conditions") != NULL);
}

static void rules_match_on_type_and_conditions_and_render_their_fields(void)
{
    bl_err err = {0};
    bl_mapping *m = compile(
        "[{\"events\":[\"risk.escalated\"],\"conditions\":[{\"field\":\"data.severity\",\"operator\":\"in\","
        "\"value\":[\"HIGH\",\"CRITICAL\"]}],\"action\":\"create_issue\",\"template\":{\"summary\":\"[{data.severity}] "
        "{data.title}\",\"description\":\"{data.description}\"}},"
        "{\"events\":[\"risk.resolved\"],\"action\":\"resolve\",\"template\":{\"comment\":\"Resolved: {data.title}\"}}]",
        &err);
    REQUIRE(m);
    json_t *ev = risk_event();
    CHECK_EQ_INT(bl_mapping_match(m, 0, "risk.escalated", ev), 0);
    CHECK_EQ_INT(bl_mapping_match(m, 1, "risk.escalated", ev), -1);
    CHECK_EQ_INT(bl_mapping_match(m, 0, "risk.resolved", ev), 1);
    bl_mapping_rendered r;
    REQUIRE(bl_mapping_render(m, 0, ev, &r, &err) == 0);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_STR(bl_connector_event_field(&(bl_connector_event){.fields = r.fields, .n_fields = r.n}, "summary"),
                 "[CRITICAL] Vendor <late> & \"over\" budget");
    bl_mapping_rendered_clear(&r);
    json_object_set_new(json_object_get(ev, "data"), "severity", json_string("LOW"));
    CHECK_EQ_INT(bl_mapping_match(m, 0, "risk.escalated", ev), -1);
    json_decref(ev);
    bl_mapping_free(m);
}

static void test_setup(void)
{
    bl_err err = {0};
    catalog = bl_catalog_load(bl_catalog_default_dir(), &err);
    if (!catalog)
        fprintf(stderr, "catalog: %s\n", err.msg);
}

int main(void)
{
    test_setup();
    if (!catalog)
        return 1;
    BL_RUN(templates_with_bad_braces_or_unknown_roots_are_refused_when_saved);
    BL_RUN(rendering_escapes_values_per_target_and_keeps_literal_text);
    BL_RUN(rules_name_the_rule_and_the_problem);
    BL_RUN(rules_match_on_type_and_conditions_and_render_their_fields);
    bl_catalog_free(catalog);
    return bl_test_summary();
}
