/* OpenAPI operations of the /v1 management routes (see v1_operations.h),
 * written as JSON text: easier to read against the Powalyze document than
 * nested json_pack formats. */
#include "api/routes/v1_operations.h"

#include <stdio.h>

#define PAGE_PARAMS                                                                                         \
    "{\"name\":\"limit\",\"in\":\"query\",\"description\":\"page size (default 50, max 100: more counts as "  \
    "100)\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"default\":50}},"                                 \
    "{\"name\":\"offset\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}}"
#define PERIOD_PARAM                                                                                        \
    "{\"name\":\"period_days\",\"in\":\"query\",\"description\":\"the last N days (days is read too)\","      \
    "\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":365,\"default\":30}}"
#define ERR400 "\"400\":{\"description\":\"bad query parameters (bad_request)\"}"
#define ERR404 "\"404\":{\"description\":\"no such webhook in this organization (not_found)\"}"
#define ERR422 "\"422\":{\"description\":\"invalid fields (validation_failed, field_errors)\"}"
#define JSON_OF(ref) "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/" ref "\"}}}"
#define PAGE_OF(ref)                                                                                        \
    "\"content\":{\"application/json\":{\"schema\":{\"allOf\":[{\"$ref\":\"#/components/schemas/Page\"},"    \
    "{\"properties\":{\"data\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/" ref "\"}}}}]}}}"

/* get_webhook_stats of the document, plus busline's since and endpoints. */
static const char webhook_stats_schema[] =
    "{\"type\":\"object\",\"required\":[\"total_triggers\",\"successful_triggers\",\"failed_triggers\","
    "\"success_rate\",\"avg_duration_ms\",\"recent_logs\",\"period_days\"],\"properties\":{"
    "\"total_triggers\":{\"type\":\"integer\"},\"successful_triggers\":{\"type\":\"integer\"},"
    "\"failed_triggers\":{\"type\":\"integer\"},"
    "\"success_rate\":{\"type\":\"number\",\"description\":\"percent, one decimal (95.8)\"},"
    "\"avg_duration_ms\":{\"type\":\"number\"},\"period_days\":{\"type\":\"integer\"},"
    "\"since\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"recent_logs\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":\"object\",\"required\":[\"id\","
    "\"event_type\",\"status_code\",\"duration_ms\",\"created_at\"],\"properties\":{"
    "\"id\":{\"type\":\"string\",\"description\":\"log_<n>\"},"
    "\"event_type\":{\"type\":\"string\"},\"status_code\":{\"type\":[\"integer\",\"null\"]},"
    "\"duration_ms\":{\"type\":\"integer\"},\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"success\":{\"type\":\"boolean\"},\"attempt\":{\"type\":\"integer\"},\"endpoint_id\":{\"type\":\"string\"}}}},"
    "\"endpoints\":{\"type\":\"array\",\"description\":\"the same figures per webhook (organization stats only)\","
    "\"items\":{\"type\":\"object\"}}}}";

