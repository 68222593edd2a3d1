/* Commands onto the bus: one route per command type of the schema catalog
 * (see api/command_routes.h for the mapping), so a new domain needs a new
 * schema, not new C code. A request's JSON body is the command's data record;
 * it is validated against the schema, wrapped in the command envelope with
 * the caller's organization and identity, produced to commands.<domain> keyed
 * by the aggregate id, and answered 202 once Kafka acknowledged it.
 * GET /v1/commands/:id tells whether the domain service processed it. */
#include "api/avro_json_schema.h"
#include "api/command_bus.h"
#include "api/command_routes.h"
#include "api/routes/routes.h"
#include "core/crypto.h"
#include "core/log.h"
#include "producers/commands/command_envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SOURCE "busline-api"
#define ID_MAX 200
#define IDEMPOTENCY_WAIT_MS 5000

typedef struct command_route {
    const bl_catalog_msg *msg;
    bl_api_command_route route;
    char id_field[64];
    const json_t *record; /* the data record's Avro schema, borrowed from the bus */
    bl_api_command_bus *bus;
} command_route;

typedef struct commands_ctx {
    bl_api_command_bus *bus;
    command_route *routes;
    size_t count;
} commands_ctx;

static void commands_ctx_free(void *arg)
{
    commands_ctx *c = arg;
    bl_api_command_bus_free(c->bus);
    free(c->routes);
    free(c);
}

/* ---- validation ---- */

/* "$.data.severity: 'X' is not ..." -> field_errors {"$.severity": "'X' is not ..."} */
static json_t *field_errors_of(const char *msg)
{
    const char *colon = strstr(msg, ": ");
    char path[160];
    const char *rest = msg;
    if (strncmp(msg, "$.data", 6) == 0 && colon) {
        snprintf(path, sizeof path, "$%.*s", (int)(colon - msg - 6), msg + 6);
        rest = colon + 2;
    } else {
        snprintf(path, sizeof path, "$");
    }
    return json_pack("{s:s}", path, rest);
}

/* Top-level checks against the record, so every missing or unknown field is
 * named at once (the Avro walk stops at the first problem). */
static void check_fields(const json_t *record, const json_t *data, json_t *errors)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        char path[128];
        snprintf(path, sizeof path, "$.%s", name ? name : "");
        if (name && !json_object_get(data, name) && !json_object_get(f, "default"))
            json_object_set_new(errors, path, json_string("required field missing"));
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)data, key, v)
    {
        bool known = false;
        json_array_foreach(json_object_get(record, "fields"), i, f)
            known = known || strcmp(json_string_value(json_object_get(f, "name")), key) == 0;
        if (!known) {
            char path[160];
            snprintf(path, sizeof path, "$.%.120s", key);
            json_object_set_new(errors, path, json_string("unknown field"));
        }
    }
}

/* The enum of a field's Avro type (itself, or a union's branch), or NULL. */
static const json_t *enum_of(const json_t *type)
{
    if (json_is_object(type) && strcmp(json_string_value(json_object_get(type, "type")) ?: "", "enum") == 0)
        return type;
    size_t i;
    const json_t *branch;
    json_array_foreach(type, i, branch)
        if (json_is_object(branch) &&
            strcmp(json_string_value(json_object_get(branch, "type")) ?: "", "enum") == 0)
            return branch;
    return NULL;
}

/* Spells enum values of data's top-level fields as the schema does when
 * they differ only in case: the Powalyze document writes "severity":
 * "high" where the schema's symbol is HIGH. Anything else is left for the
 * schema walk to refuse. */
static void fold_enum_case(const json_t *record, json_t *data)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *e = enum_of(json_object_get(f, "type"));
        const char *given = json_string_value(json_object_get(data, name ? name : ""));
        if (!e || !given)
            continue;
        size_t k;
        const json_t *sym;
        json_array_foreach(json_object_get(e, "symbols"), k, sym)
        {
            const char *symbol = json_string_value(sym);
            if (symbol && strcasecmp(symbol, given) == 0 && strcmp(symbol, given) != 0) {
                json_object_set_new(data, name, json_string(symbol));
                break;
            }
        }
    }
}

