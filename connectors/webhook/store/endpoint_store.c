/* Webhook endpoints in PostgreSQL (see endpoint_store.h). */
#include "connectors/webhook/store/endpoint_store.h"

#include "connectors/webhook/store/ops_events.h"
#include "connectors/webhook/store/endpoint_store_internal.h"

#include "core/log.h"
#include "core/uuid.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_webhook_store {
    bl_webhook_store_opts opts;
    bl_ssrf_allowlist allow; /* copied, so the caller's may go away */
    bool has_allow;
};

const bl_webhook_store_opts *bl_webhook_store_opts_of(const bl_webhook_store *st)
{
    return &st->opts;
}

const bl_ssrf_allowlist *bl_webhook_store_allow(const bl_webhook_store *st)
{
    return st->has_allow ? &st->allow : NULL;
}

bl_webhook_store *bl_webhook_store_new(const bl_webhook_store_opts *opts, bl_err *err)
{
    if (!opts || !opts->pool) {
        bl_err_set(err, BL_EINVAL, "webhook store: a connection pool is required");
        return NULL;
    }
    if (opts->health_failures < 0) {
        bl_err_set(err, BL_EINVAL, "webhook store: health_failures must be >= 0");
        return NULL;
    }
    bl_webhook_store *st = calloc(1, sizeof *st);
    if (!st) {
        bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        return NULL;
    }
    st->opts = *opts;
    if (opts->allow) {
        st->allow = *opts->allow;
        st->has_allow = true;
    }
    if (st->opts.health_failures == 0)
        st->opts.health_failures = BL_WEBHOOK_DEFAULT_HEALTH_FAILURES;
    if (st->opts.health_window_ms == 0)
        st->opts.health_window_ms = BL_WEBHOOK_DEFAULT_HEALTH_WINDOW_MS;
    else if (st->opts.health_window_ms < 0)
        st->opts.health_window_ms = 0;
    if (st->opts.acquire_timeout_ms <= 0)
        st->opts.acquire_timeout_ms = 5000;
    return st;
}

void bl_webhook_store_free(bl_webhook_store *st)
{
    free(st);
}

/* ---- the spec as SQL parameters ---- */

typedef struct spec_params {
    char *event_types; /* JSON array text */
    char *conditions;  /* JSON text */
    char *headers;     /* JSON text */
    char *schedule;    /* JSON array text, NULL: none */
    char *transformation; /* JSON text, NULL: none */
    char max_age[24];
    const char *max_age_p;
    char max_attempts[16], backoff[24], timeout[16], rate[40], burst[16];
    const char *legacy, *strict, *rate_p, *burst_p, *format, *scheme;
} spec_params;

static void spec_params_clear(spec_params *p)
{
    free(p->event_types);
    free(p->conditions);
    free(p->headers);
    free(p->schedule);
    free(p->transformation);
}