static const char webhook_schema[] =
    "{\"type\":\"object\",\"required\":[\"id\",\"name\",\"url\",\"events\",\"is_active\",\"retry_count\","
    "\"timeout_seconds\",\"last_triggered_at\"],\"properties\":{\"id\":{\"type\":\"string\"},"
    "\"name\":{\"type\":\"string\"},\"url\":{\"type\":\"string\"},"
    "\"secret\":{\"type\":\"string\",\"description\":\"whsec_..., in the create answer only\"},"
    "\"events\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"event_types\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"description\":\"the same as events\"},"
    "\"is_active\":{\"type\":\"boolean\"},"
    "\"retry_count\":{\"type\":\"integer\",\"description\":\"retries after the first attempt, at 1, 2, 4 s ...\","
    "\"default\":3},"
    "\"timeout_seconds\":{\"type\":\"number\",\"default\":10},"
    "\"last_triggered_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
    "\"created_by\":{\"type\":[\"string\",\"null\"],\"description\":\"id of the API key or user that created "
    "it through /v1/webhooks; null when unknown (made elsewhere, or before busline recorded it)\"},"
    "\"signature_header\":{\"type\":[\"string\",\"null\"],\"default\":\"X-Powalyze-Signature\","
    "\"description\":\"sent with sha256=<hex HMAC-SHA256 of the body keyed with the secret as shown>; null: "
    "none (the Standard Webhooks headers are always sent)\"},"
    "\"signature_scheme\":{\"enum\":[\"v1\",\"v1a\",\"both\"],\"default\":\"v1\",\"description\":"
    "\"what webhook-signature carries (Standard Webhooks): v1,<base64 HMAC-SHA256> keyed with the secret, "
    "v1a,<base64 ed25519 signature> verifiable with public_key, or both (v1 first); over "
    "{webhook-id}.{webhook-timestamp}.{body}. A scheme with v1a gives the webhook an ed25519 key pair made by "
    "busline (the private key never leaves it)\"},"
    "\"public_key\":{\"type\":[\"string\",\"null\"],\"pattern\":\"^whpk_\",\"description\":\"whpk_<base64 of "
    "the 32-byte ed25519 public key> that verifies v1a signatures; null until a scheme with v1a is chosen\"},"
    "\"previous_public_key\":{\"type\":[\"string\",\"null\"],\"description\":\"the key before the last "
    "rotate-secret, still signing (a second v1a entry) until previous_public_key_until\"},"
    "\"previous_public_key_until\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
    "\"max_attempts\":{\"type\":\"integer\"},\"timeout_ms\":{\"type\":\"integer\"},"
    "\"retry_schedule\":{\"type\":[\"array\",\"null\"],\"minItems\":1,\"maxItems\":20,"
    "\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":604800},\"description\":\"explicit delays in "
    "seconds before retry 1, 2, ... instead of the exponential backoff (then retry_count is its length); excludes "
    "max_attempts, retry_count and backoff_base_ms (422); null: exponential\"},"
    "\"max_age_seconds\":{\"type\":[\"integer\",\"null\"],\"minimum\":1,\"maximum\":2592000,"
    "\"description\":\"a delivery older than this (from its creation) goes to the dead letters whatever its "
    "attempts, with a reason naming the max age; null: no limit\"},"
    "\"ordering\":{\"enum\":[\"none\",\"fifo\"],\"default\":\"none\",\"description\":\"none: deliveries in "
    "parallel, retries apart, no order promised. fifo: strict order per webhook: one delivery in flight at a time, "
    "in the order they were enqueued (an aggregate's events in their order); a failing delivery is retried in "
    "place and holds every later one back until it succeeds or goes to the dead letters (after its last retry, "
    "or max_age_seconds), which releases the next. Across worker replicas the webhook's deliveries are one "
    "Kafka partition's, read by one worker at a time; after a worker dies the next one resends from the last "
    "committed delivery, so a receiver may see a delivery again (same webhook-id) but never one out of "
    "order. strict_order (boolean) is the older spelling\"},"
    "\"conditions\":{\"type\":\"array\"},\"headers\":{\"type\":\"object\"},"
    "\"tls\":{\"type\":[\"object\",\"null\"],\"description\":\"mutual TLS and a custom CA for this webhook. "
    "Write {clientCertificate, clientKey, caCertificate} as PEM strings (each optional; the certificate and its "
    "key together; the key must match and is stored encrypted, never returned); null removes them. Read back: "
    "clientCertificate and caCertificate as {fingerprint_sha256, subject, issuer, expires_at, certificates} or "
    "null. A PEM that does not parse or a key that is not the certificate's: 422 field_errors.tls\","
    "\"properties\":{\"clientCertificate\":{},\"clientKey\":{\"type\":\"string\",\"writeOnly\":true},"
    "\"caCertificate\":{}}},"
    "\"transformation\":{\"$ref\":\"#/components/schemas/TransformationRule\"},"

    "\"type\":{\"enum\":[\"http\",\"kafka\"],\"default\":\"http\",\"description\":\"http: POST to url; "
    "kafka: produce each matching event (same events, conditions, retries and delivery log) to kafka.topic on "
    "the organization's own cluster; then url is not given (it shows kafka://<brokers>/<topic>)\"},"
    "\"kafka\":{\"type\":[\"object\",\"null\"],\"description\":\"the Kafka destination (type kafka): "
    "the message value is the webhook body, its key the event's key, its headers webhook-id, "
    "webhook-timestamp, webhook-signature, webhook-type and the custom headers; the broker's ack is the "
    "delivery. A bad list, topic or setting, or a broker resolving to an address the URL rules refuse, "
    "is a 422\",\"required\":[\"brokers\",\"topic\"],\"properties\":{"
    "\"brokers\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"array\",\"items\":{\"type\":\"string\"}}],"
    "\"description\":\"host:port bootstrap brokers (IPv6 in brackets), 1 to 16, as \\\"h:p,h:p\\\" or an array; "
    "answers show an array\"},"
    "\"topic\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9._-]{1,249}$\"},"
    "\"securityProtocol\":{\"enum\":[\"plaintext\",\"ssl\",\"sasl_plaintext\",\"sasl_ssl\"],"
    "\"default\":\"plaintext\"},"
    "\"saslMechanism\":{\"enum\":[\"PLAIN\",\"SCRAM-SHA-256\",\"SCRAM-SHA-512\",null],"
    "\"description\":\"required with sasl_*\"},"
    "\"saslUsername\":{\"type\":[\"string\",\"null\"]},"
    "\"saslPassword\":{\"type\":\"string\",\"writeOnly\":true,\"description\":\"stored encrypted like "
    "the secret, never returned; omitted on update: kept\"},"
    "\"saslPasswordSet\":{\"type\":\"boolean\",\"readOnly\":true},"
    "\"sslCaCertificate\":{\"type\":[\"string\",\"null\"],\"description\":\"PEM CA certificates "
    "(ssl, sasl_ssl)\"}}}}}";

