/* The flags of `busline webhooks <endpoint action>` (see cmd_endpoint_settings.h). */
#include "connectors/webhook/cli/cmd_endpoint_settings.h"

#include <string.h>

#include "connectors/webhook/store/endpoint_store.h"

#include <stddef.h>

static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};
static const char *const signature_schemes[] = {"v1", "v1a", "both", NULL};
static const char *const orderings[] = {"none", "fifo", NULL};

const bl_setting bl_endpoint_settings[] = {
    {.name = "pg_url", .env = "BUSLINE_PG_URL", .flag = "pg-url", .type = BL_SETTING_URL,
     .required = true, .secret = true, .choices = pg_schemes, .help = "PostgreSQL URL"},
    {.name = "allow", .env = "BUSLINE_WEBHOOK_ALLOW", .flag = "allow", .type = BL_SETTING_STRING,
     .def = "", .help = "CIDRs endpoint URLs may resolve to although not public (e.g. 127.0.0.0/8)"},
    {.name = "org", .flag = "org", .type = BL_SETTING_STRING, .help = "organization id"},
    {.name = "name", .flag = "name", .type = BL_SETTING_STRING, .help = "endpoint name"},
    {.name = "url", .flag = "url", .type = BL_SETTING_STRING, .help = "endpoint URL (http or https)"},
    {.name = "events", .flag = "events", .type = BL_SETTING_STRING,
     .help = "comma-separated event types or patterns, e.g. 'risk.*,project.status_changed'"},
    {.name = "conditions", .flag = "conditions", .type = BL_SETTING_STRING,
     .help = "JSON array of {field, operator, value} conditions"},
    {.name = "headers", .flag = "headers", .type = BL_SETTING_STRING,
     .help = "JSON object of custom headers (or repeat --header 'Name: value')"},
    {.name = "legacy_signature", .flag = "legacy-signature", .type = BL_SETTING_BOOL, .def = "false",
     .help = "also send X-Signature: sha256=<hex>"},
    {.name = "hmac_header", .flag = "hmac-header", .type = BL_SETTING_STRING,
     .help = "also send this header (e.g. X-Powalyze-Signature) with sha256=<hex HMAC of the body "
             "keyed with the secret as shown>; empty: none"},
    {.name = "signature_scheme", .flag = "signature-scheme", .type = BL_SETTING_ENUM,
     .choices = signature_schemes,
     .help = "webhook-signature: v1 (HMAC-SHA256, the default), v1a (ed25519; the public key whpk_ "
             "is printed) or both"},
    {.name = "strict_order", .flag = "strict-order", .type = BL_SETTING_BOOL, .def = "false",
     .help = "the same as --ordering fifo"},
    {.name = "max_attempts", .flag = "max-attempts", .type = BL_SETTING_INT, .def = "3", .min = 1,
     .max = 100, .help = "attempts per delivery, the first included"},
    {.name = "backoff", .flag = "backoff", .type = BL_SETTING_DURATION, .def = "1s", .min = 1,
     .max = 7LL * 24 * 3600 * 1000, .help = "delay before the first retry (doubles each retry)"},
    {.name = "retry_schedule", .flag = "retry-schedule", .type = BL_SETTING_STRING,
     .help = "explicit retry delays in seconds instead of the exponential backoff (e.g. 5,300,1800; "
             "1..20 of 1..604800 s); none: back to exponential"},
    {.name = "max_age", .flag = "max-age", .type = BL_SETTING_INT, .def = "0", .min = 0,
     .max = BL_WEBHOOK_MAX_AGE_MAX_S,
     .help = "seconds after which an undelivered delivery is dead-lettered whatever its attempts; 0: none"},
    {.name = "timeout", .flag = "timeout", .type = BL_SETTING_DURATION, .def = "10s", .min = 1,
     .max = BL_WEBHOOK_TIMEOUT_MAX_MS, .help = "request timeout"},
    {.name = "rate_limit", .flag = "rate-limit", .type = BL_SETTING_STRING,
     .help = "requests per second (e.g. 2.5); 0 or absent: unlimited"},
    {.name = "burst", .flag = "burst", .type = BL_SETTING_INT, .def = "0", .min = 0, .max = 1000000,
     .help = "rate-limit burst; 0: the rate rounded up"},
    {.name = "ordering", .flag = "ordering", .type = BL_SETTING_ENUM, .choices = orderings,
     .help = "none (parallel, the default) or fifo: one delivery in flight at a time, in order; a failing "
             "one is retried in place and holds the rest until it is delivered or dead-lettered"},
    {.name = "reason", .flag = "reason", .type = BL_SETTING_STRING, .help = "why (disable)"},
    {.name = "overlap", .flag = "overlap", .type = BL_SETTING_DURATION, .def = "24h", .min = 0,
     .max = 30LL * 24 * 3600 * 1000, .help = "how long the old secret keeps signing (rotate)"},
    {.name = "since", .flag = "since", .type = BL_SETTING_DURATION, .def = "0s", .min = 0,
     .max = 3650LL * 24 * 3600 * 1000, .help = "stats over this last period; 0: all time"},
    {.name = "tls_client_cert", .flag = "tls-client-cert", .type = BL_SETTING_STRING,
     .help = "PEM file of the client certificate for mutual TLS (with --tls-client-key); any --tls-* file "
             "replaces the endpoint's TLS settings"},
    {.name = "tls_client_key", .flag = "tls-client-key", .type = BL_SETTING_STRING,
     .help = "PEM file of the certificate's private key (unencrypted; stored encrypted, never shown)"},
    {.name = "tls_ca", .flag = "tls-ca", .type = BL_SETTING_STRING,
     .help = "PEM file of the CA certificates trusted for this endpoint instead of the system's"},
    {.name = "tls_clear", .flag = "tls-clear", .type = BL_SETTING_BOOL, .def = "false",
     .help = "remove the endpoint's client certificate and CA (update)"},
    {.name = "egress_proxy", .flag = "egress-proxy", .type = BL_SETTING_STRING,
     .help = "egress-proxy: http(s)://host:port the organization's deliveries go through; none: direct"},
    {.name = "transformation", .flag = "transformation", .type = BL_SETTING_STRING,
     .help = "FILE holding a TransformationRule (JSON) applied to the body before signing; checked: it "
             "compiles and its testCases pass; none: remove it"},
    {.name = "kafka", .flag = "kafka", .type = BL_SETTING_STRING,
     .help = "a Kafka destination instead of --url: JSON {brokers, topic, securityProtocol, saslMechanism, "
             "saslUsername, sslCaCertificate}; none: back to http (with --url)"},
    {.name = "kafka_sasl_password", .env = "BUSLINE_KAFKA_SASL_PASSWORD", .flag = "kafka-sasl-password",
     .type = BL_SETTING_STRING, .secret = true,
     .help = "the Kafka destination's SASL password (stored encrypted; absent on update: kept)"},
    {0},
};

bool bl_cli_setting_given(const bl_config *cfg, const char *name)
{
    const char *src = bl_config_source(cfg, name);
    return strcmp(src, "flag") == 0 || strcmp(src, "env") == 0;
}

int bl_cli_json_flag(const char *flag, const char *text, json_t **out, bl_err *err)
{
    json_error_t jerr;
    *out = json_loads(text, 0, &jerr);
    if (!*out)
        return bl_err_set(err, BL_EINVAL, "--%s: not JSON (line %d column %d: %s)", flag, jerr.line,
                          jerr.column, jerr.text);
    return 0;
}
