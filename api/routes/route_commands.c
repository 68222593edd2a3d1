/* Commands onto the bus: one route per command type of the schema catalog
 * (see api/command_routes.h for the mapping), so a new domain needs a new
 * schema, not new C code. A request's JSON body is the command's data record;
 * it is validated against the schema, wrapped in the command envelope with
 * the caller's organization and identity, produced to commands.<domain> keyed
 * by the aggregate id, and answered 202 once Kafka acknowledged it.
 * GET /v1/commands/:id tells whether the domain service processed or refused
 * it; report.generate waits for its outcome and answers the report (see
 * answered_with_resource). Sending, the Idempotency-Key and outcomes are
 * api/command_send.c's. */
#include "api/avro_json_schema.h"
#include "api/command_routes.h"
#include "api/command_send.h"
#include "api/routes/routes.h"
#include "core/log.h"
#include "producers/commands/command_envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ID_MAX 200

typedef struct command_route {
    const bl_catalog_msg *msg;
    bl_api_command_route route;
    char id_field[64];
    const json_t *record; /* the data record's Avro schema, borrowed from the bus */
    bl_api_commands *commands;
} command_route;

typedef struct commands_ctx {
    bl_api_commands *commands; /* the server's (api/command_send.h) */
    command_route *routes;
    size_t count;
} commands_ctx;

