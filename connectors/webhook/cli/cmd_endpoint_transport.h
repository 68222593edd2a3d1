/* The transport settings of `busline webhooks`: the egress-proxy action, the
 * Kafka-destination flags (--kafka, --kafka-sasl-password) and the TLS flags
 * of create|update: --tls-client-cert,
 * --tls-client-key and --tls-ca name PEM files (read here; libcurl gets the
 * texts, never the files), --tls-clear removes the endpoint's TLS settings. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_TRANSPORT_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_ENDPOINT_TRANSPORT_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/config.h"
#include "core/pg_pool.h"

#include <stdbool.h>

/* The PEM texts a spec borrows from (free with bl_cli_tls_pems_clear). */
typedef struct bl_cli_tls_pems {
    char *cert, *key, *ca;
} bl_cli_tls_pems;

/* true when cfg was given any TLS flag. */
bool bl_cli_tls_given(const bl_config *cfg);

/* Applies the TLS flags of cfg onto spec: any of the three files replaces
 * the endpoint's TLS settings with the ones given (the others cleared),
 * --tls-clear removes them, none keeps them. Returns 0, or -1 with err (a
 * file that cannot be read, --tls-clear with a file). */
int bl_cli_tls_apply(const bl_config *cfg, bl_webhook_spec *spec, bl_cli_tls_pems *pems, bl_err *err);

void bl_cli_tls_pems_clear(bl_cli_tls_pems *pems);

/* What a spec's Kafka destination borrows from --kafka (clear with
 * bl_cli_kafka_flags_clear). */
typedef struct bl_cli_kafka_flags {
    json_t *json;
    bl_webhook_kafka kafka; /* borrowed from json and brokers */
    char brokers[BL_KDEST_BROKERS_TEXT_MAX + 1];
} bl_cli_kafka_flags;

/* Applies --kafka JSON (none: back to http with --url) and
 * --kafka-sasl-password of cfg onto spec, which then borrows from h.
 * Returns 0, or -1 with err (bad JSON or destination). */
int bl_cli_kafka_apply(const bl_config *cfg, bl_webhook_spec *spec, bl_cli_kafka_flags *h, bl_err *err);
void bl_cli_kafka_flags_clear(bl_cli_kafka_flags *h);

/* `busline webhooks egress-proxy --org O [--egress-proxy URL|none]`: sets
 * (URL, checked against allow), removes (none) or shows org's egress proxy
 * on a connection of pool, printing it as JSON. Returns the exit code. */
int bl_cli_egress_proxy(bl_pg_pool *pool, const bl_config *cfg, const bl_ssrf_allowlist *allow);

#endif