/* A replay job (api/routes/route_webhook_replays.c). */
static const char replay_schema[] =
    "{\"type\":\"object\",\"required\":[\"id\",\"status\",\"endpoint_id\",\"since\",\"until\",\"progress\","
    "\"created_at\",\"started_at\",\"finished_at\",\"error\"],\"properties\":{\"id\":{\"type\":\"string\"},"
    "\"status\":{\"enum\":[\"queued\",\"running\",\"completed\",\"cancelled\",\"failed\"]},"
    "\"endpoint_id\":{\"type\":[\"string\",\"null\"],\"description\":\"null: every active webhook of the "
    "organization\"},\"since\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"until\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"events with a later time are not "
    "replayed; omitted or later than now: now\"},"
    "\"progress\":{\"type\":\"object\",\"properties\":{\"events_scanned\":{\"type\":\"integer\",\"description\":"
    "\"events read in the window\"},\"events_matched\":{\"type\":\"integer\",\"description\":\"events at least one "
    "of the job's webhooks takes (its events and conditions)\"},\"deliveries_enqueued\":{\"type\":\"integer\","
    "\"description\":\"deliveries queued for sending, one per event and webhook, each with the event's "
    "webhook-id\"},\"events_skipped\":{\"type\":\"integer\",\"description\":\"unreadable events\"}}},"
    "\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"started_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
    "\"finished_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
    "\"error\":{\"type\":[\"string\",\"null\"]},\"requested_by\":{\"type\":\"string\"},"
    "\"attempts\":{\"type\":\"integer\",\"description\":\"how many times a worker took it up (more than 1: it "
    "resumed after a restart, without enqueuing an event twice)\"}}}";

static const char api_key_schema[] =
    "{\"type\":\"object\",\"required\":[\"id\",\"name\",\"permissions\",\"is_active\",\"rate_limit\","
    "\"rate_window\",\"usage_count\",\"last_used_at\",\"expires_at\"],\"properties\":{"
    "\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
    "\"token\":{\"type\":\"string\",\"description\":\"in the create answer only\"},"
    "\"permissions\":{\"type\":\"array\",\"items\":{\"enum\":[\"read\",\"write\",\"admin\"]}},"
    "\"is_active\":{\"type\":\"boolean\"},\"rate_limit\":{\"type\":[\"integer\",\"null\"],\"default\":1000},"
    "\"rate_window\":{\"enum\":[\"minute\",\"hour\",\"day\",\"month\"],\"default\":\"hour\"},"
    "\"usage_count\":{\"type\":\"integer\"},"
    "\"last_used_at\":{\"type\":[\"string\",\"null\"]},\"expires_at\":{\"type\":[\"string\",\"null\"]}}}";

/* Builds an operation from text, with the component schemas it uses. */
static json_t *operation(const char *text, const char *name, const char *schema_text)
{
    json_t *op = json_loads(text, 0, NULL);
    json_t *schema = schema_text ? json_loads(schema_text, 0, NULL) : NULL;
    if (op && schema)
        json_object_set_new(op, "x-busline-components", json_pack("{s:o}", name, schema));
    else
        json_decref(schema);
    return op;
}

typedef struct doc_entry {
    const char *method, *pattern, *text, *component, *schema;
} doc_entry;

static int document(bl_api_server *s, const doc_entry *d, size_t n, bl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        json_t *op = operation(d[i].text, d[i].component, d[i].schema);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "openapi: operation %s %s is not valid JSON", d[i].method,
                              d[i].pattern);
        if (bl_api_server_document(s, d[i].method, d[i].pattern, op, err) != 0)
            return -1;
    }
    return 0;
}

