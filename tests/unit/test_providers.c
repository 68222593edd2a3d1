/* The provider table is the one list of SaaS providers: the loader's
 * built-ins and the OAuth providers are its rows, in its order. */
#include "connectors/loader.h"
#include "connectors/providers.h"
#include "tests/support/test.h"

#include <string.h>

static void every_row_is_a_builtin_and_an_oauth_provider(void)
{
    REQUIRE(bl_saas_provider_count() > 0);
    for (size_t i = 0; i < bl_saas_provider_count(); i++) {
        const bl_saas_provider *p = bl_saas_provider_at(i);
        REQUIRE(p != NULL);
        CHECK_EQ_STR(bl_connector_builtin_name(i), p->oauth.name);
        CHECK(bl_oauth_provider_at(i) == &p->oauth);
        CHECK(bl_oauth_provider_find(p->oauth.name) == &p->oauth);
        CHECK(p->label && *p->label && p->oauth.type && *p->oauth.type);
        bl_err err = {0};
        bl_connector_lib *lib = bl_connector_open(p->oauth.name, NULL, &err);
        CHECK(lib != NULL);
        if (lib)
            CHECK_EQ_STR(bl_connector_lib_table(lib)->name, p->oauth.name);
        bl_connector_lib_close(lib);
    }
}

static void the_lists_end_together(void)
{
    size_t n = bl_saas_provider_count();
    CHECK(bl_saas_provider_at(n) == NULL);
    CHECK(bl_connector_builtin_name(n) == NULL);
    CHECK(bl_oauth_provider_at(n) == NULL);
    CHECK(bl_saas_provider_find("myspace") == NULL);
}

int main(void)
{
    BL_RUN(every_row_is_a_builtin_and_an_oauth_provider);
    BL_RUN(the_lists_end_together);
    return bl_test_summary();
}
