#include "api/command_send.h"

#include "api/command_rows.h"
#include "api/server_private.h"
#include "core/log.h"
#include "producers/commands/command_envelope.h"
#include "producers/attendance/domain.h"
#include "producers/fieldservice/domain.h"
#include "producers/pmo/domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SOURCE "busline-api"
#define IDEMPOTENCY_WAIT_MS 5000

struct bl_api_commands {
    bl_api_server *server;
    bl_api_command_bus *bus;
    bl_api_command_rows *rows; /* NULL without a pool */
    bl_api_outcomes *outcomes; /* NULL when the bus cannot send */
};

/* The domains whose processed-commands tables the status reads. */
static const bl_domain_rules *const domains[] = {&bl_pmo_rules, &bl_fieldservice_rules, &bl_attendance_rules};

static void commands_free(void *arg)
{
    bl_api_commands *c = arg;
    c->server->commands = NULL;
    bl_api_outcomes_free(c->outcomes);
    bl_api_command_rows_free(c->rows);
    bl_api_command_bus_free(c->bus);
    free(c);
}

static void outcome_of_status(const json_t *status, bl_api_command_outcome *out);

/* bl_api_outcome_recheck_fn over the tables: the command's organization
 * from api_commands, then its recorded status. */
static int recorded_outcome(void *ctx, const char *command_id, bl_api_command_outcome *out)
{
    bl_api_commands *c = ctx;
    bl_err err = {0};
    char org[BL_API_ID_MAX] = "";
    PGconn *conn = bl_api_acquire_pg(c->server, &err);
    if (!conn)
        return -1;
    const char *p[] = {command_id};
    PGresult *r = bl_pg_exec(conn, "SELECT organization_id::text FROM api_commands WHERE command_id::text = $1",
                             1, p, &err);
    bool read = r != NULL;
    if (r && PQntuples(r) == 1)
        snprintf(org, sizeof org, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    bl_pg_pool_release(c->server->pool, conn);
    if (!org[0])
        return read ? 0 : -1;
    json_t *status = bl_api_command_status(c, command_id, org, &err);
    if (!status)
        return -1;
    outcome_of_status(status, out);
    json_decref(status);
    return out->kind != BL_API_OUTCOME_PENDING;
}

bl_api_commands *bl_api_server_commands(bl_api_server *s, bl_err *err)
{
    if (s->commands)
        return s->commands;
    bl_api_commands *c = calloc(1, sizeof *c);
    if (!c) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        return NULL;
    }
    c->server = s;
    const bl_api_config *cfg = &s->cfg;
    bl_api_command_bus_opts opts = {.schemas_dir = cfg->schemas_dir, .registry_url = cfg->registry_url,
                                    .brokers = cfg->kafka_brokers, .topic_prefix = cfg->topic_prefix,
                                    .ack_timeout_ms = cfg->command_ack_timeout_ms};
    if (!(c->bus = bl_api_command_bus_new(&opts, err)) ||
        (bl_api_command_bus_can_send(c->bus) && s->pool &&
         (!(c->outcomes = bl_api_outcomes_new(bl_pg_pool_conninfo(s->pool), recorded_outcome, c, err)) ||
          !(c->rows = bl_api_command_rows_new(s->pool, err))))) {
        bl_api_outcomes_free(c->outcomes);
        bl_api_command_bus_free(c->bus);
        free(c);
        return NULL;
    }
    if (bl_api_server_on_free(s, commands_free, c, err) != 0)
        return NULL; /* freed by the hook's failure path */
    s->commands = c;
    return c;
}

bl_api_command_bus *bl_api_commands_bus(const bl_api_commands *c)
{
    return c->bus;
}

bool bl_api_commands_can_send(const bl_api_commands *c)
{
    return bl_api_command_bus_can_send(c->bus);
}

int bl_api_request_fingerprint(const bl_http_request *req, char out[BL_SHA256_HEX_SIZE], bl_err *err)
{
    size_t body_len = 0, path_len = strlen(bl_http_request_path(req));
    const char *body = bl_http_request_body(req, &body_len);
    const char *method = bl_http_request_method(req);
    size_t n = strlen(method) + 1 + path_len + 1 + body_len;
    char *buf = malloc(n ? n : 1);
    if (!buf)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    snprintf(buf, n, "%s %s\n", method, bl_http_request_path(req));
    memcpy(buf + strlen(method) + 1 + path_len + 1, body ? body : "", body_len);
    int rc = bl_sha256_hex(buf, n, out, err);
    free(buf);
    return rc;
}

