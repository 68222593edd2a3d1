#include "schemas/compat.h"
#include "tests/support/test.h"

/* Schema text builders, so each case below reads as the change it makes. */
#define RISK(fields) "{\"type\":\"record\",\"name\":\"Risk\",\"namespace\":\"busline\",\"fields\":[" fields "]}"
#define F(name, type) "{\"name\":\"" name "\",\"type\":" type "}"
#define FD(name, type, dflt) "{\"name\":\"" name "\",\"type\":" type ",\"default\":" dflt "}"
#define STR "\"string\""
#define ENUM(symbols) "{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[" symbols "]}"
#define ENUM_D(symbols) "{\"type\":\"enum\",\"name\":\"Severity\",\"symbols\":[" symbols "],\"default\":\"LOW\"}"
#define OWNER(fields) "{\"type\":\"record\",\"name\":\"Owner\",\"fields\":[" fields "]}"
#define ARRAY(items) "{\"type\":\"array\",\"items\":" items "}"

/* One row per schema change: the old (registered) schema, the new one, and
 * what the Avro resolution rules say for BACKWARD (new reads old), FORWARD
 * (old reads new), FULL (both) and NONE. */
static const struct {
    const char *change;
    const char *old_schema;
    const char *new_schema;
    int backward, forward, full, none;
} MATRIX[] = {
    {"add field with default", RISK(F("id", STR)), RISK(F("id", STR) "," FD("note", STR, "\"\"")), 1, 1, 1, 1},
    {"remove field with default", RISK(F("id", STR) "," FD("note", STR, "\"\"")), RISK(F("id", STR)), 1, 1, 1, 1},
    {"add field without default", RISK(F("id", STR)), RISK(F("id", STR) "," F("note", STR)), 0, 1, 0, 1},
    {"remove field without default", RISK(F("id", STR) "," F("note", STR)), RISK(F("id", STR)), 1, 0, 0, 1},
    {"change type int to string", RISK(F("count", "\"int\"")), RISK(F("count", STR)), 0, 0, 0, 1},
    {"promote int to long", RISK(F("count", "\"int\"")), RISK(F("count", "\"long\"")), 1, 0, 0, 1},
    {"string and bytes read each other", RISK(F("body", STR)), RISK(F("body", "\"bytes\"")), 1, 1, 1, 1},
    {"rename field with alias", RISK(F("title", STR)),
     RISK("{\"name\":\"name\",\"type\":\"string\",\"aliases\":[\"title\"]}"), 1, 0, 0, 1},
    {"rename field without alias", RISK(F("title", STR)), RISK(F("name", STR)), 0, 0, 0, 1},
    {"rename record with alias", RISK(F("id", STR)),
     "{\"type\":\"record\",\"name\":\"RiskV2\",\"namespace\":\"busline\",\"aliases\":[\"Risk\"],\"fields\":["
     F("id", STR) "]}",
     1, 0, 0, 1},
    {"enum symbol added, no enum default", RISK(F("s", ENUM("\"LOW\",\"HIGH\""))),
     RISK(F("s", ENUM("\"LOW\",\"HIGH\",\"CRITICAL\""))), 1, 0, 0, 1},
    {"enum symbol added, with enum default", RISK(F("s", ENUM_D("\"LOW\",\"HIGH\""))),
     RISK(F("s", ENUM_D("\"LOW\",\"HIGH\",\"CRITICAL\""))), 1, 1, 1, 1},
    {"enum symbol removed, no enum default", RISK(F("s", ENUM("\"LOW\",\"HIGH\",\"CRITICAL\""))),
     RISK(F("s", ENUM("\"LOW\",\"HIGH\""))), 0, 1, 0, 1},
    {"enum symbol removed, with enum default", RISK(F("s", ENUM_D("\"LOW\",\"HIGH\",\"CRITICAL\""))),
     RISK(F("s", ENUM_D("\"LOW\",\"HIGH\""))), 1, 1, 1, 1},
    {"union branch added", RISK(F("v", "[\"null\",\"string\"]")), RISK(F("v", "[\"null\",\"string\",\"long\"]")),
     1, 0, 0, 1},
    {"union branch removed", RISK(F("v", "[\"null\",\"string\",\"long\"]")), RISK(F("v", "[\"null\",\"string\"]")),
     0, 1, 0, 1},
    {"field made optional", RISK(F("v", STR)), RISK(FD("v", "[\"null\",\"string\"]", "null")), 1, 0, 0, 1},
    {"nested record field added without default", RISK(F("owner", OWNER(F("id", STR)))),
     RISK(F("owner", OWNER(F("id", STR) "," F("email", STR)))), 0, 1, 0, 1},
    {"nested record field added with default", RISK(F("owner", OWNER(F("id", STR)))),
     RISK(F("owner", OWNER(F("id", STR) "," FD("email", STR, "\"\"")))), 1, 1, 1, 1},
    {"array items int to string", RISK(F("xs", ARRAY("\"int\""))), RISK(F("xs", ARRAY(STR))), 0, 0, 0, 1},
    {"array items int to long", RISK(F("xs", ARRAY("\"int\""))), RISK(F("xs", ARRAY("\"long\""))), 1, 0, 0, 1},
    {"map values long to double", RISK(F("m", "{\"type\":\"map\",\"values\":\"long\"}")),
     RISK(F("m", "{\"type\":\"map\",\"values\":\"double\"}")), 1, 0, 0, 1},
    {"fixed size changed", RISK(F("h", "{\"type\":\"fixed\",\"name\":\"H\",\"size\":16}")),
     RISK(F("h", "{\"type\":\"fixed\",\"name\":\"H\",\"size\":32}")), 0, 0, 0, 1},
};