/* Turns a checked spec into parameter texts, applying the defaults. */
static int spec_params_fill(const bl_webhook_spec *s, spec_params *p, bl_err *err)
{
    memset(p, 0, sizeof *p);
    json_t *types = json_array();
    for (size_t i = 0; types && i < s->event_type_count; i++)
        json_array_append_new(types, json_string(s->event_types[i]));
    p->event_types = types ? json_dumps(types, JSON_COMPACT) : NULL;
    json_decref(types);
    p->conditions = s->conditions ? json_dumps(s->conditions, JSON_COMPACT) : strdup("[]");
    p->headers = s->headers ? json_dumps(s->headers, JSON_COMPACT) : strdup("{}");
    if (!p->event_types || !p->conditions || !p->headers) {
        spec_params_clear(p);
        return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    }
    if (s->retry_schedule_len) {
        json_t *sched = json_array();
        for (size_t i = 0; sched && i < s->retry_schedule_len; i++)
            json_array_append_new(sched, json_integer(s->retry_schedule_s[i]));
        p->schedule = sched ? json_dumps(sched, JSON_COMPACT) : NULL;
        json_decref(sched);
        if (!p->schedule) {
            spec_params_clear(p);
            return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
        }
    }
    if (s->transformation && !(p->transformation = json_dumps(s->transformation, JSON_COMPACT))) {
        spec_params_clear(p);
        return bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    }
    if (s->max_age_s > 0) {
        snprintf(p->max_age, sizeof p->max_age, "%" PRId64, s->max_age_s);
        p->max_age_p = p->max_age;
    }
    /* with a schedule the attempts are its delays and the first */
    snprintf(p->max_attempts, sizeof p->max_attempts, "%d",
             s->retry_schedule_len ? (int)s->retry_schedule_len + 1
             : s->max_attempts     ? s->max_attempts
                                   : BL_WEBHOOK_DEFAULT_MAX_ATTEMPTS);
    snprintf(p->backoff, sizeof p->backoff, "%" PRId64,
             s->backoff_base_ms ? s->backoff_base_ms : (int64_t)BL_WEBHOOK_DEFAULT_BACKOFF_MS);
    snprintf(p->timeout, sizeof p->timeout, "%d",
             s->timeout_ms ? s->timeout_ms : BL_WEBHOOK_DEFAULT_TIMEOUT_MS);
    p->legacy = s->legacy_signature ? "true" : "false";
    p->strict = s->strict_order ? "true" : "false";
    p->format = bl_webhook_payload_format_name(s->payload_format);
    p->scheme = bl_webhook_scheme_name(s->signature_scheme ? s->signature_scheme : BL_WEBHOOK_SCHEME_V1);
    if (s->rate_limit_per_s > 0) {
        snprintf(p->rate, sizeof p->rate, "%.17g", s->rate_limit_per_s);
        int burst = s->rate_limit_burst ? s->rate_limit_burst : (int)ceil(s->rate_limit_per_s);
        snprintf(p->burst, sizeof p->burst, "%d", burst);
        p->rate_p = p->rate;
        p->burst_p = p->burst;
    }
    return 0;
}

/* ---- connections ---- */

static PGconn *acquire(bl_webhook_store *st, bl_err *err)
{
    PGconn *conn = bl_pg_pool_acquire(st->opts.pool, st->opts.acquire_timeout_ms, err);
    if (!conn)
        bl_err_wrap(err, "webhook store");
    return conn;
}

/* ---- the change hook (bl_webhook_change_fn): a change and its hook's
 * writes commit in one transaction ---- */

/* Opens the change's transaction and runs the hook's phase 0. Without a hook
 * nothing happens. Returns 0 or -1 with err (nothing left open). */
static int change_open(bl_webhook_store *st, PGconn *conn, const char *action, const char *id, bl_err *err)
{
    if (!st->opts.on_change && !st->opts.events)
        return 0;
    if (bl_pg_begin(conn, err) != 0)
        return bl_err_wrap(err, "webhook store");
    if (st->opts.on_change && st->opts.on_change(conn, action, id, 0, st->opts.change_ctx, err) != 0) {
        bl_pg_rollback(conn, &(bl_err){0});
        return -1;
    }
    return 0;
}

/* Ends the change opened by change_open: ok (the statement succeeded) runs
 * phase 1 and commits, else rolls back. Returns 0, or -1 with err (the
 * statement's own err is kept when !ok). */
static int change_close(bl_webhook_store *st, PGconn *conn, const char *action, const char *id, bool ok,
                        bl_err *err)
{
    if (!st->opts.on_change && !st->opts.events)
        return ok ? 0 : -1;
    if (ok && (!st->opts.on_change || st->opts.on_change(conn, action, id, 1, st->opts.change_ctx, err) == 0) &&
        bl_pg_commit(conn, err) == 0)
        return 0;
    bl_pg_rollback(conn, &(bl_err){0});
    return -1;
}

/* e (the row a change returned) with its lifecycle event appended in the
 * change's transaction; NULL with err when the event could not be (e is
 * freed, the change rolls back). No encoder: e as it is. */
