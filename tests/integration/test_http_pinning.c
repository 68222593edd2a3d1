/* The HTTP client connects to the address it was told to pin (the SSRF
 * guard's checked answer), not to what the name resolves to later. */
#include "core/http_client.h"
#include "core/http_server.h"
#include "tests/support/test.h"

static int answer_ok(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    (void)req;
    (void)ctx;
    return bl_http_response_body_copy(resp, "pinned", 6, "text/plain");
}

static long fetch(const char *url, const char *resolve, bl_http_sync_result *r)
{
    bl_http_call call = {.url = url, .resolve = resolve, .timeout_ms = 5000};
    bl_err err = {0};
    return bl_http_request_sync(&call, NULL, r, &err) == 0 ? r->status : -1;
}

static void request_goes_to_the_pinned_address_only(void)
{
    bl_err err = {0};
    /* 127.0.0.3 is loopback too, but "localhost" never resolves to it. */
    bl_http_server_config cfg = {.host = "127.0.0.3", .port = 0};
    bl_http_server *s = bl_http_server_new(&cfg, &err);
    REQUIRE(s);
    REQUIRE(bl_http_server_route(s, "GET", "/where", answer_ok, NULL, &err) == 0);
    REQUIRE(bl_http_server_start(s, &err) == 0);
    unsigned port = bl_http_server_port(s);
    char url[128], pin[128];
    snprintf(url, sizeof url, "http://localhost:%u/where", port);
    snprintf(pin, sizeof pin, "localhost:%u:127.0.0.3", port);

    bl_http_sync_result r = {0};
    CHECK_EQ_INT(fetch(url, pin, &r), 200);
    CHECK_EQ_STR(r.body, "pinned");
    bl_http_sync_result_clear(&r);

    bl_http_sync_result unpinned = {0};
    CHECK(fetch(url, NULL, &unpinned) != 200);
    CHECK(unpinned.transport == BL_HTTP_TRANSPORT_REFUSED);
    bl_http_sync_result_clear(&unpinned);

    bl_http_server_stop(s);
    bl_http_server_free(s);
}

int main(void)
{
    BL_RUN(request_goes_to_the_pinned_address_only);
    return bl_test_summary();
}
