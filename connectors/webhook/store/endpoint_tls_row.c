/* An endpoint's TLS columns: read from a row, written from a spec (the key
 * sealed with the keyring, bound to "<id>/tls"), and the key opened again
 * for the delivery workers. See endpoint_store.h and
 * migrations/196_webhook_endpoint_tls.sql. */
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int text_col(const PGresult *res, int row, int col, char **out)
{
    *out = NULL;
    if (PQgetisnull(res, row, col))
        return 0;
    *out = strdup(PQgetvalue(res, row, col));
    return *out ? 0 : -1;
}

int bl_webhook_endpoint_tls_from_row(bl_webhook_endpoint *e, const PGresult *res, int row)
{
    int c = BL_WEBHOOK_TLS_COL0;
    if (PQnfields(res) < c + 4)
        return 0;
    int rc = text_col(res, row, c, &e->tls_client_cert);
    rc |= text_col(res, row, c + 1, &e->tls_client_key_sealed);
    rc |= text_col(res, row, c + 2, &e->tls_ca_cert);
    rc |= text_col(res, row, c + 3, &e->egress_proxy);
    return rc ? -1 : 0;
}

static void tls_aad(const char *id, char *out, size_t len)
{
    snprintf(out, len, "%s/tls", id);
}

int bl_webhook_tls_params_fill(const bl_webhook_spec *spec, const bl_keyring *kr, const char *id,
                               bl_webhook_tls_params *p, bl_err *err)
{
    memset(p, 0, sizeof *p);
    p->change = spec->tls_change == BL_WEBHOOK_TLS_SET     ? "set"
                : spec->tls_change == BL_WEBHOOK_TLS_CLEAR ? "clear"
                                                           : "keep";
    if (spec->tls_change != BL_WEBHOOK_TLS_SET)
        return 0;
    p->cert = spec->tls_client_cert;
    p->ca = spec->tls_ca_cert;
    if (!spec->tls_client_key)
        return 0;
    if (!kr)
        return bl_err_set(err, BL_EINVAL, "tls: no encryption keys (set " BL_KEYRING_ENV_KEYS
                                          ") to seal the client key");
    char aad[BL_WEBHOOK_ID_MAX + 8];
    tls_aad(id, aad, sizeof aad);
    p->key_sealed = bl_keyring_seal(kr, spec->tls_client_key, strlen(spec->tls_client_key), aad, strlen(aad), err);
    return p->key_sealed ? 0 : bl_err_wrap(err, "tls: client key");
}

void bl_webhook_tls_params_clear(bl_webhook_tls_params *p)
{
    free(p->key_sealed);
    memset(p, 0, sizeof *p);
}

int bl_webhook_endpoint_tls_key_open(const bl_webhook_endpoint *e, const bl_keyring *kr, char **pem,
                                     size_t *pem_len, bl_err *err)
{
    *pem = NULL;
    *pem_len = 0;
    if (!e->tls_client_key_sealed)
        return 0;
    char aad[BL_WEBHOOK_ID_MAX + 8];
    tls_aad(e->id, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (bl_keyring_open(kr, e->tls_client_key_sealed, aad, strlen(aad), &plain, &len, err) != 0)
        return bl_err_wrap(err, "webhook endpoint %s: tls client key", e->id);
    *pem = (char *)plain;
    *pem_len = len;
    return 0;
}