static bl_webhook_endpoint *with_event(bl_webhook_store *st, PGconn *conn, const char *type, bl_webhook_endpoint *e,
                                       bl_err *err)
{
    if (e && st->opts.events && bl_webhook_ops_endpoint_event(st->opts.events, conn, type, e, err) != 0) {
        bl_webhook_endpoint_free(e);
        return NULL;
    }
    return e;
}

/* Runs sql, expecting at most one endpoint row; returns it, or NULL with err
 * (BL_ENOTFOUND "webhook endpoint <id> not found" when no row came back). */
static bl_webhook_endpoint *one_endpoint(PGconn *conn, const char *sql, int n,
                                         const char *const *params, const char *id, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, sql, n, params, err);
    if (!res) {
        bl_err_wrap(err, "webhook store");
        return NULL;
    }
    bl_webhook_endpoint *e = NULL;
    if (PQntuples(res) == 0)
        bl_err_set(err, BL_ENOTFOUND, "webhook endpoint %.64s not found", id);
    else
        e = bl_webhook_endpoint_from_row(res, 0, err);
    PQclear(res);
    return e;
}

/* ---- create, read, update, delete ---- */

/* Draws a new secret into secret_out (or copies given there, when not NULL)
 * and seals it for endpoint id. Returns the sealed text (caller frees) or
 * NULL with err. */
static char *new_sealed_secret(bl_webhook_store *st, const char *id, const char *given, char *secret_out,
                               size_t secret_out_len, bl_err *err)
{
    if (!st->opts.keyring) {
        bl_err_set(err, BL_EINVAL,
                   "webhook store: no encryption keys (set " BL_KEYRING_ENV_KEYS ") to seal secrets");
        return NULL;
    }
    if (!secret_out || secret_out_len < BL_WEBHOOK_SECRET_TEXT_MAX) {
        bl_err_set(err, BL_EINVAL, "webhook store: secret buffer under %d bytes",
                   BL_WEBHOOK_SECRET_TEXT_MAX);
        return NULL;
    }
    if (given) {
        bl_webhook_secret check;
        if (bl_webhook_secret_from_text(given, &check, err) != 0) {
            bl_err_wrap(err, "secret");
            return NULL;
        }
        bl_webhook_secret_wipe(&check);
        snprintf(secret_out, secret_out_len, "%s", given);
    } else if (bl_webhook_secret_generate(secret_out, secret_out_len, err) != 0) {
        return NULL;
    }
    char *sealed = bl_keyring_seal(st->opts.keyring, secret_out, strlen(secret_out), id,
                                   strlen(id), err);
    if (!sealed)
        memset(secret_out, 0, secret_out_len);
    return sealed;
}

/* A new ed25519 key pair for endpoint id: its "whsk_" text sealed (returned,
 * caller frees) and its "whpk_" text into pub (BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX
 * bytes). NULL with err on failure. */
static char *new_sealed_ed25519(bl_webhook_store *st, const char *id, char *pub, bl_err *err)
{
    if (!st->opts.keyring) {
        bl_err_set(err, BL_EINVAL,
                   "webhook store: no encryption keys (set " BL_KEYRING_ENV_KEYS ") to seal secrets");
        return NULL;
    }
    bl_webhook_ed25519_key key;
    char text[BL_WEBHOOK_ED_KEY_TEXT_MAX], aad[BL_WEBHOOK_ID_MAX + 16];
    char *sealed = NULL;
    if (bl_webhook_ed25519_generate(&key, err) == 0 &&
        bl_webhook_ed25519_signing_text(&key, text, sizeof text, err) == 0 &&
        bl_webhook_ed25519_public_text(&key, pub, BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX, err) == 0) {
        bl_webhook_ed25519_aad(id, aad, sizeof aad);
        sealed = bl_keyring_seal(st->opts.keyring, text, strlen(text), aad, strlen(aad), err);
    }
    bl_webhook_ed25519_wipe(&key);
    memset(text, 0, sizeof text);
    return sealed;
}