bool bl_api_idempotency_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return false;
    for (const unsigned char *ch = (const unsigned char *)k; *ch; ch++)
        if (*ch < 0x21 || *ch > 0x7e)
            return false;
    return true;
}

/* ---- idempotency ---- */

typedef enum claim_outcome { CLAIMED, REPLAY, MISMATCH, IN_PROGRESS, TAKEN_OVER, CLAIM_FAILED } claim_outcome;

/* A key's row still 'sending' this long after its request began was left by
 * a request that gave up on Kafka's ack (the command may have landed) or a
 * process that died: a retry takes it over and sends the same command id
 * again, which the command's consumers apply once. Past any send: the queue
 * wait and the ack wait are each bounded by the ack timeout. */
static int64_t abandoned_after_ms(const bl_api_commands *c)
{
    return 2LL * c->server->cfg.command_ack_timeout_ms + 5000;
}

/* Takes over the abandoned 'sending' row of row's key and request: returns
 * 1 with its command id in taken_id, 0 when it is not abandoned, -1 on error. */
static int take_over(const bl_api_commands *c, PGconn *conn, const char *const row[7],
                     char taken_id[BL_UUID_SIZE], bl_err *err)
{
    char after[32];
    snprintf(after, sizeof after, "%lld", (long long)abandoned_after_ms(c));
    const char *p[] = {row[1], row[5], row[6], after};
    PGresult *r = bl_pg_exec(conn,
                             "UPDATE api_commands SET created_at = now()"
                             " WHERE organization_id = $1 AND idempotency_key = $2 AND request_sha256 = $3"
                             " AND state = 'sending' AND created_at < now() - make_interval(secs => $4::bigint / 1000.0)"
                             " RETURNING command_id",
                             4, p, err);
    if (!r)
        return -1;
    int taken = PQntuples(r) == 1;
    if (taken)
        snprintf(taken_id, BL_UUID_SIZE, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return taken;
}

/* Claims the command's row; with an idempotency key already used, finds the
 * first request's state instead (waiting a while for one in flight, taking
 * over one abandoned). */
static claim_outcome claim(bl_api_commands *c, const char *const row[7], char **replay,
                           char taken_id[BL_UUID_SIZE], bl_err *err)
{
    bl_api_server *s = c->server;
    int64_t waited = 0;
    for (;;) {
        PGconn *conn = bl_api_acquire_pg(s, err);
        if (!conn)
            return CLAIM_FAILED;
        PGresult *r = bl_pg_exec_prepared(conn,
                                 "INSERT INTO api_commands (command_id, organization_id, command_type,"
                                 " topic, subject, idempotency_key, request_sha256, state)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending')"
                                 " ON CONFLICT (organization_id, idempotency_key)"
                                 " WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING command_id",
                                 7, row, err);
        if (r && PQntuples(r) == 1) {
            PQclear(r);
            bl_pg_pool_release(s->pool, conn);
            return CLAIMED;
        }
        PQclear(r);
        if (!r) {
            bl_pg_pool_release(s->pool, conn);
            return CLAIM_FAILED;
        }
        const char *p[] = {row[1], row[5]};
        r = bl_pg_exec(conn,
                       "SELECT request_sha256, state, response FROM api_commands"
                       " WHERE organization_id = $1 AND idempotency_key = $2",
                       2, p, err);
        int taken = r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "sending") == 0 &&
                            strcmp(PQgetvalue(r, 0, 0), row[6]) == 0
                        ? take_over(c, conn, row, taken_id, err)
                        : 0;
        bl_pg_pool_release(s->pool, conn);
        if (!r || taken < 0) {
            PQclear(r);
            return CLAIM_FAILED;
        }
        if (taken) {
            PQclear(r);
            return TAKEN_OVER;
        }
        if (PQntuples(r) == 1) {
            claim_outcome out = IN_PROGRESS;
            if (strcmp(PQgetvalue(r, 0, 0), row[6]) != 0)
                out = MISMATCH;
            else if (strcmp(PQgetvalue(r, 0, 1), "accepted") == 0 && (*replay = strdup(PQgetvalue(r, 0, 2))))
                out = REPLAY;
            PQclear(r);
            if (out != IN_PROGRESS || waited >= IDEMPOTENCY_WAIT_MS)
                return out;
        } else {
            PQclear(r); /* the first request failed and let go: claim again */
        }
        struct timespec pause = {0, 25 * 1000000L};
        nanosleep(&pause, NULL);
        waited += 25;
    }
}

