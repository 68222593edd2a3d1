/* The "tls" setting of a webhook endpoint in /v1/webhooks bodies (see
 * webhook_api.h): its shape only; the store checks the PEMs themselves
 * (connectors/webhook/policy/endpoint_tls.h). */
#include "api/routes/webhook_api.h"

#include "connectors/webhook/policy/endpoint_tls.h"

#include <stdio.h>
#include <string.h>

#define TLS_SHAPE "null, or {\"clientCertificate\": PEM, \"clientKey\": PEM, \"caCertificate\": PEM} " \
                  "(each optional; the certificate and its key together)"

void bl_api_webhook_tls_read(const json_t *v, bl_webhook_spec *s, json_t *errors)
{
    s->tls_change = BL_WEBHOOK_TLS_CLEAR;
    s->tls_client_cert = s->tls_client_key = s->tls_ca_cert = NULL;
    if (json_is_null(v))
        return;
    if (!json_is_object(v) || json_object_size(v) == 0) {
        json_object_set_new(errors, "tls", json_string(TLS_SHAPE));
        return;
    }
    static const char *const names[] = {"clientCertificate", "clientKey", "caCertificate"};
    const char **slots[] = {&s->tls_client_cert, &s->tls_client_key, &s->tls_ca_cert};
    const char *name;
    json_t *pem;
    json_object_foreach((json_t *)v, name, pem) {
        size_t i = 0;
        while (i < 3 && strcmp(name, names[i]) != 0)
            i++;
        const char *text = json_string_value(pem);
        if (i == 3 || !text || !*text || strlen(text) > BL_WEBHOOK_TLS_PEM_MAX) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s: %s", i == 3 ? "unknown field" : "a PEM string", TLS_SHAPE);
            json_object_set_new(errors, "tls", json_string(msg));
            return;
        }
        *slots[i] = text;
    }
    s->tls_change = BL_WEBHOOK_TLS_SET;
}