static void compatibility_matrix_follows_the_avro_rules(void)
{
    const bl_compat_mode modes[] = {BL_COMPAT_BACKWARD, BL_COMPAT_FORWARD, BL_COMPAT_FULL, BL_COMPAT_NONE};
    for (size_t i = 0; i < sizeof MATRIX / sizeof MATRIX[0]; i++) {
        const int expected[] = {MATRIX[i].backward, MATRIX[i].forward, MATRIX[i].full, MATRIX[i].none};
        const char *previous[] = {MATRIX[i].old_schema};
        for (size_t m = 0; m < 4; m++) {
            bl_compat_reasons reasons = {0};
            bl_err err = {0};
            int got = bl_compat_check(modes[m], MATRIX[i].new_schema, previous, 1, &reasons, &err);
            if (got != expected[m])
                fprintf(stderr, "  %s under %s: got %d (%s), want %d\n", MATRIX[i].change,
                        bl_compat_mode_name(modes[m]), got, got < 0 ? err.msg : reasons.count ? reasons.items[0] : "",
                        expected[m]);
            CHECK_EQ_INT(got, expected[m]);
            /* An incompatible verdict always says why. */
            CHECK(got != 0 || reasons.count > 0);
            bl_compat_reasons_free(&reasons);
        }
    }
}

/* v3 reads v2 (which gave 'note' a default) but not v1 (which has no 'note'). */
static const char *const BACKWARD_HISTORY[] = {
    RISK(F("id", STR)),
    RISK(F("id", STR) "," FD("note", STR, "\"\"")),
};
static const char *BACKWARD_V3 = RISK(F("id", STR) "," F("note", STR));

static void backward_transitive_checks_every_previous_version(void)
{
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_BACKWARD, BACKWARD_V3, BACKWARD_HISTORY, 2, &reasons, &err), 1);
    CHECK_EQ_INT(reasons.count, 0);
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_BACKWARD_TRANSITIVE, BACKWARD_V3, BACKWARD_HISTORY, 2, &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "new schema cannot read previous #1 of 2: field 'note' (reader) has no default "
                                   "and is absent in the writer");
    bl_compat_reasons_free(&reasons);
}

static void full_transitive_checks_both_ways_with_every_version(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_FULL, BACKWARD_V3, BACKWARD_HISTORY, 2, NULL, &err), 1);
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_FULL_TRANSITIVE, BACKWARD_V3, BACKWARD_HISTORY, 2, NULL, &err), 0);
}

static void forward_transitive_checks_every_previous_version(void)
{
    /* v2 gave 'note' a default and can read v3 without it; v1 cannot. */
    const char *const history[] = {
        RISK(F("id", STR) "," F("note", STR)),
        RISK(F("id", STR) "," FD("note", STR, "\"\"")),
    };
    const char *v3 = RISK(F("id", STR));
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_FORWARD, v3, history, 2, &reasons, &err), 1);
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_FORWARD_TRANSITIVE, v3, history, 2, &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "previous #1 of 2 cannot read the new schema: field 'note' (reader) has no "
                                   "default and is absent in the writer");
    bl_compat_reasons_free(&reasons);
}

static void first_version_and_none_mode_are_always_compatible(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_FULL_TRANSITIVE, BACKWARD_V3, NULL, 0, NULL, &err), 1);
    const char *previous[] = {RISK(F("count", "\"int\""))};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_NONE, RISK(F("count", STR)), previous, 1, NULL, &err), 1);
}

