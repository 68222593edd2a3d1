/* A Kafka destination's columns as the store writes them (see
 * endpoint_store_internal.h). */
#include "connectors/webhook/store/endpoint_store_internal.h"

#include "connectors/webhook/store/kafka_destination.h"
#include "core/pg_pool.h"

#include <stdlib.h>
#include <string.h>

void bl_webhook_kafka_params_clear(bl_webhook_kafka_params *k)
{
    free(k->column);
    free(k->password_sealed);
}

int bl_webhook_kafka_params_fill(const bl_webhook_store *st, const char *id, const bl_webhook_spec *spec,
                                 bl_webhook_kafka_params *k, bl_err *err)
{
    const bl_webhook_store_opts *opts = bl_webhook_store_opts_of(st);
    memset(k, 0, sizeof *k);
    k->type = spec->kafka ? "kafka" : "http";
    k->sasl = spec->kafka && bl_webhook_kafka_uses_sasl(spec->kafka) ? "true" : "false";
    if (!spec->kafka)
        return 0;
    bl_webhook_kafka_url(spec->kafka, k->url, sizeof k->url);
    if (!(k->column = bl_webhook_kafka_column_text(spec->kafka)))
        return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    if (!spec->kafka_sasl_password)
        return 0;
    if (!opts->keyring) {
        bl_webhook_kafka_params_clear(k);
        return bl_err_set(err, BL_EINVAL,
                          "webhook store: no encryption keys (set " BL_KEYRING_ENV_KEYS ") to seal secrets");
    }
    char aad[BL_WEBHOOK_ID_MAX + 16];
    bl_webhook_kafka_password_aad(id, aad, sizeof aad);
    k->password_sealed = bl_keyring_seal(opts->keyring, spec->kafka_sasl_password,
                                         strlen(spec->kafka_sasl_password), aad, strlen(aad), err);
    if (!k->password_sealed) {
        bl_webhook_kafka_params_clear(k);
        return -1;
    }
    return 0;
}

int bl_webhook_kafka_password_stored(const bl_webhook_store *st, const char *id, bool *stored, bl_err *err)
{
    const bl_webhook_store_opts *opts = bl_webhook_store_opts_of(st);
    *stored = false;
    PGconn *conn = bl_pg_pool_acquire(opts->pool, opts->acquire_timeout_ms, err);
    if (!conn)
        return bl_err_wrap(err, "webhook store");
    const char *params[] = {id};
    PGresult *res = bl_pg_exec(conn, "SELECT kafka_sasl_password_sealed IS NOT NULL FROM webhook_endpoints WHERE id = $1",
                               1, params, err);
    bl_pg_pool_release(opts->pool, conn);
    if (!res)
        return bl_err_wrap(err, "webhook store");
    *stored = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return 0;
}
