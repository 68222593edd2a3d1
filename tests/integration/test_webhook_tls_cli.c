/* `busline webhooks` and the transport settings on a fresh database: create
 * reads the TLS PEM files (a key that is not the certificate's is refused),
 * show prints the certificate's fingerprint and never the key, update
 * --tls-clear removes them, and egress-proxy sets, shows and removes the
 * organization's proxy (an ftp URL is refused). */
#include "tests/support/test.h"
#include "tests/support/tls_certs.h"
#include "tests/support/webhook_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_test_certs certs;
static bl_webhook_fixture f;

/* Runs `busline webhooks <args>` on the fixture's database; out gets what it printed. */
static int run(const char *args, char *out, size_t len)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "webhooks %s --pg-url '%s' --allow 127.0.0.0/8", args, f.pg_url);
    return bl_test_run_busline("BUSLINE_ENCRYPTION_KEYS=" BL_WEBHOOK_TEST_KEYS, cmd, out, len);
}

static void cli_reads_tls_files_and_sets_the_egress_proxy(void)
{
    char args[1024], out[16384];
    const char *create = "create --org org-cli --name cli --url https://127.0.0.1:9/hook --events 'risk.*' "
                         "--tls-ca %s/ca.pem --tls-client-cert %s/client.pem --tls-client-key %s/%s";
    snprintf(args, sizeof args, create, certs.dir, certs.dir, certs.dir, "other.key");
    CHECK(run(args, out, sizeof out) != 0);
    CHECK(strstr(out, "tls: clientKey is not the key of clientCertificate") != NULL);

    snprintf(args, sizeof args, create, certs.dir, certs.dir, certs.dir, "client.key");
    REQUIRE(run(args, out, sizeof out) == 0);
    char id[64] = "";
    const char *at = strstr(out, "id: ");
    REQUIRE(at != NULL);
    sscanf(at + 4, "%63s", id);

    snprintf(args, sizeof args, "show %s", id);
    REQUIRE(run(args, out, sizeof out) == 0);
    CHECK(strstr(out, certs.client_fingerprint) != NULL);
    CHECK(strstr(out, "CN=busline-test-ca") != NULL);
    CHECK(strstr(out, "PRIVATE") == NULL);

    snprintf(args, sizeof args, "update %s --tls-clear", id);
    REQUIRE(run(args, out, sizeof out) == 0);
    CHECK(strstr(out, "\"tls\": null") != NULL);

    CHECK(run("egress-proxy --org org-cli --egress-proxy ftp://127.0.0.1:21", out, sizeof out) != 0);
    CHECK(strstr(out, "ssrf") != NULL || strstr(out, "http") != NULL);
    REQUIRE(run("egress-proxy --org org-cli --egress-proxy http://127.0.0.1:3128", out, sizeof out) == 0);
    CHECK(strstr(out, "\"url\": \"http://127.0.0.1:3128\"") != NULL);
    CHECK_EQ_INT(bl_webhook_test_count(&f, "SELECT count(*) FROM organization_egress_proxies "
                                           "WHERE organization_id = 'org-cli' AND url = 'http://127.0.0.1:3128'"), 1);
    REQUIRE(run("egress-proxy --org org-cli --egress-proxy none", out, sizeof out) == 0);
    CHECK(strstr(out, "\"url\": null") != NULL);
    CHECK_EQ_INT(bl_webhook_test_count(&f, "SELECT count(*) FROM organization_egress_proxies"), 0);
}

int main(void)
{
    if (bl_test_certs_make(&certs) == 0 && bl_webhook_fixture_open(&f) == 0)
        BL_RUN(cli_reads_tls_files_and_sets_the_egress_proxy);
    else
        CHECK(0);
    bl_webhook_fixture_close(&f);
    bl_test_certs_free(&certs);
    return bl_test_summary();
}
