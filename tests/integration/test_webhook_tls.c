/* Per-endpoint transport against the real broker and database: a local
 * HTTPS sink that requires a client certificate (tests/tools/tls_peers.py,
 * certificates made here with openssl) receives the delivery of an
 * endpoint configured with its certificate, key and the test CA; an
 * endpoint without the certificate fails with a TLS error in its delivery
 * log, even right after a certified connection to the same host was made
 * (no reuse across client certificates); an organization whose egress
 * proxy is set delivers through a local
 * CONNECT proxy that sees the request. The store refuses a key that is not
 * the certificate's and a PEM that does not parse, keeps the key sealed and
 * shows only the certificate's fingerprint, subject and expiry. */
#include "connectors/webhook/policy/endpoint_tls.h"
#include "connectors/webhook/store/endpoint_cache.h"
#include "tests/support/test.h"
#include "tests/support/tls_certs.h"
#include "tests/support/webhook_e2e.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bl_test_certs certs;

static char *slurp(const char *name)
{
    return bl_test_certs_read(&certs, name);
}

/* Starts tls_peers.py mode with args; returns its pid and its port. */
static pid_t start_peer(const char *mode, const char *name, int *port)
{
    char port_file[256], log[256], script[512];
    snprintf(port_file, sizeof port_file, "%s/%s.port", certs.dir, name);
    snprintf(log, sizeof log, "%s/%s.log", certs.dir, name);
    snprintf(script, sizeof script, "%s/tests/tools/tls_peers.py",
             getenv("BUSLINE_SOURCE_DIR") ? getenv("BUSLINE_SOURCE_DIR") : BUSLINE_SOURCE_DIR);
    char cert[256], key[256], ca[256];
    snprintf(cert, sizeof cert, "%s/server.pem", certs.dir);
    snprintf(key, sizeof key, "%s/server.key", certs.dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs.dir);
    pid_t pid = fork();
    if (pid == 0) {
        if (strcmp(mode, "sink") == 0)
            execl("/usr/bin/python3", "python3", script, mode, port_file, log, cert, key, ca, (char *)NULL);
        else
            execl("/usr/bin/python3", "python3", script, mode, port_file, log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        char *text = slurp(strrchr(port_file, '/') + 1);
        if (text) {
            *port = atoi(text);
            free(text);
            return pid;
        }
        usleep(100 * 1000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static void stop_peer(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* 1 when the peer's log name holds a line containing what. */
static int logged(const char *name, const char *what)
{
    char file[64];
    snprintf(file, sizeof file, "%s.log", name);
    char *text = slurp(file);
    int found = text && strstr(text, what) != NULL;
    free(text);
    return found;
}

static void with_cert_and_ca(bl_webhook_spec *s, void *user)
{
    (void)user;
    s->tls_change = BL_WEBHOOK_TLS_SET;
    s->tls_client_cert = certs.client;
    s->tls_client_key = certs.client_key;
    s->tls_ca_cert = certs.ca;
    s->max_attempts = 1;
}

static void ca_only(bl_webhook_spec *s, void *user)
{
    (void)user;
    s->tls_change = BL_WEBHOOK_TLS_SET;
    s->tls_ca_cert = certs.ca;
    s->max_attempts = 1;
}

/* The delivery log's error of endpoint id's first attempt into out, waiting
 * for it; returns 1 when one was logged (ok: whether it succeeded). */
static int first_attempt(wh_e2e *e, const char *id, int *ok, char *out, size_t len)
{
    const char *params[] = {id};
    for (int i = 0; i < 300; i++) {
        PGresult *r = PQexecParams(e->f.conn,
                                   "SELECT succeeded::text, coalesce(error, '') FROM webhook_deliveries "
                                   "WHERE endpoint_id = $1 ORDER BY id LIMIT 1",
                                   1, NULL, params, NULL, NULL, 0);
        int got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        if (got) {
            *ok = strcmp(PQgetvalue(r, 0, 0), "true") == 0;
            snprintf(out, len, "%s", PQgetvalue(r, 0, 1));
        }
        PQclear(r);
        if (got)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void store_checks_and_hides_the_key(wh_e2e *e, const char *id)
{
    /* a key that is not the certificate's, and a CA that is not PEM: refused */
    const char *list[1] = {"webhook.*"};
    bl_webhook_spec spec = bl_webhook_test_spec("bad", list, 1);
    with_cert_and_ca(&spec, NULL);
    spec.tls_client_key = certs.other_key;
    bl_err err = {0};
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_webhook_endpoint *bad = bl_webhook_store_create(e->store, "org-bad", &spec, secret, sizeof secret, &err);
    CHECK(bad == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK(strstr(err.msg, "tls: clientKey is not the key of clientCertificate") != NULL);
    printf("  mismatched key: %s\n", err.msg);
    with_cert_and_ca(&spec, NULL);
    spec.tls_ca_cert = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    err = (bl_err){0};
    CHECK(bl_webhook_store_create(e->store, "org-bad", &spec, secret, sizeof secret, &err) == NULL);
    CHECK(strstr(err.msg, "tls: caCertificate is not a PEM certificate") != NULL);
    spec.tls_ca_cert = NULL;
    spec.tls_client_key = NULL;
    err = (bl_err){0};
    CHECK(bl_webhook_store_create(e->store, "org-bad", &spec, secret, sizeof secret, &err) == NULL);
    CHECK(strstr(err.msg, "go together") != NULL);

    /* the key is sealed at rest and never shown; the certificate is described */
    bl_webhook_endpoint *ep = bl_webhook_store_get(e->store, id, &err);
    REQUIRE(ep != NULL);
    CHECK(ep->tls_client_key_sealed && strstr(ep->tls_client_key_sealed, "PRIVATE KEY") == NULL);
    json_t *j = bl_webhook_endpoint_to_json(ep);
    char *text = json_dumps(j, 0);
    CHECK(text && strstr(text, "PRIVATE") == NULL && strstr(text, ep->tls_client_key_sealed) == NULL);
    const json_t *cc = json_object_get(json_object_get(j, "tls"), "clientCertificate");
    CHECK_EQ_STR(json_string_value(json_object_get(cc, "fingerprint_sha256")), certs.client_fingerprint);
    CHECK_EQ_STR(json_string_value(json_object_get(cc, "subject")), "CN=busline-client");
    CHECK(json_string_value(json_object_get(cc, "expires_at")) != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(j, "tls"), "caCertificate"),
                                                   "subject")), "CN=busline-test-ca");
    free(text);
    json_decref(j);

    /* an update that does not mention TLS keeps it */
    const char *types[BL_WEBHOOK_EVENT_TYPES_MAX];
    bl_webhook_spec_from_endpoint(ep, &spec, types);
    spec.name = "renamed";
    bl_webhook_endpoint *after = bl_webhook_store_update(e->store, id, &spec, &err);
    REQUIRE(after != NULL);
    CHECK(after->tls_client_cert && after->tls_client_key_sealed && after->tls_ca_cert);
    bl_webhook_endpoint_free(after);
    bl_webhook_endpoint_free(ep);
}

/* Waits until the cache's snapshot of id carries the organization's proxy. */
static int wait_proxy(wh_e2e *e, const char *id)
{
    for (int i = 0; i < 100; i++) {
        bl_webhook_snapshot *s = bl_webhook_cache_get(e->cache, id);
        int has = s && s->endpoint->egress_proxy != NULL;
        bl_webhook_snapshot_release(s);
        if (has)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void mtls_delivery_needs_the_certificate_and_goes_through_the_proxy(void)
{
    REQUIRE(bl_test_certs_make(&certs) == 0);
    int sink_port = 0, proxy_port = 0;
    pid_t sink = start_peer("sink", "sink", &sink_port);
    pid_t proxy = start_peer("proxy", "proxy", &proxy_port);
    REQUIRE(sink > 0 && proxy > 0);
    wh_e2e e = {0};
    char *with = NULL, *without = NULL, *proxied = NULL;
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[3][128];
    snprintf(url[0], sizeof url[0], "https://127.0.0.1:%d/with-cert", sink_port);
    snprintf(url[1], sizeof url[1], "https://127.0.0.1:%d/without-cert", sink_port);
    snprintf(url[2], sizeof url[2], "https://127.0.0.1:%d/proxied", sink_port);
    with = wh_e2e_endpoint(&e, "org-mtls", url[0], "webhook.*", with_cert_and_ca, NULL, NULL);
    without = wh_e2e_endpoint(&e, "org-nocert", url[1], "webhook.*", ca_only, NULL, NULL);
    proxied = wh_e2e_endpoint(&e, "org-proxy", url[2], "webhook.*", with_cert_and_ca, NULL, NULL);
    REQUIRE(with && without && proxied);
    store_checks_and_hides_the_key(&e, with);

    /* the organization's proxy, set after its endpoint: the cache follows */
    char proxy_url[64];
    snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%d", proxy_port);
    const char *params[] = {"org-proxy", proxy_url};
    PQclear(PQexecParams(e.f.conn, "INSERT INTO organization_egress_proxies (organization_id, url) VALUES ($1, $2)",
                         2, NULL, params, NULL, NULL, 0));
    REQUIRE(wh_e2e_wait_cache(&e, 3) == 0);
    CHECK(wait_proxy(&e, proxied));

    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-mtls", "ep-mtls", 1, "mtls-") == 0);
    int ok = 0;
    char error[512] = "";
    CHECK(first_attempt(&e, with, &ok, error, sizeof error));
    CHECK(ok);
    CHECK(logged("sink", "POST /with-cert cn=busline-client"));

    /* only once the certified connection to the same host is open and idle:
     * an endpoint without the certificate must not ride on it */
    REQUIRE(wh_e2e_append(&e, "org-nocert", "ep-nocert", 1, "nocert-") == 0);
    REQUIRE(wh_e2e_append(&e, "org-proxy", "ep-proxy", 1, "proxy-") == 0);
    CHECK(first_attempt(&e, without, &ok, error, sizeof error));
    printf("  without a client certificate: %s\n", error);
    CHECK(!ok);
    CHECK(strstr(error, "tls: no client certificate configured, the endpoint's CA") != NULL);
    CHECK(!logged("sink", "POST /without-cert"));
    CHECK(logged("sink", "handshake-refused"));

    CHECK(first_attempt(&e, proxied, &ok, error, sizeof error));
    CHECK(ok);
    char connect[64];
    snprintf(connect, sizeof connect, "CONNECT 127.0.0.1:%d", sink_port);
    CHECK(logged("proxy", connect));
    CHECK(logged("sink", "POST /proxied cn=busline-client"));
done:
    wh_e2e_close(&e);
    free(with);
    free(without);
    free(proxied);
    stop_peer(sink);
    stop_peer(proxy);
    bl_test_certs_free(&certs);
}

int main(void)
{
    BL_RUN(mtls_delivery_needs_the_certificate_and_goes_through_the_proxy);
    return bl_test_summary();
}