static int check_org(const char *org, bl_err *err)
{
    if (!org || !org[0])
        return bl_err_set(err, BL_EINVAL, "organization_id: required");
    if (strlen(org) > BL_WEBHOOK_ORG_MAX)
        return bl_err_set(err, BL_EINVAL, "organization_id: longer than %d bytes",
                          BL_WEBHOOK_ORG_MAX);
    return 0;
}

int bl_webhook_id_check(const char *id, bl_err *err)
{
    if (!id || !id[0] || strlen(id) > BL_WEBHOOK_ID_MAX)
        return bl_err_set(err, BL_ENOTFOUND, "webhook endpoint %.64s not found", id ? id : "");
    return 0;
}

/* A JSON array parameter as an integer[] (NULL stays NULL). */
#define SCHEDULE_SQL(p) \
    "(SELECT array_agg(x::integer ORDER BY n) FROM jsonb_array_elements_text(" p "::jsonb) WITH ORDINALITY AS t(x, n))"

#define INSERT_SQL                                                                          \
    "INSERT INTO webhook_endpoints (id, organization_id, name, url, secret_sealed, "        \
    "event_types, conditions, headers, legacy_signature, strict_order, max_attempts, "      \
    "backoff_base_ms, timeout_ms, rate_limit_per_s, rate_limit_burst, hmac_header, payload_format, " \
    "signature_scheme, ed25519_key_sealed, ed25519_public_key, retry_schedule, max_age_seconds, " \
    "transformation, tls_client_certificate, tls_client_key_sealed, tls_ca_certificate, "   \
    "destination_type, kafka, kafka_sasl_password_sealed) "                                 \
    "VALUES ($1, $2, $3, $4, $5, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "      \
    "$7::jsonb, $8::jsonb, $9::boolean, $10::boolean, $11::integer, $12::bigint, "          \
    "$13::integer, $14::double precision, $15::integer, $16, $17, $18, $19, $20, "          \
    SCHEDULE_SQL("$21") ", $22::integer, $23::jsonb, $24, $25, $26, $27, $28::jsonb, $29) RETURNING " \
    BL_WEBHOOK_ENDPOINT_COLS

bl_webhook_endpoint *bl_webhook_store_create(bl_webhook_store *st, const char *organization_id,
                                             const bl_webhook_spec *spec, char *secret_out,
                                             size_t secret_out_len, bl_err *err)
{
    if (check_org(organization_id, err) != 0 || bl_webhook_spec_check(st, spec, err) != 0)
        return NULL;
    char id[BL_UUID_SIZE];
    if (bl_uuid_random(id, err) != 0)
        return NULL;
    char *sealed = new_sealed_secret(st, id, spec->secret, secret_out, secret_out_len, err);
    if (!sealed)
        return NULL;
    bl_webhook_endpoint *e = NULL;
    spec_params p;
    PGconn *conn = NULL;
    char pub[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX] = "";
    char *ed_sealed = NULL;
    bl_webhook_tls_params tls = {0};
    if ((spec->signature_scheme & BL_WEBHOOK_SCHEME_V1A) && !(ed_sealed = new_sealed_ed25519(st, id, pub, err)))
        goto done;
    bl_webhook_kafka_params kp;
    if (bl_webhook_tls_params_fill(spec, st->opts.keyring, id, &tls, err) != 0 ||
        bl_webhook_kafka_params_fill(st, id, spec, &kp, err) != 0)
        goto done;
    if (spec_params_fill(spec, &p, err) != 0) {
        bl_webhook_kafka_params_clear(&kp);
        goto done;
    }
    conn = acquire(st, err);
    if (conn) {
        const char *params[] = {id, organization_id, spec->name, spec->kafka ? kp.url : spec->url, sealed,
                                p.event_types, p.conditions, p.headers, p.legacy, p.strict,
                                p.max_attempts, p.backoff, p.timeout, p.rate_p, p.burst_p,
                                spec->hmac_header, p.format, p.scheme, ed_sealed, ed_sealed ? pub : NULL,
                                p.schedule, p.max_age_p, p.transformation, tls.cert, tls.key_sealed, tls.ca,
                                kp.type, kp.column, kp.password_sealed};
        if (change_open(st, conn, "create", id, err) == 0) {
            e = with_event(st, conn, "endpoint.created", one_endpoint(conn, INSERT_SQL, 29, params, id, err), err);
            if (change_close(st, conn, "create", id, e != NULL, err) != 0) {
                bl_webhook_endpoint_free(e);
                e = NULL;
            }
        }
    }
    spec_params_clear(&p);
    bl_webhook_kafka_params_clear(&kp);
done:
    bl_webhook_tls_params_clear(&tls);
    bl_pg_pool_release(st->opts.pool, conn);
    free(sealed);
    free(ed_sealed);
    if (!e)
        memset(secret_out, 0, secret_out_len);
    return e;
}

