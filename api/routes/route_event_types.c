/* The event catalog for subscribers: GET /v1/event-types lists every event
 * type a webhook may subscribe to, GET /v1/event-types/:type gives one with
 * the JSON Schema of the webhook body it is delivered in (derived from its
 * Avro schema) and an example body. report.generated exists in two domains:
 * ?domain= picks one. Read permission. */
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"

#include "connectors/webhook/workers/payload_schema.h"
#include "core/log.h"
#include "schemas/avro_json_schema.h"
#include "schemas/catalog.h"

#include <stdio.h>
#include <string.h>

/* The record's own doc, "" when it has none. */
static const char *record_doc(const json_t *data_schema)
{
    const char *doc = json_string_value(json_object_get(data_schema, "description"));
    return doc ? doc : "";
}

/* The catalog entry of m: its schema and example when whole, else the
 * summary of the list. New reference or NULL with err. */
static json_t *entry_of(const bl_catalog *cat, const bl_catalog_msg *m, int whole, bl_err *err)
{
    const bl_catalog_topic *topic = bl_catalog_topic_find(cat, m->topic, err);
    bl_avro_schema *S = topic ? bl_avro_schema_parse(topic->schema_json, strlen(topic->schema_json), err) : NULL;
    json_t *data_schema = S ? bl_avro_json_schema(S, m->record_name, err) : NULL;
    json_t *data_example = whole && data_schema ? bl_avro_json_example(S, m->record_name, err) : NULL;
    bl_avro_schema_free(S);
    json_t *out = NULL;
    if (data_schema && (!whole || data_example)) {
        out = json_pack("{s:s, s:s, s:s, s:s}", "type", m->type, "domain", m->domain, "topic", m->topic,
                        "description", record_doc(data_schema));
        if (out && whole) {
            json_t *example = bl_webhook_payload_example(m->type, data_example, err);
            json_t *schema = example ? bl_webhook_payload_schema(m->type, json_incref(data_schema), err) : NULL;
            if (!schema || json_object_set_new(out, "schema", schema) || json_object_set_new(out, "example", example)) {
                json_decref(out);
                out = NULL;
            }
        }
    }
    json_decref(data_schema);
    json_decref(data_example);
    return out;
}

static const bl_catalog *catalog_of(const bl_api_request *req)
{
    bl_err err = {0};
    const bl_catalog *cat = bl_api_server_catalog(req->server, &err);
    if (!cat)
        bl_log_error("api: schema catalog unavailable", BL_FS("error", err.msg));
    return cat;
}