static int release_claim(bl_api_commands *c, const char *command_id, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(c->server, err);
    if (!conn)
        return -1;
    const char *p[] = {command_id};
    int rc = bl_pg_exec_cmd(conn, "DELETE FROM api_commands WHERE command_id = $1 AND state = 'sending'",
                            1, p, err);
    bl_pg_pool_release(c->server->pool, conn);
    return rc;
}

/* The rows written after Kafka's ack commit without waiting for their WAL
 * flush (synchronous_commit off for that transaction only, set in the same
 * statement: one round trip). A database crash may lose the last few
 * hundred milliseconds of them, and that is harmless: the command is on the
 * bus whatever happens to its row. A lost 'accepted' mark leaves a keyed
 * row 'sending', which a retry takes over and sends again under the same
 * command id, applied once by the command's consumers; a lost row of a
 * command without a key loses only its status URL (there is no retry to
 * protect). The claim of an Idempotency-Key is written before the produce
 * and flushed: losing it would let a retry send a second command. */
#define WITHOUT_FLUSH "(SELECT set_config('synchronous_commit', 'off', true)) AS without_flush"

static int mark_accepted(bl_api_commands *c, const char *command_id, const char *response, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(c->server, err);
    if (!conn)
        return -1;
    const char *p[] = {command_id, response};
    PGresult *r = bl_pg_exec_prepared(conn,
                            "UPDATE api_commands SET state = 'accepted', response = $2, accepted_at = now()"
                            " FROM " WITHOUT_FLUSH " WHERE command_id = $1",
                            2, p, err);
    bl_pg_pool_release(c->server->pool, conn);
    PQclear(r);
    return r ? 0 : -1;
}

/* The row of an acknowledged command sent without an Idempotency-Key: no
 * claim came before (nothing to protect from a retry), so it is written
 * once, accepted, after the ack, in a batch with the rows of the requests
 * acknowledged meanwhile (api/command_rows.h). row as claim()'s, response
 * the 202 body. */
static int record_accepted(bl_api_commands *c, const char *const row[7], const char *response, bl_err *err)
{
    if (!c->rows)
        return bl_err_set(err, BL_EPG, "api: no database to record the command in");
    const char *accepted[] = {row[0], row[1], row[2], row[3], row[4], row[6], response};
    return bl_api_command_rows_write(c->rows, accepted, err);
}

/* ---- sending ---- */

/* The envelope of data with command_id (a new one when "") and its Avro
 * bytes into *env and *bytes (replacing what they held). Returns 0, or -1
 * with err (BL_EINVAL: the data does not fit the schema). */
static int build_command(bl_api_commands *c, const bl_catalog_msg *msg, const bl_command_meta *meta,
                         const json_t *data, char command_id[BL_UUID_SIZE], int64_t *time_ms, json_t **env,
                         uint8_t **bytes, size_t *len, bl_err *err)
{
    json_decref(*env);
    free(*bytes);
    *bytes = NULL;
    if (!(*env = bl_command_envelope_new(meta, data, command_id, time_ms, err)))
        return -1;
    return bl_api_command_bus_encode(c->bus, msg, *env, bytes, len, err);
}

/* Registers sent's waiter when asked. Returns 0 or -1 with err. */
static int register_waiter(bl_api_commands *c, const bl_api_command_spec *spec, bl_api_sent_command *sent,
                           bl_err *err)
{
    if (!spec->wait || !c->outcomes)
        return 0;
    return (sent->waiter = bl_api_outcomes_register(c->outcomes, sent->command_id, err)) ? 0 : -1;
}

/* The command id of a replayed 202 body into sent. */
static void replayed_id(bl_api_sent_command *sent)
{
    json_t *j = json_loads(sent->answer, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "command_id"));
    const char *subject = json_string_value(json_object_get(j, "aggregate_id"));
    snprintf(sent->command_id, sizeof sent->command_id, "%s", id ? id : "");
    snprintf(sent->aggregate_id, sizeof sent->aggregate_id, "%s", subject ? subject : "");
    snprintf(sent->status_url, sizeof sent->status_url, "/v1/commands/%s", sent->command_id);
    json_decref(j);
}

