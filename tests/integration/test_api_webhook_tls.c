/* The transport settings through the API on a fresh database
 * (tests/support/webhook_api_fixture.h): a webhook's "tls" is checked on
 * save (a key that is not the certificate's, a PEM that does not parse: 422
 * field_errors.tls), answered as the certificates' fingerprint, subject and
 * expiry and never the key, kept by an update that does not mention it and
 * removed by "tls": null; the organization's egress proxy is an http(s) URL
 * that passes the SSRF guard, shown to the organization only, and removed by
 * DELETE. Deliveries over TLS and the proxy are in test_webhook_tls.c. */
#include "tests/support/api_fixture.h"
#include "tests/support/test.h"
#include "tests/support/tls_certs.h"
#include "tests/support/webhook_api_fixture.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_certs certs;

/* A create body for the sink with tls (JSON text, may be "null"). */
static char *body_with_tls(const char *tls)
{
    char url[256];
    bl_test_wh_sink_url(url, sizeof url);
    json_t *t = json_loads(tls, JSON_DECODE_ANY, NULL);
    json_t *b = json_pack("{s:s, s:s, s:[s], s:o}", "name", "mtls", "url", url, "events", "risk.*", "tls", t);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return text;
}

static char *tls_json(const char *cert, const char *key, const char *ca)
{
    json_t *t = json_object();
    if (cert)
        json_object_set_new(t, "clientCertificate", json_string(cert));
    if (key)
        json_object_set_new(t, "clientKey", json_string(key));
    if (ca)
        json_object_set_new(t, "caCertificate", json_string(ca));
    char *text = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    return text;
}

static void expect_tls_refused(const char *cert, const char *key, const char *ca, const char *needle)
{
    char *tls = tls_json(cert, key, ca);
    char *body = body_with_tls(tls);
    bl_test_wh_expect_field_error(body, "tls", needle);
    free(body);
    free(tls);
}

static void tls_is_checked_shown_without_the_key_and_cleared(void)
{
    expect_tls_refused(certs.client, certs.other_key, certs.ca, "not the key of clientCertificate");
    expect_tls_refused(certs.client, NULL, NULL, "go together");
    expect_tls_refused(NULL, NULL, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                       "caCertificate is not a PEM certificate");
    expect_tls_refused(certs.client, "not a key", NULL, "clientKey is not an unencrypted PEM private key");

    char *tls = tls_json(certs.client, certs.client_key, certs.ca);
    char *body = body_with_tls(tls);
    bl_test_reply r;
    REQUIRE(bl_test_wh_call("POST", "/v1/webhooks", bl_test_wh.admin, body, &r) == 201);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", bl_test_wh_str(r.json, "id"));
    CHECK(!strstr(r.body, "PRIVATE KEY") && !strstr(r.body, "clientKey"));
    const json_t *t = json_object_get(r.json, "tls");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(t, "clientCertificate"), "fingerprint_sha256"),
                 certs.client_fingerprint);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(t, "clientCertificate"), "subject"), "CN=busline-client");
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(t, "caCertificate"), "subject"), "CN=busline-test-ca");
    bl_test_reply_clear(&r);

    /* an update of something else keeps it; null removes it */
    snprintf(path, sizeof path, "/v1/webhooks/%s", id);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"timeout_ms\":2000}", &r), 200);
    CHECK(json_is_object(json_object_get(json_object_get(r.json, "tls"), "clientCertificate")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK(!strstr(r.body, "PRIVATE KEY"));
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(json_object_get(r.json, "tls"), "clientCertificate"),
                                "fingerprint_sha256"), certs.client_fingerprint);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"tls\":null}", &r), 200);
    CHECK(json_is_null(json_object_get(r.json, "tls")));
    bl_test_reply_clear(&r);
    free(body);
    free(tls);
}

static void egress_proxy_is_validated_per_organization_and_removable(void)
{
    const char *path = "/v1/organizations/egress-proxy";
    bl_test_reply r;
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK(json_is_null(json_object_get(json_object_get(r.json, "data"), "url")));
    bl_test_reply_clear(&r);
    static const char *const refused[] = {
        "{\"url\":\"ftp://127.0.0.1:3128\"}",          /* not http(s) */
        "{\"url\":\"http://user:pw@127.0.0.1:3128\"}", /* credentials */
        "{\"url\":\"http://10.1.2.3:3128\"}",          /* the SSRF guard: private */
        "{\"url\":\"http://127.0.0.1:3128\",\"x\":1}", /* unknown field */
        "{}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, refused[i], &r), 422);
        CHECK(json_object_get(bl_test_wh_field_errors(&r), "url") != NULL);
        bl_test_reply_clear(&r);
    }
    CHECK_EQ_INT(bl_test_wh_call("PUT", path, bl_test_wh.admin, "{\"url\":\"http://127.0.0.1:3128\"}", &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "data"), "url"), "http://127.0.0.1:3128");
    bl_test_reply_clear(&r);
    /* another organization does not see it */
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.other_admin, NULL, &r), 200);
    CHECK(json_is_null(json_object_get(json_object_get(r.json, "data"), "url")));
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK_EQ_STR(bl_test_wh_str(json_object_get(r.json, "data"), "url"), "http://127.0.0.1:3128");
    CHECK(json_string_value(json_object_get(json_object_get(r.json, "data"), "updated_at")) != NULL);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("DELETE", path, bl_test_wh.admin, NULL, &r), 204);
    bl_test_reply_clear(&r);
    CHECK_EQ_INT(bl_test_wh_call("GET", path, bl_test_wh.admin, NULL, &r), 200);
    CHECK(json_is_null(json_object_get(json_object_get(r.json, "data"), "url")));
    bl_test_reply_clear(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    if (bl_test_certs_make(&certs) == 0 && bl_test_wh_setup() == 0) {
        BL_RUN(tls_is_checked_shown_without_the_key_and_cleared);
        BL_RUN(egress_proxy_is_validated_per_organization_and_removable);
        bl_test_wh_teardown();
    } else {
        CHECK(0);
    }
    bl_test_certs_free(&certs);
    curl_global_cleanup();
    return bl_test_summary();
}