static const doc_entry webhook_docs[] = {
    {"POST", "/v1/webhooks/replays",
     "{\"operationId\":\"start_webhook_replay\",\"summary\":\"Replay the events of a window [since, until] to one "
     "webhook (endpoint_id) or to every active webhook of the organization, as a tracked job carried out by the "
     "webhook fan-out; receivers get the original webhook-id\",\"tags\":[\"webhooks\"],"
     "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
     "\"required\":[\"since\"],\"properties\":{\"since\":{\"type\":\"string\",\"format\":\"date-time\"},"
     "\"until\":{\"type\":\"string\",\"format\":\"date-time\"},\"endpoint_id\":{\"type\":[\"string\",\"null\"]}}}}}},"
     "\"responses\":{\"202\":{\"description\":\"Queued\",\"content\":{\"application/json\":{\"schema\":{"
     "\"type\":\"object\",\"properties\":{\"data\":{\"$ref\":\"#/components/schemas/WebhookReplay\"}}}}}},"
     "\"409\":{\"description\":\"the webhook is disabled (conflict)\"},"
     "\"422\":{\"description\":\"a bad window: since in the future, until not after since, a webhook that is not "
     "the organization's (validation_failed, field_errors since|until|endpoint_id)\"}}}",
     "WebhookReplay", replay_schema},
    {"GET", "/v1/webhooks/replays",
     "{\"operationId\":\"list_webhook_replays\",\"summary\":\"The organization's replays, newest first\","
     "\"tags\":[\"webhooks\"],\"parameters\":[" PAGE_PARAMS "],\"responses\":{\"200\":{\"description\":"
     "\"One page\"," PAGE_OF("WebhookReplay") "}," ERR400 "}}",
     NULL, NULL},
    {"GET", "/v1/webhooks/replays/:id",
     "{\"operationId\":\"get_webhook_replay\",\"summary\":\"One replay with its progress\",\"tags\":[\"webhooks\"],"
     "\"responses\":{\"200\":{\"description\":\"Found\",\"content\":{\"application/json\":{\"schema\":{"
     "\"type\":\"object\",\"properties\":{\"data\":{\"$ref\":\"#/components/schemas/WebhookReplay\"}}}}}},"
     "\"404\":{\"description\":\"no such replay in this organization (not_found)\"}}}",
     NULL, NULL},
    {"POST", "/v1/webhooks/replays/:id/cancel",
     "{\"operationId\":\"cancel_webhook_replay\",\"summary\":\"Cancel a queued or running replay: it stops at "
     "its next checkpoint (within a second); deliveries already enqueued are sent\",\"tags\":[\"webhooks\"],"
     "\"responses\":{\"200\":{\"description\":\"Cancelled\",\"content\":{\"application/json\":{\"schema\":{"
     "\"type\":\"object\",\"properties\":{\"data\":{\"$ref\":\"#/components/schemas/WebhookReplay\"}}}}}},"
     "\"404\":{\"description\":\"no such replay in this organization (not_found)\"},"
     "\"409\":{\"description\":\"the replay had already ended (conflict)\"}}}",
     NULL, NULL},
    {"GET", "/v1/webhooks",
     "{\"operationId\":\"list_webhooks\",\"summary\":\"The organization's webhooks\",\"tags\":[\"webhooks\"],"
     "\"parameters\":[" PAGE_PARAMS ",{\"name\":\"sort\",\"in\":\"query\",\"schema\":{\"type\":\"string\","
     "\"default\":\"created_at.desc\",\"pattern\":\"^(created_at|updated_at|name|url)\\\\.(asc|desc)$\"}}],"
     "\"responses\":{\"200\":{\"description\":\"One page\"," PAGE_OF("Webhook") "}," ERR400 "}}",
     "Webhook", webhook_schema},
    {"POST", "/v1/webhooks",
     "{\"operationId\":\"create_webhook\",\"summary\":\"Create a webhook: name, url, events (the secret is "
     "shown once)\",\"tags\":[\"webhooks\"],\"responses\":{\"201\":{\"description\":\"Created\","
     JSON_OF("Webhook") "}," ERR422 "}}",
     "Webhook", webhook_schema},
    {"GET", "/v1/webhooks/:id",
     "{\"operationId\":\"get_webhook\",\"summary\":\"One webhook\",\"tags\":[\"webhooks\"],\"responses\":{"
     "\"200\":{\"description\":\"Found\"," JSON_OF("Webhook") "}," ERR404 "}}",
     NULL, NULL},
    {"PUT", "/v1/webhooks/:id",
     "{\"operationId\":\"update_webhook\",\"summary\":\"Change the given fields (is_active enables or "
     "disables)\",\"tags\":[\"webhooks\"],\"responses\":{\"200\":{\"description\":\"Updated\","
     JSON_OF("Webhook") "}," ERR404 "," ERR422 "}}",
     NULL, NULL},
    {"POST", "/v1/webhooks/:id/rotate-secret",
     "{\"operationId\":\"rotate_webhook_secret\",\"summary\":\"New signing keys: a new whsec_ secret (shown "
     "once, as secret) and, when the webhook has an ed25519 pair, a new one (public_key); the old ones keep "
     "signing beside the new for overlap (default 24h, 0s: not at all)\",\"tags\":[\"webhooks\"],"
     "\"requestBody\":{\"required\":false,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
     "\"properties\":{\"overlap\":{\"type\":\"string\",\"example\":\"24h\"}}}}}},"
     "\"responses\":{\"200\":{\"description\":\"Rotated\"," JSON_OF("Webhook") "}," ERR404 "," ERR422 "}}",
     NULL, NULL},
    {"GET", "/v1/webhooks/stats",
     "{\"operationId\":\"get_webhook_stats\",\"summary\":\"get_webhook_stats of the organization\","
     "\"tags\":[\"webhooks\"],\"parameters\":[" PERIOD_PARAM "],\"responses\":{\"200\":{\"description\":"
     "\"Figures\"," JSON_OF("WebhookStats") "}," ERR400 "}}",
     "WebhookStats", webhook_stats_schema},
    {"GET", "/v1/webhooks/:id/stats",
     "{\"operationId\":\"get_one_webhook_stats\",\"summary\":\"get_webhook_stats of one webhook\","
     "\"tags\":[\"webhooks\"],\"parameters\":[" PERIOD_PARAM "],\"responses\":{\"200\":{\"description\":"
     "\"Figures\"," JSON_OF("WebhookStats") "}," ERR400 "," ERR404 "}}",
     NULL, NULL},
    {"GET", "/v1/webhooks/:id/logs",
     "{\"operationId\":\"list_webhook_logs\",\"summary\":\"The webhook's attempts, newest first (webhook_logs; "
     "payload is the body sent: JSON when whole, else its first 4096 bytes as text with payload_truncated "
     "true and payload_bytes its size; null when nothing was sent)\","
     "\"tags\":[\"webhooks\"],\"parameters\":[" PAGE_PARAMS ",{\"name\":\"status\",\"in\":\"query\",\"schema\":"
     "{\"enum\":[\"success\",\"failed\"]}}],\"responses\":{\"200\":{\"description\":\"One page\","
     "\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Page\"}}}}," ERR400 ","
     ERR404 "}}",
     NULL, NULL},
};