int bl_api_command_send(bl_api_commands *c, const bl_api_command_spec *spec, bl_api_sent_command *out,
                        bl_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->aggregate_id, sizeof out->aggregate_id, "%s", spec->subject ? spec->subject : "");
    if (!bl_api_command_bus_can_send(c->bus))
        return bl_err_set(err, BL_EKAFKA, "api: commands cannot be sent (no brokers or registry)");
    const bl_catalog_msg *msg = bl_catalog_find(bl_api_command_bus_catalog(c->bus), BL_MSG_COMMAND, NULL,
                                                spec->type, err);
    if (!msg)
        return -1;
    json_t *env = NULL, *answer = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *replay = NULL;
    int64_t time_ms = 0;
    int rc = -1;
    bl_command_meta meta = {.type = msg->type, .organization_id = spec->organization_id,
                            .subject = spec->subject, .source = SOURCE, .actor = spec->actor,
                            .idempotency_key = spec->idempotency_key};
    if (build_command(c, msg, &meta, spec->data, out->command_id, &time_ms, &env, &bytes, &len, err) != 0)
        goto done;
    const char *topic = bl_api_command_bus_topic(c->bus, msg);
    const char *row[7] = {out->command_id, spec->organization_id, msg->type, topic, spec->subject,
                          spec->idempotency_key, spec->fingerprint};
    char taken_id[BL_UUID_SIZE] = "";
    /* without a key there is nothing to claim: the row is written once, after the ack */
    bool keyed = spec->idempotency_key != NULL;
    switch (keyed ? claim(c, row, &replay, taken_id, err) : CLAIMED) {
    case CLAIMED: break;
    case TAKEN_OVER:
        bl_log_warn("api: idempotency key left sending by an earlier request: sending its command again",
                    BL_FS("command_id", taken_id), BL_FS("type", msg->type));
        snprintf(out->command_id, sizeof out->command_id, "%s", taken_id);
        out->resent = true;
        if (build_command(c, msg, &meta, spec->data, out->command_id, &time_ms, &env, &bytes, &len, err) != 0)
            goto done;
        break;
    case REPLAY:
        out->status = BL_API_SENT_BEFORE;
        out->answer = replay;
        out->resent = true;
        replay = NULL;
        replayed_id(out);
        rc = register_waiter(c, spec, out, err);
        goto done;
    case MISMATCH: out->status = BL_API_KEY_MISMATCH; rc = 0; goto done;
    case IN_PROGRESS: out->status = BL_API_KEY_IN_PROGRESS; rc = 0; goto done;
    case CLAIM_FAILED: goto done;
    }
    if (register_waiter(c, spec, out, err) != 0) {
        bl_err ignored = {0};
        if (keyed)
            release_claim(c, out->command_id, &ignored);
        goto done;
    }
    char time_text[32];
    bl_kafka_header headers[BL_COMMAND_HEADER_COUNT];
    size_t n_headers = bl_command_headers(&meta, out->command_id, time_ms, time_text, headers);
    if (bl_api_command_bus_send(c->bus, msg, spec->subject, bytes, len, headers, n_headers, err) != 0) {
        bl_log_error("api: command not acknowledged", BL_FS("command_id", out->command_id),
                     BL_FS("topic", topic), BL_FS("error", err->msg));
        bl_err ignored = {0};
        if (keyed && err->code != BL_ETIMEOUT) /* a timed-out one may still land: keep its key taken */
            release_claim(c, out->command_id, &ignored);
        if (err->code != BL_ETIMEOUT)
            err->code = BL_EKAFKA;
        goto done;
    }
    snprintf(out->status_url, sizeof out->status_url, "/v1/commands/%s", out->command_id);
    answer = json_pack("{s:s, s:s, s:s, s:s, s:s}", "command_id", out->command_id, "status_url",
                       out->status_url, "status", "accepted", "type", msg->type, "aggregate_id", spec->subject);
    if (!answer || !(out->answer = json_dumps(answer, JSON_COMPACT))) {
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
        goto done;
    }
    bl_err mark_err = {0};
    if ((keyed ? mark_accepted(c, out->command_id, out->answer, &mark_err)
               : record_accepted(c, row, out->answer, &mark_err)) != 0)
        bl_log_error("api: accepted command not recorded", BL_FS("command_id", out->command_id),
                     BL_FS("error", mark_err.msg));
    out->status = BL_API_SENT;
    rc = 0;
done:
    if (rc != 0)
        bl_api_sent_command_clear(c, out);
    free(replay);
    free(bytes);
    json_decref(answer);
    json_decref(env);
    return rc;
}

void bl_api_sent_command_clear(bl_api_commands *c, bl_api_sent_command *sent)
{
    if (sent->waiter)
        bl_api_outcomes_release(c->outcomes, sent->waiter);
    sent->waiter = NULL;
    free(sent->answer);
    sent->answer = NULL;
}

/* ---- outcomes ---- */

/* The processed-commands table of the domain whose commands topic is topic
 * ("<prefix>commands.<domain>"), or NULL. */
