#include "chaos_provision.h"

#include "tests/support/api_fixture.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WEBHOOK_ARGS_MAX 32

/* The key sends every event of a run: far above its default limit of 1,000
 * an hour (no window set means that default). */
static int unlimited(const chaos_cluster *c, const char *org)
{
    PGconn *conn = PQconnectdb(c->pg_url);
    const char *org_param[] = {org};
    PGresult *res = PQstatus(conn) == CONNECTION_OK
                        ? PQexecParams(conn,
                                       "UPDATE api_keys SET rate_per_minute = NULL, rate_per_hour = 1000000000,"
                                       " rate_per_day = NULL, rate_per_month = NULL WHERE organization_id::text = $1",
                                       1, NULL, org_param, NULL, NULL, 0)
                        : NULL;
    int ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "  chaos: the key's rate limits: %s\n", PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    return ok ? 0 : -1;
}

/* POSTs P-chaos, then waits until the PMO service applied it: 2xx says the
 * command is on the bus, and the risks (other aggregates, on other
 * partitions) need the project first. */
static int project(const chaos_cluster *c, const char *token)
{
    const char *body = "{\"project_id\":\"P-chaos\",\"name\":\"Chaos\",\"owner_id\":\"u-chaos\","
                       "\"budget_cents\":100,\"currency\":\"EUR\"}";
    for (int tries = 0; tries < 100; tries++) {
        bl_test_reply r;
        long status = bl_test_http_call(c->api_port, "POST", "/v1/projects", token, "Idempotency-Key: chaos-project",
                                        body, &r);
        bl_test_reply_clear(&r);
        if (status >= 200 && status < 300)
            break;
        usleep(200 * 1000);
    }
    for (int tries = 0; tries < 300; tries++) {
        bl_test_reply r;
        long status = bl_test_http_call(c->api_port, "GET", "/v1/projects/P-chaos", token, NULL, NULL, &r);
        bl_test_reply_clear(&r);
        if (status == 200)
            return 0;
        usleep(200 * 1000);
    }
    fprintf(stderr, "  chaos: the project was not created\n");
    return -1;
}

int chaos_provision(chaos_cluster *c, const char *sink_url, const char *const *webhook_options,
                    chaos_tenant *out)
{
    char text[4096];
    memset(out, 0, sizeof *out);
    const char *org[] = {"api", "create-org", "--name", "Chaos Co", "--plan", "pro", NULL};
    if (chaos_busline_output(org, text, sizeof text) != 0 || sscanf(text, "%63s", out->org) != 1)
        return fprintf(stderr, "  chaos: create-org: %s\n", text), -1;
    const char *key[] = {"api", "create-admin-key", "--org", out->org, NULL};
    const char *tok = chaos_busline_output(key, text, sizeof text) == 0 ? strstr(text, "token (shown once): ") : NULL;
    if (!tok || sscanf(tok + strlen("token (shown once): "), "%255s", out->token) != 1)
        return fprintf(stderr, "  chaos: create-admin-key: %s\n", text), -1;
    if (unlimited(c, out->org) != 0)
        return -1;
    const char *hook[WEBHOOK_ARGS_MAX] = {"webhooks", "create", "--org", out->org, "--name", "chaos sink",
                                          "--url", sink_url, "--events", "risk.*"};
    size_t n = 10;
    for (size_t i = 0; webhook_options && webhook_options[i] && n < WEBHOOK_ARGS_MAX - 1; i++)
        hook[n++] = webhook_options[i];
    hook[n] = NULL;
    const char *sec = chaos_busline_output(hook, text, sizeof text) == 0 ? strstr(text, "whsec_") : NULL;
    char secret[128];
    bl_err err = {0};
    if (!sec || sscanf(sec, "%127s", secret) != 1 || bl_webhook_secret_parse(secret, &out->secret, &err) != 0)
        return fprintf(stderr, "  chaos: webhooks create: %s\n", text), -1;
    return project(c, out->token);
}