/* ---- idempotency ---- */

typedef enum claim_outcome { CLAIMED, REPLAY, MISMATCH, IN_PROGRESS, TAKEN_OVER, CLAIM_FAILED } claim_outcome;

/* A key's row still 'sending' this long after its request began was left by
 * a request that gave up on Kafka's ack (the command may have landed) or a
 * process that died: a retry takes it over and sends the same command id
 * again, which the command's consumers apply once. Past any send: the queue
 * wait and the ack wait are each bounded by the ack timeout. */
static int64_t abandoned_after_ms(bl_api_server *s)
{
    return 2LL * bl_api_server_config(s)->command_ack_timeout_ms + 5000;
}

/* Takes over the abandoned 'sending' row of row's key and request: returns
 * 1 with its command id in taken_id, 0 when it is not abandoned, -1 on error. */
static int take_over(bl_api_server *s, PGconn *conn, const char *const row[7], char taken_id[BL_UUID_SIZE],
                     bl_err *err)
{
    char after[32];
    snprintf(after, sizeof after, "%lld", (long long)abandoned_after_ms(s));
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
static claim_outcome claim(bl_api_server *s, const char *const row[7], char **replay,
                           char taken_id[BL_UUID_SIZE], bl_err *err)
{
    int64_t waited = 0;
    for (;;) {
        PGconn *conn = bl_api_acquire_pg(s, err);
        if (!conn)
            return CLAIM_FAILED;
        PGresult *r = bl_pg_exec(conn,
                                 "INSERT INTO api_commands (command_id, organization_id, command_type,"
                                 " topic, subject, idempotency_key, request_sha256, state)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, $7, 'sending')"
                                 " ON CONFLICT (organization_id, idempotency_key)"
                                 " WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING command_id",
                                 7, row, err);
        if (r && PQntuples(r) == 1) {
            PQclear(r);
            bl_pg_pool_release(bl_api_server_pool(s), conn);
            return CLAIMED;
        }
        PQclear(r);
        if (!r) {
            bl_pg_pool_release(bl_api_server_pool(s), conn);
            return CLAIM_FAILED;
        }
        const char *p[] = {row[1], row[5]};
        r = bl_pg_exec(conn,
                       "SELECT request_sha256, state, response FROM api_commands"
                       " WHERE organization_id = $1 AND idempotency_key = $2",
                       2, p, err);
        int taken = r && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "sending") == 0 &&
                            strcmp(PQgetvalue(r, 0, 0), row[6]) == 0
                        ? take_over(s, conn, row, taken_id, err)
                        : 0;
        bl_pg_pool_release(bl_api_server_pool(s), conn);
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

static int release_claim(bl_api_server *s, const char *command_id, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return -1;
    const char *p[] = {command_id};
    int rc = bl_pg_exec_cmd(conn, "DELETE FROM api_commands WHERE command_id = $1 AND state = 'sending'",
                            1, p, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    return rc;
}

static int mark_accepted(bl_api_server *s, const char *command_id, const char *response, bl_err *err)
{
    PGconn *conn = bl_api_acquire_pg(s, err);
    if (!conn)
        return -1;
    const char *p[] = {command_id, response};
    int rc = bl_pg_exec_cmd(conn,
                            "UPDATE api_commands SET state = 'accepted', response = $2, accepted_at = now()"
                            " WHERE command_id = $1",
                            2, p, err);
    bl_pg_pool_release(bl_api_server_pool(s), conn);
    return rc;
}

/* The fingerprint of a request for its idempotency key: method, path, body. */
static int request_hash(const bl_http_request *req, char out[BL_SHA256_HEX_SIZE], bl_err *err)
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

static bool idempotency_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return false;
    for (const unsigned char *c = (const unsigned char *)k; *c; c++)
        if (*c < 0x21 || *c > 0x7e)
            return false;
    return true;
}

/* ---- the handler ---- */

/* Builds the command's data from the body and the path's id; answers 4xx
 * itself (returns 1), or returns 0 with *data and subject set. */
static int command_data(const command_route *cr, const bl_api_request *req, bl_http_response *resp,
                        json_t **data, char subject[BL_UUID_SIZE + ID_MAX], const json_t *record)
{
    if (req->body && !json_is_object(req->body))
        return bl_api_fail(req->http, resp, 422, NULL, "the body must be a JSON object",
                           json_pack("{s:s}", "$", "expected an object")) == 0 ? 1 : -1;
    *data = req->body ? json_copy((json_t *)req->body) : json_object();
    if (!*data)
        return -1;
    json_t *errors = json_object();
    const json_t *given = json_object_get(*data, cr->id_field);
    const char *path_id = cr->route.has_id ? bl_http_request_param(req->http, "id") : NULL;
    char field_path[80];
    snprintf(field_path, sizeof field_path, "$.%s", cr->id_field);
    if (path_id) {
        if (given && !(json_is_string(given) && strcmp(json_string_value(given), path_id) == 0))
            json_object_set_new(errors, field_path, json_string("must match the id in the path"));
        else
            json_object_set_new(*data, cr->id_field, json_string(path_id));
    } else if (!given || json_is_null(given)) {
        char id[BL_UUID_SIZE] = "";
        bl_err err = {0};
        if (bl_uuid_random(id, &err) != 0) {
            json_decref(errors);
            return -1;
        }
        json_object_set_new(*data, cr->id_field, json_string(id));
    }
    const char *id = json_string_value(json_object_get(*data, cr->id_field));
    if (json_object_size(errors) == 0 && (!id || !*id || strlen(id) > ID_MAX))
        json_object_set_new(errors, field_path, json_string("must be a string of 1 to 200 characters"));
    if (json_object_size(errors) == 0) {
        check_fields(record, *data, errors);
        fold_enum_case(record, *data);
    }
    if (json_object_size(errors) > 0) {
        json_decref(*data);
        *data = NULL;
        return bl_api_fail(req->http, resp, 422, NULL, "the command is not valid", errors) == 0 ? 1 : -1;
    }
    json_decref(errors);
    snprintf(subject, BL_UUID_SIZE + ID_MAX, "%s", id);
    return 0;
}

/* The envelope of data with command_id (a new one when "") and its Avro
 * bytes into *env and *bytes (replacing what they held). Returns 0, or -1
 * with err (BL_EINVAL: the data does not fit the schema). */
static int build_command(const command_route *cr, const bl_command_meta *meta, const json_t *data,
                         char command_id[BL_UUID_SIZE], int64_t *time_ms, json_t **env, uint8_t **bytes,
                         size_t *len, bl_err *err)
{
    json_decref(*env);
    free(*bytes);
    *bytes = NULL;
    if (!(*env = bl_command_envelope_new(meta, data, command_id, time_ms, err)))
        return -1;
    return bl_api_command_bus_encode(cr->bus, cr->msg, *env, bytes, len, err);
}

static int send_command(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    const command_route *cr = arg;
    bl_api_server *s = req->server;
    if (!bl_api_command_bus_can_send(cr->bus))
        return bl_api_fail(req->http, resp, 503, NULL, "commands are not configured on this server", NULL);
    const char *idem = bl_http_request_header(req->http, "Idempotency-Key");
    if (idem && !idempotency_key_ok(idem))
        return bl_api_fail(req->http, resp, 400, "bad_idempotency_key",
                           "Idempotency-Key must be 1 to 255 printable ASCII characters", NULL);
    json_t *data = NULL, *env = NULL, *answer = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *replay = NULL, *answer_text = NULL;
    char subject[BL_UUID_SIZE + ID_MAX], command_id[BL_UUID_SIZE] = "", hash[BL_SHA256_HEX_SIZE];
    int64_t time_ms = 0;
    bl_err err = {0};
    int rc = command_data(cr, req, resp, &data, subject, cr->record);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    rc = -1;
    const char *actor = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id;
    bl_command_meta meta = {.type = cr->msg->type, .organization_id = req->auth->org_id, .subject = subject,
                            .source = SOURCE, .actor = actor, .idempotency_key = idem};
    if (build_command(cr, &meta, data, command_id, &time_ms, &env, &bytes, &len, &err) != 0) {
        if (err.code != BL_EINVAL)
            goto done;
        rc = bl_api_fail(req->http, resp, 422, NULL, "the command is not valid", field_errors_of(err.msg));
        goto done;
    }
    if (request_hash(req->http, hash, &err) != 0)
        goto done;
    const char *topic = bl_api_command_bus_topic(cr->bus, cr->msg);
    const char *row[7] = {command_id, req->auth->org_id, cr->msg->type, topic, subject, idem, hash};
    char taken_id[BL_UUID_SIZE] = "";
    switch (claim(s, row, &replay, taken_id, &err)) {
    case CLAIMED: break;
    case TAKEN_OVER:
        bl_log_warn("api: idempotency key left sending by an earlier request: sending its command again",
                    BL_FS("command_id", taken_id), BL_FS("type", cr->msg->type));
        snprintf(command_id, sizeof command_id, "%s", taken_id);
        if (build_command(cr, &meta, data, command_id, &time_ms, &env, &bytes, &len, &err) != 0)
            goto done;
        break;
    case REPLAY:
        bl_http_response_header(resp, "Idempotent-Replayed", "true");
        rc = bl_http_response_body_copy(resp, replay, strlen(replay), "application/json");
        bl_http_response_status(resp, 202);
        goto done;
    case MISMATCH:
        rc = bl_api_fail(req->http, resp, 422, "idempotency_key_reused",
                         "this Idempotency-Key was used for a different request", NULL);
        goto done;
    case IN_PROGRESS:
        rc = bl_api_fail(req->http, resp, 409, "idempotency_in_progress",
                         "a request with this Idempotency-Key is still being processed; retry later", NULL);
        goto done;
    case CLAIM_FAILED: goto done;
    }
    char time_text[32];
    bl_kafka_header headers[BL_COMMAND_HEADER_COUNT];
    size_t n_headers = bl_command_headers(&meta, command_id, time_ms, time_text, headers);
    if (bl_api_command_bus_send(cr->bus, cr->msg, subject, bytes, len, headers, n_headers, &err) != 0) {
        bl_log_error("api: command not acknowledged", BL_FS("command_id", command_id),
                     BL_FS("topic", topic), BL_FS("error", err.msg));
        bl_err ignored = {0};
        if (err.code != BL_ETIMEOUT) /* a timed-out one may still land: keep its key taken */
            release_claim(s, command_id, &ignored);
        rc = bl_api_fail(req->http, resp, 503, NULL, "the bus did not acknowledge the command; retry", NULL);
        goto done;
    }
    char status_url[96];
    snprintf(status_url, sizeof status_url, "/v1/commands/%s", command_id);
    answer = json_pack("{s:s, s:s, s:s, s:s, s:s}", "command_id", command_id, "status_url", status_url,
                       "status", "accepted", "type", cr->msg->type, "aggregate_id", subject);
    if (!answer || !(answer_text = json_dumps(answer, JSON_COMPACT)))
        goto done;
    if (mark_accepted(s, command_id, answer_text, &err) != 0)
        bl_log_error("api: accepted command not recorded", BL_FS("command_id", command_id),
                     BL_FS("error", err.msg));
    bl_http_response_header(resp, "Location", status_url);
    rc = bl_http_response_json(resp, 202, answer);
done:
    if (rc != 0 && err.msg[0])
        bl_log_error("api: command failed", BL_FS("type", cr->msg->type), BL_FS("error", err.msg));
    free(replay);
    free(answer_text);
    free(bytes);
    json_decref(answer);
    json_decref(env);
    json_decref(data);
    return rc;
}

static int command_status(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    const char *p[] = {bl_http_request_param(req->http, "id"), req->auth->org_id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT json_build_object('command_id', c.command_id, 'type', c.command_type,"
                             " 'aggregate_id', c.subject, 'status', CASE WHEN p.command_id IS NOT NULL"
                             " THEN 'processed' WHEN c.state = 'accepted' THEN 'accepted' ELSE 'sending' END,"
                             " 'accepted_at', c.accepted_at, 'processed_at', p.processed_at,"
                             " 'events', p.events)::text"
                             " FROM api_commands c LEFT JOIN pmo_processed_commands p"
                             " ON p.command_id = c.command_id::text AND p.organization_id = c.organization_id::text"
                             " WHERE c.command_id::text = $1 AND c.organization_id::text = $2",
                             2, p, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    if (!r)
        return -1;
    int rc;
    if (PQntuples(r) == 0)
        rc = bl_api_fail(req->http, resp, 404, NULL, "no such command in this organization", NULL);
    else
        rc = bl_http_response_body_copy(resp, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)),
                                        "application/json");
    PQclear(r);
    return rc;
}

/* ---- documentation ---- */

static json_t *operation_of(const command_route *cr, const json_t *record)
{
    json_t *components = json_object();
    json_t *schema = bl_api_avro_json_schema(record, NULL, components);
    if (!schema) {
        json_decref(components);
        return NULL;
    }
    char op_id[128], summary[160];
    snprintf(op_id, sizeof op_id, "command_%s", cr->msg->type);
    for (char *c = op_id; *c; c++)
        if (*c == '.')
            *c = '_';
    const char *doc = json_string_value(json_object_get(record, "doc"));
    snprintf(summary, sizeof summary, "%s (command %s onto %s)", doc ? doc : cr->msg->type, cr->msg->type,
             cr->msg->topic);
    json_t *op = json_pack("{s:s, s:s, s:[s], s:{s:{s:{s:o}}}, s:{s:{s:s, s:{s:{s:{s:s}}}}},"
                           " s:o}",
                           "operationId", op_id, "summary", summary, "tags", "commands",
                           "requestBody", "content", "application/json", "schema", schema,
                           "responses", "202", "description", "Accepted: on the bus", "content",
                           "application/json", "schema", "$ref", "#/components/schemas/CommandAccepted",
                           "x-busline-components", components);
    if (op && strcmp(cr->route.method, "DELETE") != 0)
        json_object_set_new(op, "x-busline-idempotent", json_true());
    return op;
}

/* ---- install ---- */

static const bl_api_route status_route[] = {
    {"GET", "/v1/commands/:id", BL_API_BY_METHOD, command_status},
};

int bl_api_routes_commands(bl_api_server *s, bl_err *err)
{
    const bl_api_config *cfg = bl_api_server_config(s);
    commands_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    bl_api_command_bus_opts opts = {.schemas_dir = cfg->schemas_dir, .registry_url = cfg->registry_url,
                                    .brokers = cfg->kafka_brokers, .topic_prefix = cfg->topic_prefix,
                                    .ack_timeout_ms = cfg->command_ack_timeout_ms};
    if (!(c->bus = bl_api_command_bus_new(&opts, err))) {
        free(c);
        return -1;
    }
    if (bl_api_server_on_free(s, commands_ctx_free, c, err) != 0)
        return -1;
    const bl_catalog *cat = bl_api_command_bus_catalog(c->bus);
    size_t n = bl_catalog_msg_count(cat);
    if (!(c->routes = calloc(n ? n : 1, sizeof *c->routes)))
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    for (size_t i = 0; i < n; i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_COMMAND)
            continue;
        command_route *cr = &c->routes[c->count];
        cr->msg = m;
        cr->bus = c->bus;
        cr->record = bl_api_avro_find_record(bl_api_command_bus_schema_json(c->bus, m), m->record_name);
        if (bl_api_command_route_of(m->type, &cr->route) != 0 ||
            bl_command_id_field(m->type, cr->id_field, sizeof cr->id_field) != 0 || !cr->record)
            return bl_err_set(err, BL_EINVAL, "api: command type %s has no route", m->type);
        c->count++;
        bl_api_route r = {cr->route.method, cr->route.pattern, BL_API_BY_METHOD, send_command};
        json_t *op = operation_of(cr, cr->record);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "api: cannot document %s", m->type);
        if (bl_api_server_routes(s, &r, 1, cr, err) != 0 ||
            bl_api_server_document(s, r.method, r.pattern, op, err) != 0)
            return -1;
    }
    return bl_api_server_routes(s, status_route, 1, c, err);
}
