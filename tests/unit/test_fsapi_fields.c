/* The field-service surface's field readers: the document's one-string
 * address split into the domain's record (and the cases left whole, so the
 * rendering gives the text back), and dates or datetimes of its queries. */
#include "api/fieldservice/fs_api.h"
#include "api/surface_fields.h"
#include "tests/support/test.h"

#include <string.h>

static void check_address(const char *text, const char *street, const char *code, const char *city,
                          const char *country)
{
    bl_fsapi_address a;
    bl_fsapi_address_parse(text, &a);
    CHECK_EQ_STR(a.street, street);
    CHECK_EQ_STR(a.postal_code, code);
    CHECK_EQ_STR(a.city, city);
    CHECK_EQ_STR(a.country, country);
}

static void address_with_postal_code_and_city_is_split(void)
{
    check_address("12 rue de la Paix, 75002 Paris", "12 rue de la Paix", "75002", "Paris", "FR");
    check_address("Bât. B, 3 allée Verte, 69006 Lyon", "Bât. B, 3 allée Verte", "69006", "Lyon", "FR");
    check_address("8 rue Sud, 13001 Marseille, ES", "8 rue Sud", "13001", "Marseille", "ES");
    check_address("1 Main St, SW1A-1AA London, GB", "1 Main St", "SW1A-1AA", "London", "GB");
    check_address("Rue X, 1000 Saint-Gilles Bruxelles", "Rue X", "1000", "Saint-Gilles Bruxelles", "FR");
}

static void other_text_stays_the_street(void)
{
    check_address("Zone artisanale", "Zone artisanale", "", "", "FR");
    check_address("12 rue de la Paix, Paris", "12 rue de la Paix, Paris", "", "", "FR");
    check_address("A, 75001 Paris, FR", "A, 75001 Paris, FR", "", "", "FR"); /* FR is implied: kept whole */
    check_address("A, ABC Paris", "A, ABC Paris", "", "", "FR");                /* no digit: no postal code */
    check_address("A, 75001", "A, 75001", "", "", "FR");                        /* no city */
    check_address("Chemin du Lac, DE", "Chemin du Lac", "", "", "DE");
    check_address("", "", "", "", "FR");
}

static void dates_and_datetimes_parse(void)
{
    int64_t ms = 0;
    CHECK(bl_fsapi_parse_when("2024-01-01", false, &ms) == 0);
    CHECK_EQ_INT(ms, 1704067200000LL);
    CHECK(bl_fsapi_parse_when("2024-01-01", true, &ms) == 0);
    CHECK_EQ_INT(ms, 1704067200000LL + 86400000 - 1);
    CHECK(bl_fsapi_parse_when("2024-01-01T10:00:00Z", false, &ms) == 0);
    CHECK_EQ_INT(ms, 1704103200000LL);
    CHECK(bl_fsapi_parse_when("2024-01-01T10:00:00", false, &ms) == 0);
    CHECK_EQ_INT(ms, 1704103200000LL);
    CHECK(bl_fsapi_parse_when("2024-01-01T12:00:00+02:00", false, &ms) == 0);
    CHECK_EQ_INT(ms, 1704103200000LL);
    CHECK(bl_fsapi_parse_when("2024-02-31", false, &ms) != 0);
    CHECK(bl_fsapi_parse_when("2024-13-01", false, &ms) != 0);
    CHECK(bl_fsapi_parse_when("demain", false, &ms) != 0);
    CHECK(bl_fsapi_parse_when("", false, &ms) != 0);
}

static void like_patterns_escape_wildcards(void)
{
    char out[32];
    CHECK(bl_api_like_pattern("50%_a\\b", out, sizeof out) == 0);
    CHECK_EQ_STR(out, "%50\\%\\_a\\\\b%");
    CHECK(bl_api_like_pattern("0123456789012345678901234567890", out, sizeof out) != 0);
}

int main(void)
{
    BL_RUN(address_with_postal_code_and_city_is_split);
    BL_RUN(other_text_stays_the_street);
    BL_RUN(dates_and_datetimes_parse);
    BL_RUN(like_patterns_escape_wildcards);
    return bl_test_summary();
}