/* The topic envelope: data is a union of records, one per event type. */
#define ENVELOPE(data_fields) \
    "{\"type\":\"record\",\"name\":\"RiskEvent\",\"namespace\":\"busline.events.pmo\",\"fields\":[" \
    "{\"name\":\"id\",\"type\":\"string\"}," \
    "{\"name\":\"data\",\"type\":[{\"type\":\"record\",\"name\":\"RiskCreated\",\"fields\":[" \
    "{\"name\":\"risk_id\",\"type\":\"string\"}]}," \
    "{\"type\":\"record\",\"name\":\"RiskEscalated\",\"fields\":[" data_fields "]}]}]}"

static void reason_names_the_field_inside_the_data_union(void)
{
    const char *writer = ENVELOPE(F("risk_id", STR));
    const char *reader = ENVELOPE(F("risk_id", STR) ",{\"name\":\"severity\",\"type\":{\"type\":\"enum\","
                                                    "\"name\":\"Severity\",\"symbols\":[\"LOW\",\"HIGH\"]}}");
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(reader, writer, &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "field 'data.severity' (reader) has no default and is absent in the writer");
    bl_compat_reasons_free(&reasons);
    /* The other way round the extra writer field is simply skipped. */
    CHECK_EQ_INT(bl_compat_can_read(writer, reader, NULL, &err), 1);
}

static void reason_names_the_unknown_enum_symbol(void)
{
    const char *writer = "{\"type\":\"enum\",\"name\":\"Severity\",\"namespace\":\"busline\",\"symbols\":[\"LOW\","
                         "\"SEVERE\"]}";
    const char *reader = "{\"type\":\"enum\",\"name\":\"Severity\",\"namespace\":\"busline\",\"symbols\":[\"LOW\"]}";
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(reader, writer, &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0],
                 "enum busline.Severity: writer symbol 'SEVERE' unknown to the reader, which has no default");
    bl_compat_reasons_free(&reasons);
}

static void reason_names_both_types_of_a_mismatch(void)
{
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(RISK(F("tags", ARRAY(STR))), RISK(F("tags", ARRAY("\"int\""))), &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "field 'tags[]': writer type int cannot be read as string");
    bl_compat_reasons_free(&reasons);
    CHECK_EQ_INT(bl_compat_can_read("\"string\"", "[\"null\",\"string\"]", &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "top-level schema: writer type null cannot be read as string");
    bl_compat_reasons_free(&reasons);
    CHECK_EQ_INT(bl_compat_can_read("[\"null\",\"long\"]", "\"string\"", &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "top-level schema: no branch of the reader union can read writer type string");
    bl_compat_reasons_free(&reasons);
}

static void named_references_resolve_through_namespaces(void)
{
    /* The writer refers to the enum by fullname, the reader by short name. */
    const char *writer = RISK(F("now", ENUM("\"LOW\"")) "," F("before", "\"busline.Severity\""));
    const char *reader = RISK(F("now", ENUM("\"LOW\",\"HIGH\"")) "," F("before", "\"Severity\""));
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(reader, writer, &reasons, &err), 1);
    CHECK_EQ_INT(bl_compat_can_read(writer, reader, &reasons, &err), 0);
    /* Both fields use the enum, so both name the unknown symbol. */
    CHECK_EQ_INT(reasons.count, 2);
    bl_compat_reasons_free(&reasons);
}

#define LIST(extra) \
    "{\"type\":\"record\",\"name\":\"Node\",\"namespace\":\"busline.list\",\"fields\":[" \
    "{\"name\":\"value\",\"type\":\"int\"}," \
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}" extra "]}"

static void recursive_types_are_compared_without_looping(void)
{
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(LIST(""), LIST(""), &reasons, &err), 1);
    CHECK_EQ_INT(bl_compat_can_read(LIST(",{\"name\":\"tag\",\"type\":\"string\",\"default\":\"\"}"), LIST(""),
                                     &reasons, &err), 1);
    CHECK_EQ_INT(bl_compat_can_read(LIST(",{\"name\":\"tag\",\"type\":\"string\"}"), LIST(""), &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "field 'tag' (reader) has no default and is absent in the writer");
    bl_compat_reasons_free(&reasons);
}

