/* The SmartLeakPro webhook body: the document's event names and French
 * fields, its byte-stable serialization, and conditions translated to the
 * bus's fields (then matched by the shared event filter). */
#include "connectors/webhook/workers/smartleakpro_payload.h"
#include "consumers/event_filter.h"
#include "tests/support/test.h"

#include <stdlib.h>

static json_t *created_envelope(const char *status)
{
    return json_pack("{s:s, s:I, s:s, s:s, s:{s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:I,"
                     " s:s}}",
                     "type", "intervention.created", "time", (json_int_t)1704103200000LL, "organization_id",
                     "org_1", "subject", "int-1", "data", "intervention_id", "int-1", "client_id", "cli-1", "title",
                     "Fuite cuisine", "description", "status", status, "technician_id", "tech-7", "technician_name",
                     "Marie", "site_address", "street", "1 rue Haute", "postal_code", "75001", "city", "Paris",
                     "country", "FR", "scheduled_at", (json_int_t)1704189600000LL, "intervention_type",
                     "detection_fuite");
}

static void intervention_created_reads_as_the_document(void)
{
    json_t *env = created_envelope("SCHEDULED");
    size_t len = 0;
    bl_err err = {0};
    char *body = bl_slp_payload_build(env, &len, &err);
    REQUIRE(body);
    CHECK_EQ_INT(len, strlen(body));
    json_error_t jerr;
    json_t *j = json_loads(body, 0, &jerr);
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "type")), "intervention_created");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "timestamp")), "2024-01-01T10:00:00Z");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "resource_id")), "int-1");
    json_t *data = json_object_get(j, "data");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "id")), "int-1");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "client_id")), "cli-1");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "statut")), "planifie");
    /* as the /api surface answers the same intervention: the technician's
     * id, the address without the implied FR, times in whole seconds */
    CHECK_EQ_STR(json_string_value(json_object_get(data, "technicien_assigné")), "tech-7");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "lieu")), "1 rue Haute, 75001 Paris");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "date_intervention")), "2024-01-02T10:00:00Z");
    CHECK(json_is_null(json_object_get(data, "description")));
    CHECK_EQ_STR(json_string_value(json_object_get(data, "type_intervention")) ?: "", "detection_fuite");
    /* the top level in the document's order, and the same bytes each time */
    CHECK(strncmp(body, "{\"type\":\"intervention_created\",\"timestamp\":", 43) == 0);
    size_t len2 = 0;
    char *again = bl_slp_payload_build(env, &len2, &err);
    REQUIRE(again);
    CHECK_EQ_STR(again, body);
    free(again);
    free(body);
    json_decref(j);
    json_decref(env);
}

/* An address abroad keeps its country; one without postal code and city
 * is its street alone (the /api surface's BL_FSAPI_ADDRESS_SQL); a time as
 * text is written like one in epoch ms. */
static void lieu_reads_as_the_api_writes_it(void)
{
    json_t *env = created_envelope("SCHEDULED");
    json_t *site = json_object_get(json_object_get(env, "data"), "site_address");
    json_object_set_new(site, "country", json_string("BE"));
    size_t len = 0;
    bl_err err = {0};
    char *body = bl_slp_payload_build(env, &len, &err);
    REQUIRE(body);
    json_t *j = json_loads(body, 0, NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "data"), "lieu")) ?: "",
                 "1 rue Haute, 75001 Paris, BE");
    json_decref(j);
    free(body);
    /* a time decoded as text reads the same as one in epoch ms */
    json_object_set_new(json_object_get(env, "data"), "scheduled_at", json_string("2024-01-02T10:00:00.250Z"));
    json_object_set_new(site, "postal_code", json_string(""));
    json_object_set_new(site, "country", json_string("FR"));
    REQUIRE((body = bl_slp_payload_build(env, &len, &err)));
    j = json_loads(body, 0, NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "data"), "lieu")) ?: "", "1 rue Haute");
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "data"), "date_intervention")) ?: "",
                 "2024-01-02T10:00:00Z");
    json_decref(j);
    free(body);
    json_decref(env);
}

