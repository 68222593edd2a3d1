/* The TLS and Kafka-destination flags of the endpoint actions (see cmd_endpoint_transport.h). */
#include "connectors/webhook/cli/cmd_endpoint_transport.h"
#include "connectors/webhook/cli/cmd_endpoint_settings.h"

#include "connectors/webhook/policy/endpoint_tls.h"
#include "connectors/webhook/store/egress_proxy.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bl_cli_tls_given(const bl_config *cfg)
{
    return bl_cli_setting_given(cfg, "tls_client_cert") || bl_cli_setting_given(cfg, "tls_client_key") || bl_cli_setting_given(cfg, "tls_ca") ||
           (bl_cli_setting_given(cfg, "tls_clear") && bl_config_bool(cfg, "tls_clear"));
}

/* The PEM file of flag name into *out (NULL when not given). */
static int read_pem(const bl_config *cfg, const char *name, const char *flag, char **out, bl_err *err)
{
    *out = NULL;
    const char *path = bl_cli_setting_given(cfg, name) ? bl_config_str(cfg, name) : NULL;
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return bl_err_set(err, BL_EINVAL, "--%s: cannot open %.200s", flag, path);
    char *buf = malloc(BL_WEBHOOK_TLS_PEM_MAX + 2);
    size_t n = buf ? fread(buf, 1, BL_WEBHOOK_TLS_PEM_MAX + 1, f) : 0;
    fclose(f);
    if (!buf)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    buf[n] = '\0';
    *out = buf;
    if (n > BL_WEBHOOK_TLS_PEM_MAX)
        return bl_err_set(err, BL_EINVAL, "--%s: larger than %d bytes", flag, BL_WEBHOOK_TLS_PEM_MAX);
    return 0;
}

int bl_cli_tls_apply(const bl_config *cfg, bl_webhook_spec *spec, bl_cli_tls_pems *pems, bl_err *err)
{
    if (read_pem(cfg, "tls_client_cert", "tls-client-cert", &pems->cert, err) != 0 ||
        read_pem(cfg, "tls_client_key", "tls-client-key", &pems->key, err) != 0 ||
        read_pem(cfg, "tls_ca", "tls-ca", &pems->ca, err) != 0)
        return -1;
    bool any = pems->cert || pems->key || pems->ca;
    bool clear = bl_cli_setting_given(cfg, "tls_clear") && bl_config_bool(cfg, "tls_clear");
    if (any && clear)
        return bl_err_set(err, BL_EINVAL, "--tls-clear and the --tls-* files exclude each other");
    if (clear)
        spec->tls_change = BL_WEBHOOK_TLS_CLEAR;
    if (!any)
        return 0;
    spec->tls_change = BL_WEBHOOK_TLS_SET;
    spec->tls_client_cert = pems->cert;
    spec->tls_client_key = pems->key;
    spec->tls_ca_cert = pems->ca;
    return 0;
}

void bl_cli_tls_pems_clear(bl_cli_tls_pems *pems)
{
    if (pems->key)
        OPENSSL_cleanse(pems->key, strlen(pems->key));
    free(pems->cert);
    free(pems->key);
    free(pems->ca);
    memset(pems, 0, sizeof *pems);
}

int bl_cli_egress_proxy(bl_pg_pool *pool, const bl_config *cfg, const bl_ssrf_allowlist *allow)
{
    const char *org = bl_config_str(cfg, "org");
    if (!org) {
        fprintf(stderr, "busline webhooks egress-proxy: --org is required\n");
        return 2;
    }
    const char *url = bl_cli_setting_given(cfg, "egress_proxy") ? bl_config_str(cfg, "egress_proxy") : NULL;
    bl_err err = {0};
    PGconn *conn = bl_pg_pool_acquire(pool, 5000, &err);
    json_t *shown = NULL;
    int rc = conn ? 0 : -1;
    if (rc == 0 && url)
        rc = strcmp(url, "none") == 0 ? bl_webhook_egress_proxy_clear(conn, org, &err)
                                      : bl_webhook_egress_proxy_set(conn, org, url, allow, &err);
    if (rc == 0 && !(shown = bl_webhook_egress_proxy_get(conn, org, &err)))
        rc = -1;
    bl_pg_pool_release(pool, conn);
    if (rc != 0) {
        fprintf(stderr, "busline webhooks egress-proxy: %s\n", err.msg);
        return 1;
    }
    char *text = json_dumps(shown, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(shown);
    return 0;
}

void bl_cli_kafka_flags_clear(bl_cli_kafka_flags *h)
{
    json_decref(h->json);
    h->json = NULL;
}

int bl_cli_kafka_apply(const bl_config *cfg, bl_webhook_spec *spec, bl_cli_kafka_flags *h, bl_err *err)
{
    if (bl_cli_setting_given(cfg, "kafka")) {
        const char *text = bl_config_str(cfg, "kafka");
        if (text && strcmp(text, "none") == 0) {
            spec->kafka = NULL;
        } else {
            const char *pw = NULL;
            if (bl_cli_json_flag("kafka", text ? text : "", &h->json, err) != 0 ||
                bl_webhook_kafka_read_json(h->json, &h->kafka, h->brokers, sizeof h->brokers, &pw,
                                           err) != 0)
                return -1;
            spec->kafka = &h->kafka;
            spec->kafka_sasl_password = pw;
        }
    }
    if (bl_cli_setting_given(cfg, "kafka_sasl_password"))
        spec->kafka_sasl_password = bl_config_str(cfg, "kafka_sasl_password");
    return 0;
}
