/* The Confluent Schema Registry REST routes over registry_store. Behaviour
 * follows Confluent's SubjectVersionsResource, SchemasResource,
 * CompatibilityResource and ConfigResource: the same status codes, error
 * codes and messages. Unparseable JSON bodies answer 400 with error_code 400,
 * as Confluent's rest-utils JsonParseExceptionMapper does. */
#include "schemas/registry_server.h"

#include "core/http_server.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bl_registry_server {
    bl_registry_store *store;
    bl_http_server *http;
    bl_metrics *metrics;
    bl_metric *requests; /* busline_registry_requests_total{route,status} */
};

/* The response being built and the status set on it (for the counter). */
typedef struct reply {
    bl_http_response *resp;
    int status;
} reply;

/* One route: its handler and the label it is counted under. */
typedef struct route_ctx {
    bl_registry_server *srv;
    const char *name;
    int (*fn)(bl_registry_server *srv, const bl_http_request *req, reply *resp);
} route_ctx;

/* ---------- answers ---------- */

static json_t *confluent_error_body(int status, const char *message, const char *request_id, void *ctx)
{
    (void)request_id;
    (void)ctx;
    return json_pack("{s:i, s:s}", "error_code", status, "message", message ? message : "");
}

/* Sets status and body to json (stolen reference), as the registry's type. */
static int reply_json(reply *resp, int status, json_t *json)
{
    if (!json)
        return -1;
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(json);
    if (!text)
        return -1;
    resp->status = status;
    bl_http_response_status(resp->resp, status);
    return bl_http_response_body_owned(resp->resp, text, strlen(text), BL_REGISTRY_CONTENT_TYPE);
}

static int reply_error(reply *resp, int error_code, const char *message)
{
    int status = error_code < 1000 ? error_code : error_code / 100;
    return reply_json(resp, status, json_pack("{s:i, s:s}", "error_code", error_code, "message", message));
}

/* A store failure: the client's own error as Confluent words it, anything
 * else logged here and answered 50001 without internals. */
static int reply_store_error(reply *resp, const bl_http_request *req, const bl_err *err)
{
    if (bl_registry_code_is_client(err->code))
        return reply_error(resp, err->code, err->msg);
    bl_log_error("registry: store failed", BL_FS("request_id", bl_http_request_id(req)),
                 BL_FS("path", bl_http_request_path(req)), BL_FS("error", err->msg));
    return reply_error(resp, BL_REG_STORE_ERROR, "Error in the backend data store");
}

static bool query_true(const bl_http_request *req, const char *name)
{
    const char *v = bl_http_request_query(req, name);
    return v && strcasecmp(v, "true") == 0;
}

/* ---------- request bodies ---------- */

/* Accepts the registry's JSON types, application/octet-stream and no type. */
static bool content_type_accepted(const bl_http_request *req)
{
    static const char *const accepted[] = {"application/vnd.schemaregistry.v1+json",
                                           "application/vnd.schemaregistry+json", "application/json",
                                           "application/octet-stream"};
    const char *ct = bl_http_request_header(req, "Content-Type");
    if (!ct || !*ct)
        return true;
    size_t len = strcspn(ct, "; \t");
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
        if (strlen(accepted[i]) == len && strncasecmp(ct, accepted[i], len) == 0)
            return true;
    return false;
}

/* Parses the body as a JSON object; on failure answers (415, or 400 as
 * Confluent does for unparseable JSON) and returns NULL. */