static const char *processed_table_of(const char *topic)
{
    const char *at = NULL;
    for (const char *p = strstr(topic, "commands."); p; p = strstr(p + 1, "commands."))
        at = p + strlen("commands.");
    for (size_t i = 0; at && i < sizeof domains / sizeof domains[0]; i++)
        if (strcmp(domains[i]->domain, at) == 0)
            return domains[i]->processed_table;
    return NULL;
}

json_t *bl_api_command_status(bl_api_commands *c, const char *command_id, const char *organization_id,
                              bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(c->server, err);
    if (!conn)
        return NULL;
    json_t *status = NULL;
    const char *p[] = {command_id, organization_id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT topic FROM api_commands WHERE command_id::text = $1"
                             " AND organization_id::text = $2",
                             2, p, err);
    if (r && PQntuples(r) == 0)
        bl_err_set(err, BL_ENOTFOUND, "api: no command %s in this organization", command_id);
    if (!r || PQntuples(r) == 0)
        goto done;
    const char *table = processed_table_of(PQgetvalue(r, 0, 0));
    char sql[1400];
    /* table comes from the domains' static rules, never from the request */
    snprintf(sql, sizeof sql,
             "SELECT json_build_object('command_id', c.command_id, 'type', c.command_type,"
             " 'aggregate_id', c.subject, 'status', CASE WHEN p.command_id IS NOT NULL THEN 'processed'"
             " WHEN f.command_id IS NOT NULL THEN 'refused' WHEN c.state = 'accepted' THEN 'accepted'"
             " ELSE 'sending' END, 'accepted_at', c.accepted_at,"
             " 'processed_at', COALESCE(p.processed_at, f.refused_at), 'events', p.events,"
             " 'error_class', CASE WHEN p.command_id IS NULL THEN f.error_class END,"
             " 'reason', CASE WHEN p.command_id IS NULL THEN f.reason END)::text"
             " FROM api_commands c LEFT JOIN %s p"
             " ON p.command_id = c.command_id::text AND p.organization_id = c.organization_id::text"
             " LEFT JOIN domain_command_refusals f"
             " ON f.command_id = c.command_id::text AND f.organization_id = c.organization_id::text"
             " WHERE c.command_id::text = $1 AND c.organization_id::text = $2",
             table ? table : "(SELECT NULL::text AS command_id, NULL::text AS organization_id,"
                             " NULL::timestamptz AS processed_at, NULL::integer AS events)");
    PQclear(r);
    r = bl_pg_exec(conn, sql, 2, p, err);
    if (r && PQntuples(r) == 1 && !(status = json_loads(PQgetvalue(r, 0, 0), 0, NULL)))
        bl_err_set(err, BL_ENOMEM, "api: out of memory");
done:
    PQclear(r);
    bl_pg_pool_release(c->server->pool, conn);
    return status;
}

/* The outcome a status object records, into out (PENDING when none). */
static void outcome_of_status(const json_t *status, bl_api_command_outcome *out)
{
    memset(out, 0, sizeof *out);
    const char *s = json_string_value(json_object_get(status, "status"));
    if (s && strcmp(s, "processed") == 0) {
        out->kind = BL_API_OUTCOME_APPLIED;
        out->events = (long)json_integer_value(json_object_get(status, "events"));
    } else if (s && strcmp(s, "refused") == 0) {
        out->kind = BL_API_OUTCOME_REFUSED;
        const char *cls = json_string_value(json_object_get(status, "error_class"));
        const char *reason = json_string_value(json_object_get(status, "reason"));
        snprintf(out->error_class, sizeof out->error_class, "%s", cls ? cls : "invalid");
        snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
    }
}

int bl_api_command_await(bl_api_commands *c, bl_api_sent_command *sent, const char *organization_id,
                         bl_api_command_outcome *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!sent->waiter)
        return 0;
    int rc = 0;
    if (sent->resent) {
        /* registered before this read: an outcome recorded later is announced to us */
        json_t *status = bl_api_command_status(c, sent->command_id, organization_id, err);
        if (!status) {
            rc = -1;
            goto done;
        }
        outcome_of_status(status, out);
        json_decref(status);
        if (out->kind != BL_API_OUTCOME_PENDING)
            goto done;
    }
    int wait_ms = c->server->cfg.command_wait_ms;
    if (wait_ms > 0)
        bl_api_outcomes_wait(c->outcomes, sent->waiter, wait_ms, out);
done:
    bl_api_outcomes_release(c->outcomes, sent->waiter);
    sent->waiter = NULL;
    return rc;
}