static void rapport_generated_names_its_template_and_size(void)
{
    json_t *env = json_pack("{s:s, s:I, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:n,"
                            " s:s, s:s, s:I}}",
                            "type", "report.generated", "time", (json_int_t)1704103200000LL,
                            "organization_id", "org_1", "subject", "rap-1", "data", "report_id", "rap-1",
                            "intervention_id", "int-1", "client_id", "cli-1", "title", "Rapport inspection",
                            "format", "PDF", "url", "/api/rapports/rap-1/download", "technician_id",
                            "summary", "signed_by", "report_type", "inspection", "template", "default",
                            "size_bytes", (json_int_t)23456);
    size_t len = 0;
    bl_err err = {0};
    char *body = bl_slp_payload_build(env, &len, &err);
    REQUIRE(body);
    json_t *j = json_loads(body, 0, NULL);
    json_t *data = json_object_get(j, "data");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "type")), "rapport_generated");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "resource_id")), "rap-1");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "format")), "pdf");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "type_rapport")), "inspection");
    CHECK_EQ_STR(json_string_value(json_object_get(data, "template")), "default");
    CHECK_EQ_INT(json_integer_value(json_object_get(data, "taille")), 23456);
    json_decref(j);
    free(body);
    json_decref(env);
}

static void every_documented_event_has_its_bus_type(void)
{
    for (size_t i = 0; bl_slp_doc_types[i]; i++) {
        const char *bus = bl_slp_bus_type(bl_slp_doc_types[i]);
        REQUIRE(bus);
        CHECK_EQ_STR(bl_slp_doc_type(bus), bl_slp_doc_types[i]);
    }
    CHECK_EQ_STR(bl_slp_bus_type("rapport_generated"), "report.generated");
    CHECK(bl_slp_doc_type("intervention.deleted") == NULL);
    CHECK(bl_slp_bus_type("intervention.created") == NULL);
}

static void an_event_the_document_does_not_name_is_refused(void)
{
    json_t *env = json_pack("{s:s, s:I, s:{}}", "type", "intervention.deleted", "time", (json_int_t)0, "data");
    size_t len;
    bl_err err = {0};
    CHECK(bl_slp_payload_build(env, &len, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    json_decref(env);
}

static void conditions_on_statut_match_the_bus_status(void)
{
    json_t *conds = json_loads("[{\"field\":\"data.statut\",\"operator\":\"equals\",\"value\":\"en_cours\"}]", 0, NULL);
    bl_err err = {0};
    json_t *bus = bl_slp_conditions_to_bus("intervention_created", conds, &err);
    REQUIRE(bus);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(bus, 0), "field")), "data.status");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(bus, 0), "value")), "IN_PROGRESS");
    bl_event_filter *f = bl_event_filter_new(bus, &err);
    REQUIRE(f);
    json_t *in_progress = created_envelope("IN_PROGRESS"), *scheduled = created_envelope("SCHEDULED");
    CHECK(bl_event_filter_matches(f, in_progress));
    CHECK(!bl_event_filter_matches(f, scheduled));
    bl_event_filter_free(f);
    json_decref(in_progress);
    json_decref(scheduled);
    json_decref(bus);
    json_decref(conds);
}

static void conditions_with_unknown_fields_or_words_are_refused(void)
{
    bl_err err = {0};
    json_t *c1 = json_loads("[{\"field\":\"data.couleur\",\"operator\":\"equals\",\"value\":\"x\"}]", 0, NULL);
    CHECK(bl_slp_conditions_to_bus("intervention_created", c1, &err) == NULL);
    CHECK(strstr(err.msg, "condition 1"));
    json_t *c2 = json_loads("[{\"field\":\"data.statut\",\"operator\":\"in\",\"value\":[\"en_cours\",\"fini\"]}]", 0, NULL);
    CHECK(bl_slp_conditions_to_bus("intervention_created", c2, &err) == NULL);
    CHECK(bl_slp_conditions_to_bus("no_such_event", NULL, &err) == NULL);
    json_decref(c1);
    json_decref(c2);
}

int main(void)
{
    BL_RUN(intervention_created_reads_as_the_document);
    BL_RUN(lieu_reads_as_the_api_writes_it);
    BL_RUN(every_documented_event_has_its_bus_type);
    BL_RUN(rapport_generated_names_its_template_and_size);
    BL_RUN(an_event_the_document_does_not_name_is_refused);
    BL_RUN(conditions_on_statut_match_the_bus_status);
    BL_RUN(conditions_with_unknown_fields_or_words_are_refused);
    return bl_test_summary();
}