bl_webhook_endpoint *bl_webhook_store_get(bl_webhook_store *st, const char *id, bl_err *err)
{
    if (bl_webhook_id_check(id, err) != 0)
        return NULL;
    PGconn *conn = acquire(st, err);
    if (!conn)
        return NULL;
    const char *params[] = {id};
    bl_webhook_endpoint *e = one_endpoint(
        conn, "SELECT " BL_WEBHOOK_ENDPOINT_COLS " FROM webhook_endpoints WHERE id = $1", 1,
        params, id, err);
    bl_pg_pool_release(st->opts.pool, conn);
    return e;
}

void bl_webhook_endpoint_list_free(bl_webhook_endpoint_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        bl_webhook_endpoint_free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int bl_webhook_store_list(bl_webhook_store *st, const char *organization_id, bool active_only,
                          bl_webhook_endpoint_list *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    PGconn *conn = acquire(st, err);
    if (!conn)
        return -1;
    const char *params[] = {organization_id, active_only ? "true" : "false"};
    PGresult *res = bl_pg_exec(conn,
                               "SELECT " BL_WEBHOOK_ENDPOINT_COLS " FROM webhook_endpoints "
                               "WHERE ($1::text IS NULL OR organization_id = $1) "
                               "AND (active OR NOT $2::boolean) ORDER BY created_at, id",
                               2, params, err);
    bl_pg_pool_release(st->opts.pool, conn);
    if (!res)
        return bl_err_wrap(err, "webhook store: list");
    int n = PQntuples(res), rc = 0;
    out->items = calloc(n ? (size_t)n : 1, sizeof *out->items);
    if (!out->items)
        rc = bl_err_set(err, BL_ENOMEM, "webhook store: out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        out->items[i] = bl_webhook_endpoint_from_row(res, i, err);
        if (!out->items[i])
            rc = -1;
        else
            out->count++;
    }
    PQclear(res);
    if (rc != 0)
        bl_webhook_endpoint_list_free(out);
    return rc;
}

#define UPDATE_SQL                                                                          \
    "UPDATE webhook_endpoints SET name = $2, url = $3, "                                     \
    "event_types = ARRAY(SELECT jsonb_array_elements_text($4::jsonb)), "                    \
    "conditions = $5::jsonb, headers = $6::jsonb, legacy_signature = $7::boolean, "         \
    "strict_order = $8::boolean, max_attempts = $9::integer, backoff_base_ms = $10::bigint, " \
    "timeout_ms = $11::integer, rate_limit_per_s = $12::double precision, "                  \
    "rate_limit_burst = $13::integer, hmac_header = $14, payload_format = $15, "             \
    "signature_scheme = $16, ed25519_key_sealed = COALESCE(ed25519_key_sealed, $17), "        \
    "ed25519_public_key = COALESCE(ed25519_public_key, $18), "                               \
    "retry_schedule = " SCHEDULE_SQL("$19") ", max_age_seconds = $20::integer, "             \
    "transformation = $21::jsonb, "                                                         \
    BL_WEBHOOK_TLS_SET_SQL("$22", "$23", "$24", "$25") ", "                                  \
    "destination_type = $26, kafka = $27::jsonb, kafka_sasl_password_sealed = CASE WHEN "     \
    "$27::jsonb IS NULL OR NOT $29::boolean THEN NULL ELSE COALESCE($28, kafka_sasl_password_sealed) END, " \
    "updated_at = now() WHERE id = $1 RETURNING "                                            \
    BL_WEBHOOK_ENDPOINT_COLS

bl_webhook_endpoint *bl_webhook_store_update(bl_webhook_store *st, const char *id,
                                             const bl_webhook_spec *spec, bl_err *err)
{
    bool password_stored = false;
    if (bl_webhook_id_check(id, err) != 0 ||
        (spec && spec->kafka && !spec->kafka_sasl_password && bl_webhook_kafka_password_stored(st, id, &password_stored, err) != 0) ||
        bl_webhook_spec_check_kept(st, spec, password_stored, err) != 0)
        return NULL;
    /* A scheme with v1a needs a key pair: one is drawn (when the store has a
     * keyring), and kept only when the endpoint has none yet; without either
     * the table's check refuses the change. */
    char pub[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX] = "";
    char *ed_sealed = NULL;
    if ((spec->signature_scheme & BL_WEBHOOK_SCHEME_V1A) && st->opts.keyring &&
        !(ed_sealed = new_sealed_ed25519(st, id, pub, err)))
        return NULL;
    spec_params p;
    bl_webhook_tls_params tls;
    if (bl_webhook_tls_params_fill(spec, st->opts.keyring, id, &tls, err) != 0) {
        free(ed_sealed);
        return NULL;
    }
    bl_webhook_kafka_params kp;
    if (bl_webhook_kafka_params_fill(st, id, spec, &kp, err) != 0) {
        bl_webhook_tls_params_clear(&tls);
        free(ed_sealed);
        return NULL;
    }
    if (spec_params_fill(spec, &p, err) != 0) {
        bl_webhook_tls_params_clear(&tls);
        bl_webhook_kafka_params_clear(&kp);
        free(ed_sealed);
        return NULL;
    }
    bl_webhook_endpoint *e = NULL;
    PGconn *conn = acquire(st, err);
    if (conn) {
        const char *params[] = {id, spec->name, spec->kafka ? kp.url : spec->url, p.event_types, p.conditions,
                                p.headers, p.legacy, p.strict, p.max_attempts, p.backoff,
                                p.timeout, p.rate_p, p.burst_p, spec->hmac_header, p.format,
                                p.scheme, ed_sealed, ed_sealed ? pub : NULL, p.schedule, p.max_age_p,
                                p.transformation, tls.change, tls.cert, tls.key_sealed, tls.ca,
                                kp.type, kp.column, kp.password_sealed, kp.sasl};
        if (change_open(st, conn, "update", id, err) == 0) {
            e = with_event(st, conn, "endpoint.updated", one_endpoint(conn, UPDATE_SQL, 29, params, id, err), err);
            if (change_close(st, conn, "update", id, e != NULL, err) != 0) {
                bl_webhook_endpoint_free(e);
                e = NULL;
            }
        }
        bl_pg_pool_release(st->opts.pool, conn);
    }
    spec_params_clear(&p);
    bl_webhook_tls_params_clear(&tls);
    bl_webhook_kafka_params_clear(&kp);
    free(ed_sealed);
    return e;
}

/* endpoint.deleted of the row a DELETE returned (id, organization_id, name, url). */
static int deleted_event(bl_webhook_store *st, PGconn *conn, PGresult *res, bl_err *err)
{
    return bl_webhook_ops_deleted_event(st->opts.events, conn, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0),
                                        PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), err);
}

