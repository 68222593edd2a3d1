/* Command types map to routes by a small naming table: plurals, the
 * create/update/delete shapes, the state verbs and any other verb. */
#include "api/command_routes.h"
#include "tests/support/test.h"

static void check_route(const char *type, const char *method, const char *pattern, bool has_id)
{
    bl_api_command_route r;
    REQUIRE(bl_api_command_route_of(type, &r) == 0);
    CHECK_EQ_STR(r.method, method);
    CHECK_EQ_STR(r.pattern, pattern);
    CHECK(r.has_id == has_id);
}

static void crud_verbs_map_to_collection_and_item_routes(void)
{
    check_route("risk.create", "POST", "/v1/risks", false);
    check_route("risk.update", "PUT", "/v1/risks/:id", true);
    check_route("risk.delete", "DELETE", "/v1/risks/:id", true);
    check_route("report.generate", "POST", "/v1/reports/generate", false);
}

static void state_verbs_and_other_verbs_get_their_own_segment(void)
{
    check_route("risk.resolve", "PUT", "/v1/risks/:id/resolve", true);
    check_route("decision.approve", "PUT", "/v1/decisions/:id/approve", true);
    check_route("decision.reject", "PUT", "/v1/decisions/:id/reject", true);
    check_route("intervention.change_status", "POST", "/v1/interventions/:id/change-status", true);
}

static void plurals_follow_english_spelling(void)
{
    check_route("company.create", "POST", "/v1/companies", false);
    check_route("day.create", "POST", "/v1/days", false);
    check_route("box.create", "POST", "/v1/boxes", false);
    check_route("match.create", "POST", "/v1/matches", false);
    check_route("status.create", "POST", "/v1/statuses", false);
}

static void malformed_types_have_no_route(void)
{
    bl_api_command_route r;
    CHECK(bl_api_command_route_of("risk", &r) == -1);
    CHECK(bl_api_command_route_of(".create", &r) == -1);
    CHECK(bl_api_command_route_of("risk.", &r) == -1);
    CHECK(bl_api_command_route_of("a.b.c", &r) == -1);
    CHECK(bl_api_command_route_of(NULL, &r) == -1);
}

int main(void)
{
    BL_RUN(crud_verbs_map_to_collection_and_item_routes);
    BL_RUN(state_verbs_and_other_verbs_get_their_own_segment);
    BL_RUN(plurals_follow_english_spelling);
    BL_RUN(malformed_types_have_no_route);
    return bl_test_summary();
}