static void commands_ctx_free(void *arg)
{
    commands_ctx *c = arg;
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

/* The enum named full_name ("busline.commands.pmo.Severity") declared
 * anywhere inside the Avro schema avro, or NULL. */
static const json_t *find_enum(const json_t *avro, const char *full_name)
{
    size_t i;
    const json_t *b;
    if (json_is_array(avro)) {
        json_array_foreach(avro, i, b)
        {
            const json_t *found = find_enum(b, full_name);
            if (found)
                return found;
        }
        return NULL;
    }
    const char *type = json_string_value(json_object_get(avro, "type"));
    if (!type)
        return json_is_object(avro) ? find_enum(json_object_get(avro, "type"), full_name) : NULL;
    if (strcmp(type, "enum") == 0) {
        const char *name = json_string_value(json_object_get(avro, "name")) ?: "";
        const char *ns = json_string_value(json_object_get(avro, "namespace"));
        const char *last = strrchr(full_name, '.') ? strrchr(full_name, '.') + 1 : full_name;
        if (strchr(name, '.'))
            return strcmp(full_name, name) == 0 ? avro : NULL;
        bool same_ns = !ns || ((size_t)(last - 1 - full_name) == strlen(ns) && strncmp(full_name, ns, strlen(ns)) == 0);
        return same_ns && strcmp(last, name) == 0 ? avro : NULL;
    }
    if (strcmp(type, "record") == 0) {
        json_array_foreach(json_object_get(avro, "fields"), i, b)
        {
            const json_t *found = find_enum(json_object_get(b, "type"), full_name);
            if (found)
                return found;
        }
        return NULL;
    }
    if (strcmp(type, "array") == 0)
        return find_enum(json_object_get(avro, "items"), full_name);
    if (strcmp(type, "map") == 0)
        return find_enum(json_object_get(avro, "values"), full_name);
    return json_is_object(json_object_get(avro, "type")) ? find_enum(json_object_get(avro, "type"), full_name) : NULL;
}

/* The enum of a field's Avro type (itself, or a union's branch; a branch
 * naming an enum declared earlier in root, as a schema repeats a named type
 * the second time it uses it), or NULL. */
static const json_t *enum_of(const json_t *type, const json_t *root)
{
    if (json_is_object(type) && strcmp(json_string_value(json_object_get(type, "type")) ?: "", "enum") == 0)
        return type;
    size_t i;
    const json_t *branch;
    json_array_foreach(type, i, branch)
    {
        if (json_is_object(branch) &&
            strcmp(json_string_value(json_object_get(branch, "type")) ?: "", "enum") == 0)
            return branch;
        const json_t *named = json_is_string(branch) && strchr(json_string_value(branch), '.')
                                  ? find_enum(root, json_string_value(branch))
                                  : NULL;
        if (named)
            return named;
    }
    return NULL;
}

/* Spells enum values of data's top-level fields as the schema does when
 * they differ only in case: the Powalyze document writes "severity":
 * "high" where the schema's symbol is HIGH. Anything else is left for the
 * schema walk to refuse. */
static void fold_enum_case(const json_t *record, const json_t *root, json_t *data)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const json_t *e = enum_of(json_object_get(f, "type"), root);
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
        const json_t *root = bl_api_command_bus_schema_json(bl_api_commands_bus(cr->commands), cr->msg);
        fold_enum_case(record, root, *data);
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

/* Answers a send that did not put a new command on the bus (replayed,
 * refused key) or the 202 of one that did. */
static int answer_sent(const bl_api_request *req, bl_http_response *resp, const bl_api_sent_command *sent)
{
    switch (sent->status) {
    case BL_API_KEY_MISMATCH:
        return bl_api_fail(req->http, resp, 422, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different request", NULL);
    case BL_API_KEY_IN_PROGRESS:
        return bl_api_fail(req->http, resp, 409, "idempotency_in_progress",
                           "a request with this Idempotency-Key is still being processed; retry later", NULL);
    case BL_API_SENT_BEFORE:
        bl_http_response_header(resp, "Idempotent-Replayed", "true");
        break;
    case BL_API_SENT:
        bl_http_response_header(resp, "Location", sent->status_url);
        break;
    }
    int rc = bl_http_response_body_copy(resp, sent->answer, strlen(sent->answer), "application/json");
    bl_http_response_status(resp, 202);
    return rc;
}

/* Commands whose documented answer is the resource they make (the Powalyze
 * document's POST /v1/reports/generate answers {"data": the report}): the
 * route waits, bounded, for the domain's outcome and answers 201 with the
 * read model's row; past the bound it answers 202 like the others. */
static const struct { const char *type, *collection; } answered_with_resource[] = {
    {"report.generate", "reports"},
};

static const char *resource_answered(const char *type)
{
    for (size_t i = 0; i < sizeof answered_with_resource / sizeof answered_with_resource[0]; i++)
        if (strcmp(answered_with_resource[i].type, type) == 0)
            return answered_with_resource[i].collection;
    return NULL;
}

/* Answers a sent command of resource_answered's list by its outcome. */
static int answer_outcome(const command_route *cr, const bl_api_request *req, bl_http_response *resp,
                          bl_api_sent_command *sent, const char *collection, bl_err *err)
{
    bl_api_command_outcome outcome = {0};
    if (bl_api_command_await(cr->commands, sent, req->auth->org_id, &outcome, err) != 0)
        return -1;
    if (outcome.kind == BL_API_OUTCOME_PENDING)
        return answer_sent(req, resp, sent);
    if (outcome.kind == BL_API_OUTCOME_REFUSED)
        return strcmp(outcome.error_class, "not_found") == 0
                   ? bl_api_fail(req->http, resp, 404, NULL, outcome.reason, NULL)
                   : bl_api_fail(req->http, resp, 422, NULL, outcome.reason, NULL);
    json_t *row = bl_api_v1_read_row(req->server, collection, req->auth->org_id, sent->aggregate_id, err);
    json_t *out = row ? json_pack("{s:o}", "data", row) : NULL;
    if (!out)
        return -1;
    bl_http_response_header(resp, "Location", sent->status_url);
    int rc = bl_http_response_json(resp, 201, out);
    json_decref(out);
    return rc;
}

static int send_command(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    const command_route *cr = arg;
    if (!bl_api_commands_can_send(cr->commands))
        return bl_api_fail(req->http, resp, 503, NULL, "commands are not configured on this server", NULL);
    const char *idem = bl_http_request_header(req->http, "Idempotency-Key");
    if (idem && !bl_api_idempotency_key_ok(idem))
        return bl_api_fail(req->http, resp, 400, "bad_idempotency_key",
                           "Idempotency-Key must be 1 to 255 printable ASCII characters", NULL);
    json_t *data = NULL;
    char subject[BL_UUID_SIZE + ID_MAX], hash[BL_SHA256_HEX_SIZE];
    bl_err err = {0};
    bl_api_sent_command sent = {0};
    const char *collection = resource_answered(cr->msg->type);
    int rc = command_data(cr, req, resp, &data, subject, cr->record);
    if (rc != 0)
        return rc > 0 ? 0 : -1;
    rc = -1;
    if (bl_api_request_fingerprint(req->http, hash, &err) != 0)
        goto done;
    bl_api_command_spec spec = {.type = cr->msg->type, .organization_id = req->auth->org_id,
                                .actor = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id,
                                .subject = subject, .data = data, .idempotency_key = idem,
                                .fingerprint = hash, .wait = collection != NULL};
    if (bl_api_command_send(cr->commands, &spec, &sent, &err) != 0) {
        if (err.code == BL_EINVAL)
            rc = bl_api_fail(req->http, resp, 422, NULL, "the command is not valid", field_errors_of(err.msg));
        else if (err.code == BL_EKAFKA || err.code == BL_ETIMEOUT)
            rc = bl_api_fail(req->http, resp, 503, NULL, "the bus did not acknowledge the command; retry", NULL);
        goto done;
    }
    if (collection && (sent.status == BL_API_SENT || sent.status == BL_API_SENT_BEFORE))
        rc = answer_outcome(cr, req, resp, &sent, collection, &err);
    else
        rc = answer_sent(req, resp, &sent);
done:
    if (rc != 0 && err.msg[0])
        bl_log_error("api: command failed", BL_FS("type", cr->msg->type), BL_FS("error", err.msg));
    bl_api_sent_command_clear(cr->commands, &sent);
    json_decref(data);
    return rc;
}

static int command_status(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    commands_ctx *c = arg;
    bl_err err = {0};
    json_t *status = bl_api_command_status(c->commands, bl_http_request_param(req->http, "id"),
                                           req->auth->org_id, &err);
    if (!status && err.code == BL_ENOTFOUND)
        return bl_api_fail(req->http, resp, 404, NULL, "no such command in this organization", NULL);
    if (!status)
        return -1;
    int rc = bl_http_response_json(resp, 200, status);
    json_decref(status);
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
    if (op && resource_answered(cr->msg->type))
        json_object_set_new(json_object_get(op, "responses"), "201",
                            json_pack("{s:s}", "description",
                                      "Applied within the wait bound: {\"data\": the resource as its GET shows it}"));
    return op;
}

/* ---- install ---- */

static const bl_api_route status_route[] = {
    {"GET", "/v1/commands/:id", BL_API_BY_METHOD, command_status},
};

int bl_api_routes_commands(bl_api_server *s, bl_err *err)
{
    commands_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    if (!(c->commands = bl_api_server_commands(s, err))) {
        free(c);
        return -1;
    }
    if (bl_api_server_on_free(s, commands_ctx_free, c, err) != 0)
        return -1;
    bl_api_command_bus *bus = bl_api_commands_bus(c->commands);
    const bl_catalog *cat = bl_api_command_bus_catalog(bus);
    size_t n = bl_catalog_msg_count(cat);
    if (!(c->routes = calloc(n ? n : 1, sizeof *c->routes)))
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    for (size_t i = 0; i < n; i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_COMMAND)
            continue;
        command_route *cr = &c->routes[c->count];
        cr->msg = m;
        cr->commands = c->commands;
        cr->record = bl_api_avro_find_record(bl_api_command_bus_schema_json(bus, m), m->record_name);
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