/* Runs a statement on endpoint id that returns its id when the row exists;
 * then, with an encoder, event (may be NULL) on the returned row in the
 * same transaction. */
static int exec_on_endpoint(bl_webhook_store *st, const char *action, const char *sql, int n,
                            const char *const *params, int (*event)(bl_webhook_store *, PGconn *, PGresult *, bl_err *),
                            bl_err *err)
{
    PGconn *conn = acquire(st, err);
    if (!conn)
        return -1;
    if (change_open(st, conn, action, params[0], err) != 0) {
        bl_pg_pool_release(st->opts.pool, conn);
        return -1;
    }
    PGresult *res = bl_pg_exec(conn, sql, n, params, err);
    int found = res && PQntuples(res) > 0;
    if (res && !found)
        bl_err_set(err, BL_ENOTFOUND, "webhook endpoint %.64s not found", params[0]);
    else if (!res)
        bl_err_wrap(err, "webhook store");
    if (found && event && st->opts.events && event(st, conn, res, err) != 0)
        found = 0;
    PQclear(res);
    int rc = change_close(st, conn, action, params[0], found, err);
    bl_pg_pool_release(st->opts.pool, conn);
    return found && rc == 0 ? 0 : -1;
}

int bl_webhook_store_delete(bl_webhook_store *st, const char *id, bl_err *err)
{
    if (bl_webhook_id_check(id, err) != 0)
        return -1;
    const char *params[] = {id};
    return exec_on_endpoint(st, "delete",
                            "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id, organization_id, name, url", 1,
                            params, deleted_event, err);
}