static int list_event_types(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    long limit = 0, offset = 0;
    json_t *errors = json_object();
    bl_api_page_read(req->http, &limit, &offset, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    const bl_catalog *cat = catalog_of(req);
    if (!cat)
        return -1;
    bl_err err = {0};
    json_t *list = json_array();
    for (size_t i = 0; list && i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *m = bl_catalog_msg_at(cat, i);
        if (m->kind != BL_MSG_EVENT)
            continue;
        json_t *e = entry_of(cat, m, 0, &err);
        if (!e || json_array_append_new(list, e) != 0) {
            bl_log_error("api: event catalog", BL_FS("type", m->type), BL_FS("error", err.msg));
            json_decref(list);
            list = NULL;
        }
    }
    json_t *out = bl_api_page_slice(list, limit, offset);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int get_event_type(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    const char *type = bl_http_request_param(req->http, "type");
    const char *domain = bl_http_request_query(req->http, "domain");
    const bl_catalog *cat = catalog_of(req);
    if (!cat)
        return -1;
    bl_err err = {0};
    const bl_catalog_msg *m = bl_catalog_find(cat, BL_MSG_EVENT, domain && *domain ? domain : NULL, type, &err);
    int rc;
    if (!m && err.code == BL_EINVAL) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s is an event type of several domains: name one with ?domain=", type);
        rc = bl_api_fail(req->http, resp, 400, NULL, msg, json_pack("{s:s}", "domain", "required for this type"));
    } else if (!m) {
        char msg[256];
        snprintf(msg, sizeof msg, "no event type %.100s%s%.60s (GET /v1/event-types lists them)", type,
                 domain ? " in domain " : "", domain ? domain : "");
        rc = bl_api_fail(req->http, resp, 404, NULL, msg, NULL);
    } else {
        json_t *e = entry_of(cat, m, 1, &err), *out = e ? json_pack("{s:o}", "data", e) : NULL;
        if (!out)
            bl_log_error("api: event catalog", BL_FS("type", m->type), BL_FS("error", err.msg));
        rc = out ? bl_http_response_json(resp, 200, out) : -1;
        json_decref(out);
    }
    return rc;
}

json_t *bl_api_event_type_example(const char *type, const char *domain, bl_err *err)
{
    bl_catalog *cat = bl_catalog_load(bl_catalog_default_dir(), err);
    if (!cat)
        return NULL;
    const bl_catalog_msg *m = bl_catalog_find(cat, BL_MSG_EVENT, domain && *domain ? domain : NULL, type, err);
    json_t *entry = m ? entry_of(cat, m, 1, err) : NULL, *example = json_incref(json_object_get(entry, "example"));
    if (!m && err->code == BL_EINVAL)
        bl_err_set(err, BL_EINVAL, "%.100s is an event type of several domains: name one with domain", type);
    else if (!m)
        bl_err_set(err, BL_ENOTFOUND, "no event type %.100s%s%.60s (GET /v1/event-types lists them)", type,
                   domain ? " in domain " : "", domain ? domain : "");
    json_decref(entry);
    bl_catalog_free(cat);
    return example;
}

static const char list_operation[] =
    "{\"operationId\":\"list_event_types\",\"summary\":\"Every event type a webhook may subscribe to\","
    "\"tags\":[\"event-types\"],\"parameters\":[{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":"
    "\"integer\",\"minimum\":1,\"default\":50,\"maximum\":100}},{\"name\":\"offset\",\"in\":\"query\",\"schema\":{"
    "\"type\":\"integer\",\"minimum\":0,\"default\":0}}],"
    "\"responses\":{\"200\":{\"description\":\"The catalog\",\"content\":{"
    "\"application/json\":{\"schema\":{\"type\":\"object\",\"required\":[\"data\",\"pagination\"],\"properties\":{"
    "\"pagination\":{\"type\":\"object\",\"required\":[\"total\",\"limit\",\"offset\",\"has_more\"]},\"data\":{"
    "\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"type\",\"domain\",\"topic\",\"description\"],"
    "\"properties\":{\"type\":{\"type\":\"string\"},\"domain\":{\"type\":\"string\"},\"topic\":{\"type\":\"string\"},"
    "\"description\":{\"type\":\"string\"}}}}}}}}}}}";

static const char get_operation[] =
    "{\"operationId\":\"get_event_type\",\"summary\":\"One event type: the JSON Schema of the webhook body it "
    "comes in (derived from its Avro schema) and an example body\",\"tags\":[\"event-types\"],"
    "\"parameters\":[{\"name\":\"domain\",\"in\":\"query\",\"description\":\"the domain, for a type several "
    "domains publish (report.generated: pmo, fieldservice)\",\"schema\":{\"type\":\"string\"}}],"
    "\"responses\":{\"200\":{\"description\":\"The event type\",\"content\":{\"application/json\":{\"schema\":{"
    "\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":\"object\",\"required\":["
    "\"type\",\"domain\",\"topic\",\"description\",\"schema\",\"example\"],\"properties\":{"
    "\"type\":{\"type\":\"string\"},\"domain\":{\"type\":\"string\"},\"topic\":{\"type\":\"string\"},"
    "\"description\":{\"type\":\"string\"},\"schema\":{\"type\":\"object\",\"description\":\"a JSON Schema "
    "(draft 2020-12) of the body {event, timestamp, organization_id, data}; SmartLeakPro-format endpoints get "
    "the same data in that document's envelope\"},\"example\":{\"type\":\"object\",\"description\":\"a body as "
    "it would be delivered\"}}}}}}}},"
    "\"400\":{\"description\":\"the type exists in several domains and no domain was given (bad_request)\"},"
    "\"404\":{\"description\":\"no such event type (not_found)\"}}}";

static const bl_api_route routes[] = {
    {"GET", "/v1/event-types", BL_API_BY_METHOD, list_event_types},
    {"GET", "/v1/event-types/:type", BL_API_BY_METHOD, get_event_type},
};

int bl_api_routes_event_types(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    const char *docs[][2] = {{"/v1/event-types", list_operation}, {"/v1/event-types/:type", get_operation}};
    for (size_t i = 0; i < 2; i++) {
        json_error_t jerr;
        json_t *op = json_loads(docs[i][1], 0, &jerr);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "event types: operation document: %s", jerr.text);
        if (bl_api_server_document(s, "GET", docs[i][0], op, err) != 0)
            return -1;
    }
    return 0;
}