static json_t *body_object(const bl_http_request *req, reply *resp)
{
    if (!content_type_accepted(req)) {
        reply_error(resp, 415, "HTTP 415 Unsupported Media Type");
        return NULL;
    }
    bl_err err = {0};
    json_t *body = bl_http_request_json(req, &err);
    if (!body) {
        reply_error(resp, 400, err.msg[0] ? err.msg : "Unexpected end of input");
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        reply_error(resp, 400, "Cannot deserialize value: the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* The "schema" of a register / lookup / compatibility body, checked the
 * way Confluent checks it. Answers and returns NULL on a bad body; the
 * returned string is borrowed from body. */
static const char *body_schema(json_t *body, reply *resp)
{
    json_t *schema = json_object_get(body, "schema");
    json_t *type = json_object_get(body, "schemaType");
    if (schema && !json_is_string(schema) && !json_is_null(schema)) {
        reply_error(resp, 400, "Cannot deserialize value of type `java.lang.String` for field 'schema'");
        return NULL;
    }
    if (type && !json_is_null(type) && !json_is_string(type)) {
        reply_error(resp, 400, "Cannot deserialize value of type `java.lang.String` for field 'schemaType'");
        return NULL;
    }
    if (json_is_string(type) && strcmp(json_string_value(type), "AVRO") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "Invalid schema type %.64s: this registry stores AVRO schemas only",
                 json_string_value(type));
        reply_error(resp, BL_REG_INVALID_SCHEMA, msg);
        return NULL;
    }
    if (!json_is_string(schema) || json_string_length(schema) == 0) {
        reply_error(resp, BL_REG_INVALID_SCHEMA, "Empty schema");
        return NULL;
    }
    return json_string_value(schema);
}

/* The :version parameter; answers 42202 and returns -1 when invalid. */
static int path_version(const bl_http_request *req, reply *resp, int *version)
{
    bl_err err = {0};
    if (bl_registry_version_parse(bl_http_request_param(req, "version"), version, &err) == 0)
        return 0;
    reply_error(resp, err.code, err.msg);
    return -1;
}

static json_t *version_json(const bl_registry_version *v)
{
    return json_pack("{s:s, s:i, s:i, s:s}", "subject", v->subject, "version", v->version, "id", v->id,
                     "schema", v->schema);
}

static json_t *int_array(const bl_registry_versions *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < v->count; i++)
        if (json_array_append_new(arr, json_integer(v->versions[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    return arr;
}

static char *join_reasons(const bl_compat_reasons *reasons)
{
    return bl_compat_reasons_join(reasons, "; ");
}

/* ---------- subjects and versions ---------- */

static int handle_register(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = body_schema(body, resp);
    if (schema) {
        const char *subject = bl_http_request_param(req, "subject");
        bl_registry_registered out = {0};
        bl_compat_reasons reasons = {0};
        bl_err err = {0};
        if (bl_registry_store_register(srv->store, subject, schema, &out, &reasons, &err) == 0) {
            rc = reply_json(resp, 200, json_pack("{s:i}", "id", out.id));
        } else if (err.code == BL_REG_INCOMPATIBLE) {
            char *details = join_reasons(&reasons);
            size_t len = strlen(subject) + (details ? strlen(details) : 0) + 128;
            char *msg = malloc(len);
            if (msg && details) {
                snprintf(msg, len,
                         "Schema being registered is incompatible with an earlier schema for subject "
                         "\"%s\", details: [%s]",
                         subject, details);
                rc = reply_error(resp, BL_REG_INCOMPATIBLE, msg);
            } else {
                rc = -1;
            }
            free(msg);
            free(details);
        } else {
            rc = reply_store_error(resp, req, &err);
        }
        bl_compat_reasons_free(&reasons);
    }
    json_decref(body);
    return rc;
}

static int handle_lookup(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = body_schema(body, resp);
    if (schema) {
        bl_registry_version v = {0};
        bl_err err = {0};
        if (bl_registry_store_lookup(srv->store, bl_http_request_param(req, "subject"), schema,
                                     query_true(req, "deleted"), &v, &err) == 0)
            rc = reply_json(resp, 200, version_json(&v));
        else
            rc = reply_store_error(resp, req, &err);
        bl_registry_version_clear(&v);
    }
    json_decref(body);
    return rc;
}

static int handle_subjects(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_registry_strings names = {0};
    bl_err err = {0};
    if (bl_registry_store_subjects(srv->store, query_true(req, "deleted"), &names, &err) != 0)
        return reply_store_error(resp, req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < names.count; i++)
        if (json_array_append_new(arr, json_string(names.items[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    bl_registry_strings_clear(&names);
    return reply_json(resp, 200, arr);
}

static int handle_versions(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_registry_versions v = {0};
    bl_err err = {0};
    if (bl_registry_store_versions(srv->store, bl_http_request_param(req, "subject"),
                                   query_true(req, "deleted"), &v, &err) != 0)
        return reply_store_error(resp, req, &err);
    int rc = reply_json(resp, 200, int_array(&v));
    bl_registry_versions_clear(&v);
    return rc;
}

/* Fetches the :subject/:version of req into v; answers and returns -1 when
 * that fails. */
static int fetch_version(bl_registry_server *srv, const bl_http_request *req, reply *resp,
                         bl_registry_version *v)
{
    int version = 0;
    if (path_version(req, resp, &version) != 0)
        return -1;
    bl_err err = {0};
    if (bl_registry_store_get(srv->store, bl_http_request_param(req, "subject"), version,
                              query_true(req, "deleted"), v, &err) == 0)
        return 0;
    reply_store_error(resp, req, &err);
    return -1;
}

static int handle_get_version(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_registry_version v = {0};
    if (fetch_version(srv, req, resp, &v) != 0)
        return 0;
    int rc = reply_json(resp, 200, version_json(&v));
    bl_registry_version_clear(&v);
    return rc;
}

static int handle_get_version_schema(bl_registry_server *srv, const bl_http_request *req,
                                     reply *resp)
{
    bl_registry_version v = {0};
    if (fetch_version(srv, req, resp, &v) != 0)
        return 0;
    int rc = bl_http_response_body_copy(resp->resp, v.schema, strlen(v.schema), BL_REGISTRY_CONTENT_TYPE);
    bl_registry_version_clear(&v);
    return rc;
}

static int handle_delete_version(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    int version = 0, deleted = 0;
    if (path_version(req, resp, &version) != 0)
        return 0;
    bl_err err = {0};
    if (bl_registry_store_delete_version(srv->store, bl_http_request_param(req, "subject"), version,
                                         query_true(req, "permanent"), &deleted, &err) != 0)
        return reply_store_error(resp, req, &err);
    return reply_json(resp, 200, json_integer(deleted));
}

static int handle_delete_subject(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_registry_versions v = {0};
    bl_err err = {0};
    if (bl_registry_store_delete_subject(srv->store, bl_http_request_param(req, "subject"),
                                         query_true(req, "permanent"), &v, &err) != 0)
        return reply_store_error(resp, req, &err);
    int rc = reply_json(resp, 200, int_array(&v));
    bl_registry_versions_clear(&v);
    return rc;
}

/* ---------- schemas by id ---------- */

/* The :id parameter; answers 40403 (Confluent: no such schema) when it is
 * not a positive integer. */
static int path_id(const bl_http_request *req, reply *resp, int *id)
{
    const char *text = bl_http_request_param(req, "id");
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (text && *text && *end == '\0' && errno == 0 && v > 0 && v <= INT_MAX) {
        *id = (int)v;
        return 0;
    }
    char msg[128];
    snprintf(msg, sizeof msg, "Schema %.64s not found", text ? text : "");
    reply_error(resp, BL_REG_SCHEMA_NOT_FOUND, msg);
    return -1;
}

static int handle_schema_by_id(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    int id = 0;
    if (path_id(req, resp, &id) != 0)
        return 0;
    bl_err err = {0};
    char *schema = bl_registry_store_schema_by_id(srv->store, id, &err);
    if (!schema)
        return reply_store_error(resp, req, &err);
    int rc = reply_json(resp, 200, json_pack("{s:s}", "schema", schema));
    free(schema);
    return rc;
}

static int handle_id_versions(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    int id = 0;
    if (path_id(req, resp, &id) != 0)
        return 0;
    bl_registry_versions v = {0};
    bl_err err = {0};
    if (bl_registry_store_id_versions(srv->store, id, &v, &err) != 0)
        return reply_store_error(resp, req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < v.count; i++)
        if (json_array_append_new(arr, json_pack("{s:s, s:i}", "subject", v.subjects[i], "version",
                                                 v.versions[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    bl_registry_versions_clear(&v);
    return reply_json(resp, 200, arr);
}

/* ---------- compatibility ---------- */

static int handle_compatibility(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    int version = 0;
    if (path_version(req, resp, &version) != 0)
        return 0;
    json_t *body = body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = body_schema(body, resp);
    if (schema) {
        bool compatible = false;
        bl_compat_reasons reasons = {0};
        bl_err err = {0};
        if (bl_registry_store_check(srv->store, bl_http_request_param(req, "subject"), version, schema,
                                    &compatible, &reasons, &err) != 0) {
            rc = reply_store_error(resp, req, &err);
        } else {
            json_t *out = json_pack("{s:b}", "is_compatible", compatible);
            if (out && query_true(req, "verbose")) {
                json_t *messages = json_array();
                for (size_t i = 0; messages && i < reasons.count; i++)
                    json_array_append_new(messages, json_string(reasons.items[i]));
                json_object_set_new(out, "messages", messages);
            }
            rc = reply_json(resp, 200, out);
        }
        bl_compat_reasons_free(&reasons);
    }
    json_decref(body);
    return rc;
}

/* ---------- config ---------- */

static const char *subject_or_global(const bl_http_request *req)
{
    return bl_http_request_param(req, "subject"); /* NULL on /config */
}

static int handle_config_get(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_compat_mode mode;
    bl_err err = {0};
    if (bl_registry_store_config_get(srv->store, subject_or_global(req), query_true(req, "defaultToGlobal"),
                                     &mode, &err) != 0)
        return reply_store_error(resp, req, &err);
    return reply_json(resp, 200, json_pack("{s:s}", "compatibilityLevel", bl_compat_mode_name(mode)));
}

static int handle_config_put(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    json_t *body = body_object(req, resp);
    if (!body)
        return 0;
    int rc;
    json_t *level = json_object_get(body, "compatibility");
    bl_compat_mode mode;
    bl_err err = {0};
    if (!json_is_string(level) || bl_compat_mode_parse(json_string_value(level), &mode, &err) != 0)
        rc = reply_error(resp, BL_REG_INVALID_COMPATIBILITY,
                         "Invalid compatibility level. Valid values are none, backward, forward, full, "
                         "backward_transitive, forward_transitive, and full_transitive");
    else if (bl_registry_store_config_set(srv->store, subject_or_global(req), mode, &err) != 0)
        rc = reply_store_error(resp, req, &err);
    else
        rc = reply_json(resp, 200, json_pack("{s:s}", "compatibility", bl_compat_mode_name(mode)));
    json_decref(body);
    return rc;
}

static int handle_config_delete(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_compat_mode old;
    bl_err err = {0};
    if (bl_registry_store_config_delete(srv->store, subject_or_global(req), &old, &err) != 0)
        return reply_store_error(resp, req, &err);
    return reply_json(resp, 200, json_pack("{s:s}", "compatibilityLevel", bl_compat_mode_name(old)));
}

/* ---------- operations ---------- */

static int handle_healthz(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    (void)srv;
    (void)req;
    return reply_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static int handle_readyz(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    bl_err err = {0};
    if (bl_registry_store_ping(srv->store, &err) == 0)
        return reply_json(resp, 200, json_pack("{s:s}", "status", "ready"));
    bl_log_warn("registry: not ready", BL_FS("request_id", bl_http_request_id(req)), BL_FS("error", err.msg));
    return reply_json(resp, 503, json_pack("{s:s}", "status", "postgres unreachable"));
}

static int handle_metrics(bl_registry_server *srv, const bl_http_request *req, reply *resp)
{
    (void)req;
    bl_err err = {0};
    char *text = bl_metrics_render(srv->metrics, &err);
    if (!text)
        return -1;
    return bl_http_response_body_owned(resp->resp, text, strlen(text), "text/plain; version=0.0.4");
}

/* ---------- routing ---------- */

static void count_request(bl_registry_server *srv, const char *route, int status)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *labels[] = {route, code, NULL};
    bl_counter *c = bl_metric_counter(srv->requests, labels, NULL);
    if (c)
        bl_counter_inc(c);
}

static int dispatch(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    const route_ctx *r = ctx;
    reply out = {resp, 200};
    int rc = r->fn(r->srv, req, &out);
    count_request(r->srv, r->name, rc == 0 ? out.status : 500);
    return rc;
}

static const struct {
    const char *method, *pattern, *name;
    int (*fn)(bl_registry_server *, const bl_http_request *, reply *);
} routes[] = {
    {"GET", "/subjects", "subjects", handle_subjects},
    {"GET", "/subjects/:subject/versions", "versions", handle_versions},
    {"POST", "/subjects/:subject/versions", "register", handle_register},
    {"GET", "/subjects/:subject/versions/:version", "get_version", handle_get_version},
    {"DELETE", "/subjects/:subject/versions/:version", "delete_version", handle_delete_version},
    {"GET", "/subjects/:subject/versions/:version/schema", "get_version_schema", handle_get_version_schema},
    {"POST", "/subjects/:subject", "lookup", handle_lookup},
    {"DELETE", "/subjects/:subject", "delete_subject", handle_delete_subject},
    {"GET", "/schemas/ids/:id", "schema_by_id", handle_schema_by_id},
    {"GET", "/schemas/ids/:id/versions", "id_versions", handle_id_versions},
    {"POST", "/compatibility/subjects/:subject/versions/:version", "compatibility", handle_compatibility},
    {"GET", "/config", "config_get", handle_config_get},
    {"PUT", "/config", "config_put", handle_config_put},
    {"GET", "/config/:subject", "config_get", handle_config_get},
    {"PUT", "/config/:subject", "config_put", handle_config_put},
    {"DELETE", "/config/:subject", "config_delete", handle_config_delete},
    {"GET", "/healthz", "healthz", handle_healthz},
    {"GET", "/readyz", "readyz", handle_readyz},
    {"GET", "/metrics", "metrics", handle_metrics},
};

#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

/* The server and its per-route contexts in one allocation. */
typedef struct server_block {
    bl_registry_server srv;
    route_ctx ctx[ROUTE_COUNT];
} server_block;

bl_registry_server *bl_registry_server_new(bl_registry_store *store, const char *host,
                                           unsigned short port, bl_err *err)
{
    server_block *b = calloc(1, sizeof *b);
    if (!b) {
        bl_err_set(err, BL_ENOMEM, "registry: out of memory");
        return NULL;
    }
    bl_registry_server *s = &b->srv;
    s->store = store;
    static const char *const labels[] = {"route", "status", NULL};
    bl_http_server_config cfg = {.host = host, .port = port, .error_body = confluent_error_body};
    if (!(s->metrics = bl_metrics_new())) {
        bl_err_set(err, BL_ENOMEM, "registry: out of memory");
        goto fail;
    }
    s->requests = bl_metrics_counter(s->metrics, "busline_registry_requests_total",
                                     "Registry requests answered, by route and HTTP status",
                                     labels, err);
    if (!s->requests || !(s->http = bl_http_server_new(&cfg, err)))
        goto fail;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        b->ctx[i] = (route_ctx){s, routes[i].name, routes[i].fn};
        if (bl_http_server_route(s->http, routes[i].method, routes[i].pattern, dispatch, &b->ctx[i], err) != 0)
            goto fail;
    }
    return s;
fail:
    bl_registry_server_free(s);
    return NULL;
}

int bl_registry_server_start(bl_registry_server *s, bl_err *err)
{
    return bl_http_server_start(s->http, err);
}

unsigned short bl_registry_server_port(const bl_registry_server *s)
{
    return bl_http_server_port(s->http);
}

void bl_registry_server_free(bl_registry_server *s)
{
    if (!s)
        return;
    bl_http_server_free(s->http);
    bl_metrics_free(s->metrics);
    free((server_block *)s);
}