static void record_name_mismatch_is_incompatible(void)
{
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    const char *other = "{\"type\":\"record\",\"name\":\"Decision\",\"namespace\":\"busline\",\"fields\":[]}";
    CHECK_EQ_INT(bl_compat_can_read(other, RISK(F("id", STR)), &reasons, &err), 0);
    REQUIRE(reasons.count == 1);
    CHECK_EQ_STR(reasons.items[0], "record busline.Decision (reader) does not match busline.Risk (writer) by name or alias");
    bl_compat_reasons_free(&reasons);
}

static void invalid_schemas_are_errors_not_verdicts(void)
{
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read("{\"type\":", "\"int\"", NULL, &err), -1);
    CHECK(strstr(err.msg, "reader schema: invalid JSON") != NULL);
    CHECK_EQ_INT(bl_compat_can_read("\"int\"", RISK(F("s", "\"Nowhere\"")), NULL, &err), -1);
    CHECK(strstr(err.msg, "writer schema") != NULL && strstr(err.msg, "unknown type 'Nowhere'") != NULL);
    const char *previous[] = {"not json"};
    CHECK_EQ_INT(bl_compat_check(BL_COMPAT_BACKWARD, "\"int\"", previous, 1, NULL, &err), -1);
    CHECK(strstr(err.msg, "previous #1 of 1") != NULL);
}

static void mode_names_round_trip(void)
{
    const bl_compat_mode all[] = {BL_COMPAT_NONE, BL_COMPAT_BACKWARD, BL_COMPAT_BACKWARD_TRANSITIVE,
                                  BL_COMPAT_FORWARD, BL_COMPAT_FORWARD_TRANSITIVE, BL_COMPAT_FULL,
                                  BL_COMPAT_FULL_TRANSITIVE};
    bl_err err = {0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        bl_compat_mode parsed;
        CHECK(bl_compat_mode_parse(bl_compat_mode_name(all[i]), &parsed, &err) == 0 && parsed == all[i]);
    }
    bl_compat_mode parsed;
    CHECK(bl_compat_mode_parse("full_transitive", &parsed, &err) == 0 && parsed == BL_COMPAT_FULL_TRANSITIVE);
    CHECK_EQ_INT(bl_compat_mode_parse("SIDEWAYS", &parsed, &err), -1);
    CHECK(strstr(err.msg, "SIDEWAYS") != NULL);
}

static void reasons_are_capped_and_joined(void)
{
    char reader[4096];
    size_t len = (size_t)snprintf(reader, sizeof reader,
                                  "{\"type\":\"record\",\"name\":\"Wide\",\"fields\":[");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(reader + len, sizeof reader - len, "%s{\"name\":\"f%d\",\"type\":\"int\"}",
                                i ? "," : "", i);
    snprintf(reader + len, sizeof reader - len, "]}");
    bl_compat_reasons reasons = {0};
    bl_err err = {0};
    CHECK_EQ_INT(bl_compat_can_read(reader, "{\"type\":\"record\",\"name\":\"Wide\",\"fields\":[]}", &reasons, &err), 0);
    CHECK_EQ_INT(reasons.count, BL_COMPAT_REASONS_MAX);
    CHECK_EQ_INT(reasons.dropped, 40 - BL_COMPAT_REASONS_MAX);
    char *joined = bl_compat_reasons_join(&reasons, "; ");
    REQUIRE(joined != NULL);
    const char *start = "field 'f0' (reader) has no default and is absent in the writer; field 'f1' ";
    CHECK(strncmp(joined, start, strlen(start)) == 0);
    free(joined);
    bl_compat_reasons_free(&reasons);
    CHECK_EQ_INT(reasons.count, 0);
}

int main(void)
{
    BL_RUN(compatibility_matrix_follows_the_avro_rules);
    BL_RUN(backward_transitive_checks_every_previous_version);
    BL_RUN(full_transitive_checks_both_ways_with_every_version);
    BL_RUN(forward_transitive_checks_every_previous_version);
    BL_RUN(first_version_and_none_mode_are_always_compatible);
    BL_RUN(reason_names_the_field_inside_the_data_union);
    BL_RUN(reason_names_the_unknown_enum_symbol);
    BL_RUN(reason_names_both_types_of_a_mismatch);
    BL_RUN(named_references_resolve_through_namespaces);
    BL_RUN(recursive_types_are_compared_without_looping);
    BL_RUN(record_name_mismatch_is_incompatible);
    BL_RUN(invalid_schemas_are_errors_not_verdicts);
    BL_RUN(mode_names_round_trip);
    BL_RUN(reasons_are_capped_and_joined);
    return bl_test_summary();
}
