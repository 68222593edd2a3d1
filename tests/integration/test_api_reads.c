/* Reads of the read model through the API: pagination, sort, filters,
 * details, bad parameters, and organization isolation (rows of another
 * organization are never listed nor found). */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

static bl_test_api api;

static int seed(void)
{
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(api.pool, 5000, &err);
    if (!conn)
        return -1;
    int rc = 0;
    for (int i = 0; i < 7 && rc == 0; i++) {
        char id[16], name[32], progress[8];
        snprintf(id, sizeof id, "p-%d", i);
        snprintf(name, sizeof name, "Project %c", 'A' + i);
        snprintf(progress, sizeof progress, "%d", i * 10);
        const char *status = i % 3 == 0 ? "RED" : "GREEN";
        const char *p[] = {api.org, id, name, status, progress};
        rc = bl_pg_exec_cmd(conn,
                            "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id, status,"
                            " progress, budget_cents, currency) VALUES ($1, $2, $3, 'o-1', $4, $5::int, 100, 'EUR')",
                            5, p, &err);
    }
    const char *other[] = {api.other_org};
    if (rc == 0)
        rc = bl_pg_exec_cmd(conn,
                            "INSERT INTO pmo_projects (organization_id, project_id, name, owner_id, status,"
                            " budget_cents, currency) VALUES ($1, 'p-secret', 'Secret', 'o-9', 'RED', 1, 'EUR')",
                            1, other, &err);
    const char *org[] = {api.org};
    if (rc == 0)
        rc = bl_pg_exec_cmd(conn,
                            "INSERT INTO pmo_risks (organization_id, risk_id, project_id, title, description,"
                            " severity, probability, impact) VALUES"
                            " ($1, 'r-1', 'p-1', 'a', 'd', 'HIGH', 10, 10),"
                            " ($1, 'r-2', 'p-1', 'b', 'd', 'LOW', 20, 10),"
                            " ($1, 'r-3', 'p-2', 'c', 'd', 'HIGH', 30, 10)",
                            1, org, &err);
    bl_pg_pool_release(api.pool, conn);
    if (rc != 0)
        fprintf(stderr, "  seed: %s\n", err.msg);
    return rc;
}

static json_int_t pagination(const bl_test_reply *r, const char *field)
{
    return json_integer_value(json_object_get(json_object_get(r->json, "pagination"), field));
}

static void lists_paginate_with_total_and_has_more(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects?limit=3&offset=0&sort=name.asc", api.write_token, NULL,
                             NULL, &r) == 200);
    CHECK_EQ_INT((int)json_array_size(json_object_get(r.json, "data")), 3);
    CHECK_EQ_INT((int)pagination(&r, "total"), 7);
    CHECK_EQ_INT((int)pagination(&r, "limit"), 3);
    CHECK(json_is_true(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    json_t *first = json_array_get(json_object_get(r.json, "data"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(first, "name")), "Project A");
    CHECK(json_object_get(first, "organization_id") == NULL);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects?limit=3&offset=6&sort=name.asc", api.write_token, NULL,
                             NULL, &r) == 200);
    CHECK_EQ_INT((int)json_array_size(json_object_get(r.json, "data")), 1);
    CHECK(json_is_false(json_object_get(json_object_get(r.json, "pagination"), "has_more")));
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects", api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT((int)pagination(&r, "limit"), 50);
    bl_test_reply_clear(&r);
}

static void sort_descending_and_filters_apply(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects?sort=progress.desc&rag_status=RED", api.write_token,
                             NULL, NULL, &r) == 200);
    json_t *data = json_object_get(r.json, "data");
    CHECK_EQ_INT((int)json_array_size(data), 3); /* p-0, p-3, p-6 */
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data, 0), "project_id")), "p-6");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(data, 2), "project_id")), "p-0");
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/risks?severity=HIGH&project_id=p-1", api.write_token, NULL,
                             NULL, &r) == 200);
    CHECK_EQ_INT((int)pagination(&r, "total"), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0),
                                                   "risk_id")),
                 "r-1");
    bl_test_reply_clear(&r);
}

static void bad_parameters_are_400_with_field_errors(void)
{
    const char *bad[] = {"/v1/projects?limit=0", "/v1/projects?limit=abc", "/v1/projects?offset=-1",
                         "/v1/projects?sort=owner_secret.asc", "/v1/projects?sort=name.sideways",
                         "/v1/risks?sort=name"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bl_test_reply r;
        CHECK_EQ_INT(bl_test_api_call(&api, "GET", bad[i], api.write_token, NULL, NULL, &r), 400);
        CHECK(json_object_size(json_object_get(json_object_get(r.json, "error"), "field_errors")) == 1);
        CHECK_EQ_STR(bl_test_reply_error_code(&r), "bad_request");
        bl_test_reply_clear(&r);
    }
    /* over the maximum is answered with the maximum, which the page says */
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects?limit=101", api.write_token, NULL, NULL, &r), 200);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(r.json, "pagination"), "limit")), 100);
    bl_test_reply_clear(&r);
}

static void other_organization_rows_are_never_read(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects?limit=100", api.write_token, NULL, NULL, &r) == 200);
    CHECK(strstr(r.body, "p-secret") == NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects/p-secret", api.write_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects", api.other_token, NULL, NULL, &r) == 200);
    CHECK_EQ_INT((int)pagination(&r, "total"), 1);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects/p-1", api.other_token, NULL, NULL, &r), 404);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/projects/p-1", api.write_token, NULL, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(r.json, "data"), "name")), "Project B");
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects", NULL, NULL, NULL, &r), 401);
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0 && seed() == 0) {
        BL_RUN(lists_paginate_with_total_and_has_more);
        BL_RUN(sort_descending_and_filters_apply);
        BL_RUN(bad_parameters_are_400_with_field_errors);
        BL_RUN(other_organization_rows_are_never_read);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