static const doc_entry key_docs[] = {
    {"GET", "/v1/api-keys",
     "{\"operationId\":\"list_api_keys\",\"summary\":\"The organization's API keys\",\"tags\":[\"keys\"],"
     "\"parameters\":[" PAGE_PARAMS ",{\"name\":\"sort\",\"in\":\"query\",\"schema\":{\"type\":\"string\","
     "\"default\":\"created_at.desc\",\"pattern\":\"^(created_at|name|last_used_at|usage_count|expires_at)"
     "\\\\.(asc|desc)$\"}}],\"responses\":{\"200\":{\"description\":\"One page\"," PAGE_OF("ApiKey") "},"
     ERR400 "}}",
     "ApiKey", api_key_schema},
    {"POST", "/v1/api-keys",
     "{\"operationId\":\"create_api_key\",\"summary\":\"Create a key: name, permissions, rate_limit + "
     "rate_window (the token is shown once)\",\"tags\":[\"keys\"],\"responses\":{\"201\":{\"description\":"
     "\"Created\"," JSON_OF("ApiKey") "}," ERR422 "}}",
     "ApiKey", api_key_schema},
};

int bl_api_document_webhooks(bl_api_server *s, bl_err *err)
{
    return document(s, webhook_docs, sizeof webhook_docs / sizeof webhook_docs[0], err);
}

int bl_api_document_keys(bl_api_server *s, bl_err *err)
{
    return document(s, key_docs, sizeof key_docs / sizeof key_docs[0], err);
}
