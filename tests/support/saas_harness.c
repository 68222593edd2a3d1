/* The SaaS connector test harness. */
#include "tests/support/saas_harness.h"

#include <stdio.h>
#include <string.h>

static int harness_token(void *ctx, const char *integration_id, int refresh, char *out, size_t cap, bl_err *err)
{
    bl_saas_harness *h = ctx;
    (void)integration_id;
    if (refresh) {
        if (!h->next_token[0])
            return bl_err_set(err, BL_EINVAL, "refresh refused");
        snprintf(h->token, sizeof h->token, "%s", h->next_token);
        h->refreshes++;
    }
    snprintf(out, cap, "%s", h->token);
    return 0;
}

int bl_saas_harness_open(bl_saas_harness *h, const bl_connector_table *table, const char *settings,
                         const char *credentials)
{
    h->table = table;
    h->state = bl_state_store_new(NULL);
    json_t *cred = json_loads(credentials ? credentials : "{}", 0, NULL);
    bl_connector_host_config cfg = {.connector = table->name, .integration_id = "int-test", .credentials = cred,
                                    .state = h->state, .http_timeout_ms = 5000, .token = harness_token,
                                    .token_ctx = h};
    bl_err err = {0};
    h->host = bl_connector_host_new(&cfg, &err);
    json_decref(cred);
    if (!h->host) {
        fprintf(stderr, "harness: host: %s\n", err.msg);
        return -1;
    }
    char why[512] = "";
    if (table->init(settings, bl_connector_host_table(h->host), &h->instance, why, sizeof why) != 0) {
        fprintf(stderr, "harness: init: %s\n", why);
        return -1;
    }
    return 0;
}

void bl_saas_harness_close(bl_saas_harness *h)
{
    if (h->table && h->instance)
        h->table->shutdown(h->instance);
    bl_connector_host_free(h->host);
    bl_state_store_free(h->state);
    memset(h, 0, sizeof *h);
}

bl_connector_result bl_saas_harness_run(bl_saas_harness *h, const char *event_id, const char *subject,
                                        const char *action, const char *const *fields)
{
    bl_connector_field_value values[32];
    size_t n = 0;
    for (size_t i = 0; fields && fields[i] && n < 32; i += 2)
        values[n++] = (bl_connector_field_value){.name = fields[i], .value = fields[i + 1]};
    char json[512];
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"type\":\"test.event\",\"subject\":\"%s\",\"data\":{}}", event_id,
             subject);
    bl_connector_event ev = {.id = event_id, .type = "test.event", .subject = subject, .organization_id = "org_1",
                             .time = "2026-05-01T08:00:00Z", .json = json, .json_len = strlen(json),
                             .integration_id = "int-test", .action = action, .fields = values, .n_fields = n,
                             .attempt = 1};
    bl_connector_result r = {0};
    h->table->handle(h->instance, &ev, &r);
    if (r.status == BL_CONNECTOR_AUTH_EXPIRED) {
        bl_err err = {0};
        if (bl_connector_host_refresh_auth(h->host, &err) == 0) {
            memset(&r, 0, sizeof r);
            ev.attempt = 2;
            h->table->handle(h->instance, &ev, &r);
        }
    }
    return r;
}
