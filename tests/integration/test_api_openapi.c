/* /v1/openapi.json and /api/openapi.json (one document per surface) are
 * valid OpenAPI 3.1 (checked by @readme/openapi-parser
 * from the npm registry, installed by scripts/setup into tests/tools), holds
 * the command routes with their Avro-derived bodies, and every route in it is
 * answered by the server (never 404 or 405). Also /v1/usage and /v1/metrics
 * after N requests. */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bl_test_api api;

static const char *const documents[] = {"/v1/openapi.json", "/api/openapi.json"};

static void check_document_is_valid_3_1(const char *url)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", url, NULL, NULL, NULL, &r) == 200);
    CHECK_EQ_STR(json_string_value(json_object_get(r.json, "openapi")), "3.1.0");
    char path[] = "/tmp/busline-openapi-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    CHECK(write(fd, r.body, strlen(r.body)) == (ssize_t)strlen(r.body));
    close(fd);
    char cmd[1024], line[4096] = "";
    snprintf(cmd, sizeof cmd, "node %s/tests/tools/validate_openapi.mjs %s 2>&1", BUSLINE_SOURCE_DIR, path);
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    size_t n = fread(line, 1, sizeof line - 1, p);
    line[n] = '\0';
    int status = pclose(p);
    if (status != 0)
        fprintf(stderr, "  validator: %s\n", line);
    CHECK_EQ_INT(status, 0);
    CHECK(strncmp(line, "valid:", 6) == 0);
    unlink(path);
    bl_test_reply_clear(&r);
}

static void openapi_documents_are_valid_3_1(void)
{
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++)
        check_document_is_valid_3_1(documents[i]);
}

static void each_document_holds_its_own_surface(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/api/openapi.json", NULL, NULL, NULL, &r) == 200);
    const char *templ;
    json_t *item;
    json_object_foreach(json_object_get(r.json, "paths"), templ, item)
        CHECK(strncmp(templ, "/api/", 5) == 0);
    CHECK(json_object_get(json_object_get(json_object_get(json_object_get(r.json, "components"), "schemas"), "Error"),
                          "properties") != NULL);
    CHECK(json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(r.json, "components"),
                                                                          "schemas"),
                                                          "Error"),
                                          "properties"),
                          "error_code") != NULL);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/openapi.json", NULL, NULL, NULL, &r) == 200);
    json_object_foreach(json_object_get(r.json, "paths"), templ, item)
        CHECK(strncmp(templ, "/api/", 5) != 0);
    bl_test_reply_clear(&r);
}

static void openapi_has_command_routes_with_avro_bodies(void)
{
    bl_test_reply r;
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/openapi.json", NULL, NULL, NULL, &r) == 200);
    json_t *paths = json_object_get(r.json, "paths");
    const char *expect[][2] = {{"/v1/risks", "post"},
                               {"/v1/risks/{id}/resolve", "put"},
                               {"/v1/decisions/{id}/approve", "put"},
                               {"/v1/decisions/{id}/reject", "put"},
                               {"/v1/interventions/{id}/change-status", "post"},
                               {"/v1/reports/generate", "post"},
                               {"/v1/clients/{id}", "delete"},
                               {"/v1/projects", "get"},
                               {"/v1/usage", "get"},
                               {"/v1/api-keys", "post"}};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        if (!json_object_get(json_object_get(paths, expect[i][0]), expect[i][1]))
            fprintf(stderr, "  missing %s %s\n", expect[i][1], expect[i][0]);
        CHECK(json_object_get(json_object_get(paths, expect[i][0]), expect[i][1]) != NULL);
    }
    json_t *risk = json_object_get(json_object_get(json_object_get(r.json, "components"), "schemas"),
                                   "busline.commands.pmo.CreateRisk");
    REQUIRE(risk);
    CHECK(json_object_get(json_object_get(risk, "properties"), "severity") != NULL);
    json_t *sev = json_object_get(json_object_get(json_object_get(r.json, "components"), "schemas"),
                                  "busline.commands.pmo.Severity");
    CHECK_EQ_INT((int)json_array_size(json_object_get(sev, "enum")), 4);
    CHECK(json_object_get(json_object_get(json_object_get(r.json, "components"), "securitySchemes"), "apiKey"));
    bl_test_reply_clear(&r);
}