int bl_webhook_store_rotate(bl_webhook_store *st, const char *id, int64_t overlap_ms,
                            char *secret_out, size_t secret_out_len, bl_err *err)
{
    if (bl_webhook_id_check(id, err) != 0)
        return -1;
    if (overlap_ms == 0)
        overlap_ms = BL_WEBHOOK_DEFAULT_OVERLAP_MS;
    char *sealed = new_sealed_secret(st, id, NULL, secret_out, secret_out_len, err);
    if (!sealed)
        return -1;
    /* A new ed25519 pair too, used only when the endpoint has one. */
    char pub[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX] = "";
    char *ed_sealed = new_sealed_ed25519(st, id, pub, err);
    if (!ed_sealed) {
        free(sealed);
        memset(secret_out, 0, secret_out_len);
        return -1;
    }
    char overlap[24];
    snprintf(overlap, sizeof overlap, "%" PRId64, overlap_ms > 0 ? overlap_ms : 0);
    /* The right-hand sides read the row as it was: the current keys move
     * to previous in the same statement that replaces them. */
    const char *params[] = {id, sealed, overlap, ed_sealed, pub};
    int rc = exec_on_endpoint(
        st, "rotate",
        "UPDATE webhook_endpoints SET "
        "previous_secret_sealed = CASE WHEN $3::bigint > 0 THEN secret_sealed END, "
        "previous_secret_expires_at = CASE WHEN $3::bigint > 0 "
        "THEN now() + $3::bigint * interval '1 millisecond' END, "
        "secret_sealed = $2, "
        "previous_ed25519_key_sealed = CASE WHEN $3::bigint > 0 THEN ed25519_key_sealed END, "
        "previous_ed25519_public_key = CASE WHEN $3::bigint > 0 THEN ed25519_public_key END, "
        "previous_ed25519_expires_at = CASE WHEN $3::bigint > 0 AND ed25519_key_sealed IS NOT NULL "
        "THEN now() + $3::bigint * interval '1 millisecond' END, "
        "ed25519_key_sealed = CASE WHEN ed25519_key_sealed IS NOT NULL THEN $4 END, "
        "ed25519_public_key = CASE WHEN ed25519_key_sealed IS NOT NULL THEN $5 END, "
        "updated_at = now() WHERE id = $1 RETURNING id",
        5, params, NULL, err);
    free(sealed);
    free(ed_sealed);
    if (rc != 0)
        memset(secret_out, 0, secret_out_len);
    return rc;
}
