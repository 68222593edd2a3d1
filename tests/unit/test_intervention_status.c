/* The intervention status machine (producers/fieldservice/status_machine.h):
 * every one of the 36 (from, to) pairs checked against the legal moves
 * written out here by name, independently of the table. */
#include "producers/fieldservice/status_machine.h"
#include "tests/support/test.h"

#include <string.h>

static const char *const legal[][2] = {
    {"SCHEDULED", "EN_ROUTE"},   {"SCHEDULED", "IN_PROGRESS"}, {"SCHEDULED", "CANCELLED"},
    {"EN_ROUTE", "IN_PROGRESS"}, {"EN_ROUTE", "ON_HOLD"},      {"EN_ROUTE", "CANCELLED"},
    {"IN_PROGRESS", "ON_HOLD"},  {"IN_PROGRESS", "COMPLETED"}, {"IN_PROGRESS", "CANCELLED"},
    {"ON_HOLD", "IN_PROGRESS"},  {"ON_HOLD", "CANCELLED"},
};

static bool listed_legal(const char *from, const char *to)
{
    for (size_t i = 0; i < sizeof legal / sizeof legal[0]; i++)
        if (strcmp(legal[i][0], from) == 0 && strcmp(legal[i][1], to) == 0)
            return true;
    return false;
}

static void every_pair_is_legal_exactly_when_listed(void)
{
    int allowed = 0;
    for (int f = 0; f < BL_INTERVENTION_STATUS_COUNT; f++) {
        for (int t = 0; t < BL_INTERVENTION_STATUS_COUNT; t++) {
            const char *from = bl_intervention_status_name(f), *to = bl_intervention_status_name(t);
            REQUIRE(from && to);
            bool want = listed_legal(from, to);
            char reason[160] = "untouched";
            int ok = bl_intervention_transition_check(f, t, reason, sizeof reason);
            CHECK_EQ_INT(ok, want ? 1 : 0);
            CHECK_EQ_INT(bl_intervention_transition_allowed(f, t), want);
            if (want)
                CHECK_EQ_STR(reason, "untouched");
            else
                CHECK(strstr(reason, from) && strstr(reason, "intervention"));
            allowed += ok;
        }
    }
    CHECK_EQ_INT(allowed, 11);
}

static void final_statuses_say_so_in_the_reason(void)
{
    char reason[160];
    CHECK(bl_intervention_status_is_final(BL_INTERVENTION_COMPLETED));
    CHECK(bl_intervention_status_is_final(BL_INTERVENTION_CANCELLED));
    CHECK(!bl_intervention_status_is_final(BL_INTERVENTION_ON_HOLD));
    CHECK_EQ_INT(bl_intervention_transition_check(BL_INTERVENTION_COMPLETED,
                                                  BL_INTERVENTION_IN_PROGRESS, reason,
                                                  sizeof reason), 0);
    CHECK_EQ_STR(reason, "intervention is COMPLETED, a final status: it cannot become IN_PROGRESS");
    CHECK_EQ_INT(bl_intervention_transition_check(BL_INTERVENTION_ON_HOLD, BL_INTERVENTION_ON_HOLD,
                                                  reason, sizeof reason), 0);
    CHECK_EQ_STR(reason, "intervention is already ON_HOLD");
    CHECK_EQ_INT(bl_intervention_transition_check(BL_INTERVENTION_SCHEDULED,
                                                  BL_INTERVENTION_COMPLETED, reason,
                                                  sizeof reason), 0);
    CHECK_EQ_STR(reason, "intervention cannot go from SCHEDULED to COMPLETED");
    CHECK_EQ_INT(bl_intervention_transition_check(BL_INTERVENTION_STATUS_COUNT,
                                                  BL_INTERVENTION_SCHEDULED, NULL, 0), 0);
}

static void names_and_french_statuses_parse(void)
{
    bl_intervention_status s;
    for (int i = 0; i < BL_INTERVENTION_STATUS_COUNT; i++) {
        CHECK_EQ_INT(bl_intervention_status_parse(bl_intervention_status_name(i), &s), 0);
        CHECK_EQ_INT(s, i);
    }
    CHECK_EQ_INT(bl_intervention_status_parse("scheduled", &s), -1);
    CHECK_EQ_INT(bl_intervention_status_parse(NULL, &s), -1);
    CHECK(bl_intervention_status_name(BL_INTERVENTION_STATUS_COUNT) == NULL);
    const struct { const char *fr, *avro; } map[] = {
        {"planifie", "SCHEDULED"}, {"en_cours", "IN_PROGRESS"},
        {"termine", "COMPLETED"},  {"annule", "CANCELLED"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        CHECK_EQ_INT(bl_intervention_status_from_french(map[i].fr, &s), 0);
        CHECK_EQ_STR(bl_intervention_status_name(s), map[i].avro);
    }
    CHECK_EQ_INT(bl_intervention_status_from_french("en_route", &s), -1);
    CHECK_EQ_INT(bl_intervention_status_from_french("SCHEDULED", &s), -1);
}

int main(void)
{
    BL_RUN(every_pair_is_legal_exactly_when_listed);
    BL_RUN(final_statuses_say_so_in_the_reason);
    BL_RUN(names_and_french_statuses_parse);
    return bl_test_summary();
}