/* "/v1/risks/{id}/resolve" -> "/v1/risks/x-1/resolve" */
static void concrete_path(const char *templ, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = templ; *p && o + 8 < len; p++) {
        if (*p == '{') {
            o += (size_t)snprintf(out + o, len - o, "x-1");
            p = strchr(p, '}');
            if (!p)
                break;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Returns how many routes of the document at url were called. */
static int check_every_route_of(const char *url)
{
    bl_test_reply r;
    if (bl_test_api_call(&api, "GET", url, NULL, NULL, NULL, &r) != 200) {
        fprintf(stderr, "  %s: %ld\n", url, r.status);
        bl_test_failures++;
        bl_test_reply_clear(&r);
        return 0;
    }
    const char *templ;
    json_t *item;
    int checked = 0;
    json_object_foreach(json_object_get(r.json, "paths"), templ, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            char path[512], upper[16];
            concrete_path(templ, path, sizeof path);
            snprintf(upper, sizeof upper, "%s", method);
            for (char *c = upper; *c; c++)
                *c = (char)(*c - 'a' + 'A');
            bl_test_reply a;
            long status = bl_test_api_call(&api, upper, path, api.admin_token, NULL, "{}", &a);
            int not_found_route = status == 405 || (status == 404 && strstr(a.body, "no such path"));
            if (status == 0 || not_found_route)
                fprintf(stderr, "  %s %s -> %ld %s\n", upper, path, status, a.body);
            CHECK(status != 0 && status != 405 && !not_found_route);
            checked++;
            bl_test_reply_clear(&a);
        }
    }
    bl_test_reply_clear(&r);
    return checked;
}

static void every_documented_route_is_answered(void)
{
    CHECK(check_every_route_of(documents[0]) > 40);
    CHECK(check_every_route_of(documents[1]) >= 1);
}

static void usage_counts_requests_of_the_organization(void)
{
    bl_test_reply r;
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects", api.write_token, NULL, NULL, &r), 200);
        bl_test_reply_clear(&r);
    }
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects?limit=0", api.write_token, NULL, NULL, &r),
                     400);
        bl_test_reply_clear(&r);
    }
    /* the other organization's requests never count here */
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/projects", api.other_token, NULL, NULL, &r), 200);
    bl_test_reply_clear(&r);
    bl_err err = {0};
    CHECK_EQ_INT(bl_api_server_flush_requests(api.server, &err), 0);
    /* the usage request itself is logged after it answers, so it is not counted */
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/usage?days=1", api.write_token, NULL, NULL, &r) == 200);
    json_t *u = r.json;
    json_int_t before_total = json_integer_value(json_object_get(u, "total_requests"));
    CHECK(before_total >= 8);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(u, "failed_requests")),
                 (int)(json_integer_value(json_object_get(u, "total_requests")) -
                       json_integer_value(json_object_get(u, "successful_requests"))));
    json_t *top = json_array_get(json_object_get(u, "top_endpoints"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(top, "endpoint")), "/v1/projects");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(top, "requests")), 8);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(top, "failed")), 3);
    CHECK(json_is_number(json_object_get(u, "success_rate")));
    CHECK(json_is_number(json_object_get(u, "avg_duration_ms")));
    CHECK_EQ_INT((int)json_integer_value(json_object_get(u, "period_days")), 1);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_api_call(&api, "GET", "/v1/usage?days=0", api.write_token, NULL, NULL, &r), 400);
    bl_test_reply_clear(&r);
    REQUIRE(bl_test_api_call(&api, "GET", "/v1/metrics", api.other_token, NULL, NULL, &r) == 200);
    CHECK(json_integer_value(json_object_get(r.json, "requests_last_24h")) >= 1);
    CHECK(json_integer_value(json_object_get(r.json, "requests_last_24h")) < before_total);
    CHECK(json_is_integer(json_object_get(r.json, "open_risks")));
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_api_start(&api, 0) == 0) {
        BL_RUN(usage_counts_requests_of_the_organization); /* first: it counts requests */
        BL_RUN(openapi_documents_are_valid_3_1);
        BL_RUN(each_document_holds_its_own_surface);
        BL_RUN(openapi_has_command_routes_with_avro_bodies);
        BL_RUN(every_documented_route_is_answered);
    } else {
        bl_test_failures++;
    }
    bl_test_api_stop(&api);
    curl_global_cleanup();
    return bl_test_summary();
}
