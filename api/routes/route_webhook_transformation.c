/* POST /v1/webhooks/:id/transformation/test: runs a webhook's payload
 * transformation (connectors/webhook/policy/transformation.h) on a sample
 * and shows the body it would send, or why it would fail. The sample is
 * "event" (a webhook body as busline builds it, {event, timestamp,
 * organization_id, data}) or "event_type" (+ "domain" when several publish
 * it): the event catalog's example body (GET /v1/event-types/:type). The
 * rule is the endpoint's saved transformation, or "transformation" of the
 * body: an unsaved one, checked as a save checks it (422 with each problem).
 * Nothing is sent or saved. Admin only, as the other webhook actions. */
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"

#include "connectors/webhook/policy/transformation.h"
#include "core/clock.h"

#include <stdlib.h>
#include <string.h>

static int answer_invalid(const bl_api_request *req, bl_http_response *resp, json_t *errors)
{
    return bl_api_fail(req->http, resp, 422, NULL, "the transformation test is not valid", errors);
}

/* The sample body of the request (new reference), or NULL with errors noted. */
static json_t *sample_of(const json_t *body, json_t *errors)
{
    const json_t *event = json_object_get(body, "event");
    const char *type = json_string_value(json_object_get(body, "event_type"));
    const json_t *domain = json_object_get(body, "domain");
    if (event && json_object_get(body, "event_type")) {
        json_object_set_new(errors, "event", json_string("give event or event_type, not both"));
        return NULL;
    }
    if (domain && !json_is_string(domain))
        json_object_set_new(errors, "domain", json_string("a domain name (pmo, fieldservice, ...)"));
    if (event)
        return json_incref((json_t *)event);
    if (!type) {
        json_object_set_new(errors, json_object_get(body, "event_type") ? "event_type" : "event",
                            json_string("give event (a webhook body) or event_type (its catalog example)"));
        return NULL;
    }
    bl_err err = {0};
    json_t *example = bl_api_event_type_example(type, json_string_value(domain), &err);
    if (!example)
        json_object_set_new(errors, "event_type", json_string(err.msg));
    return example;
}

static int test_transformation(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    static const char *const fields[] = {"event", "event_type", "domain", "transformation", NULL};
    json_t *errors = json_object();
    if (!errors)
        return -1;
    if (!json_is_object(req->body)) {
        json_object_set_new(errors, "body", json_string("{\"event\": {...}} or {\"event_type\": \"...\"}, with "
                                                        "\"transformation\" to try an unsaved one"));
        return answer_invalid(req, resp, errors);
    }
    const char *name;
    json_t *v;
    json_object_foreach((json_t *)req->body, name, v) {
        size_t i = 0;
        while (fields[i] && strcmp(fields[i], name) != 0)
            i++;
        if (!fields[i])
            json_object_set_new(errors, name, json_string("unknown field"));
    }
    bl_api_webhook_env env;
    bl_webhook_endpoint *e = NULL;
    json_t *sample = NULL, *out = NULL, *problems = NULL;
    bl_transform *t = NULL;
    char *sent = NULL;
    int rc = -1;
    if (bl_api_webhook_env_open_logged(req, 0, &env) != 0 || !(e = bl_api_webhook_find(req, env.store, resp, &rc)))
        goto done;
    const json_t *given = json_object_get(req->body, "transformation");
    const json_t *rule = given && !json_is_null(given) ? given : e->transformation;
    if (!rule)
        json_object_set_new(errors, "transformation",
                            json_string("the webhook has no transformation: give one in the body to try it"));
    else if (bl_webhook_transformation_check(rule, "transformation", errors) == 0 &&
             !(t = bl_webhook_transformation_compile(rule, NULL)))
        goto done;
    sample = sample_of(req->body, errors);
    if (json_object_size(errors)) {
        rc = answer_invalid(req, resp, errors);
        errors = NULL;
        goto done;
    }
    char *input = json_dumps(sample, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t sent_len = 0;
    bl_err err = {0};
    if (input)
        sent = bl_webhook_transformation_apply(t, input, strlen(input), bl_clock_wall_ms(), &sent_len, &problems,
                                               &err);
    free(input);
    if (!input)
        goto done;
    out = json_pack("{s:s, s:b, s:O, s:o, s:o, s:o, s:o}", "source", given && !json_is_null(given) ? "body" : "saved",
                    "ok", sent != NULL, "input", sample,
                    "output", sent ? json_loads(sent, JSON_DECODE_ANY, NULL) : json_null(),
                    "body", sent ? json_string(sent) : json_null(), "error", sent ? json_null() : json_string(err.msg),
                    "problems", problems ? json_incref(problems) : json_array());
    json_t *answer = out ? json_pack("{s:O}", "data", out) : NULL;
    rc = answer ? bl_http_response_json(resp, 200, answer) : -1;
    json_decref(answer);
done:
    json_decref(errors);
    json_decref(sample);
    json_decref(out);
    json_decref(problems);
    free(sent);
    bl_transform_free(t);
    bl_webhook_endpoint_free(e);
    bl_api_webhook_env_close(&env);
    return rc;
}

static const char test_operation[] =
    "{\"operationId\":\"test_webhook_transformation\",\"summary\":\"Run the webhook's payload transformation "
    "(or an unsaved one given as transformation) on a sample event and show the body it would sign and send; "
    "nothing is sent or saved\",\"tags\":[\"webhooks\"],"
    "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\","
    "\"properties\":{\"event\":{\"description\":\"a webhook body as busline builds it: {event, timestamp, "
    "organization_id, data}\"},\"event_type\":{\"type\":\"string\",\"description\":\"instead of event: the "
    "catalog's example body of this type (GET /v1/event-types/:type)\"},\"domain\":{\"type\":\"string\","
    "\"description\":\"with event_type, for a type several domains publish\"},\"transformation\":{"
    "\"$ref\":\"#/components/schemas/TransformationRule\"}}}}}},"
    "\"responses\":{\"200\":{\"description\":\"The result: ok with output and body (the exact text signed), or "
    "ok false with error and, when a schema refused the value, problems\",\"content\":{\"application/json\":{"
    "\"schema\":{\"type\":\"object\",\"required\":[\"data\"],\"properties\":{\"data\":{\"type\":\"object\","
    "\"required\":[\"source\",\"ok\",\"input\",\"output\",\"body\",\"error\",\"problems\"],\"properties\":{"
    "\"source\":{\"enum\":[\"saved\",\"body\"]},\"ok\":{\"type\":\"boolean\"},\"input\":{},\"output\":{},"
    "\"body\":{\"type\":[\"string\",\"null\"]},\"error\":{\"type\":[\"string\",\"null\"]},"
    "\"problems\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}}}}}},"
    "\"404\":{\"description\":\"no such webhook in this organization (not_found)\"},"
    "\"422\":{\"description\":\"no sample, no transformation, or one that does not compile or whose test cases "
    "fail: field_errors names each problem (transformation, transformation.testCases[i]) (validation_failed)\"}}}";

/* seeds/002's TransformationRule, as the webhook's transformation. */
static const char rule_schema[] =
    "{\"type\":[\"object\",\"null\"],\"description\":\"one TransformationRule of the custom-API document, "
    "applied to the webhook body before it is signed (connectors/transform/README.md); checked on save: it "
    "compiles and its testCases pass, else 422 naming each problem; null: none\",\"required\":[\"type\","
    "\"rules\"],\"properties\":{\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
    "\"type\":{\"enum\":[\"map\",\"filter\",\"aggregate\",\"validate\",\"custom\"]},"
    "\"inputSchema\":{\"type\":\"object\"},\"outputSchema\":{\"type\":\"object\"},"
    "\"rules\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"operation\"],\"properties\":{"
    "\"operation\":{\"type\":\"string\"},\"source\":{\"type\":\"string\"},\"target\":{\"type\":\"string\"},"
    "\"condition\":{\"type\":\"string\"},\"parameters\":{\"type\":\"object\"}}}},"
    "\"testCases\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"name\",\"input\","
    "\"expectedOutput\"],\"properties\":{\"name\":{\"type\":\"string\"},\"input\":{},\"expectedOutput\":{},"
    "\"description\":{\"type\":\"string\"}}}}}}";

static const bl_api_route routes[] = {
    {"POST", "/v1/webhooks/:id/transformation/test", BL_API_ADMIN, test_transformation},
};

int bl_api_routes_webhook_transformation(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    json_t *op = json_loads(test_operation, 0, NULL);
    json_t *schema = json_loads(rule_schema, 0, NULL);
    if (!op || !schema) {
        json_decref(op);
        json_decref(schema);
        return bl_err_set(err, BL_EINVAL, "webhook transformation: operation document is not valid JSON");
    }
    json_object_set_new(op, "x-busline-components", json_pack("{s:o}", "TransformationRule", schema));
    return bl_api_server_document(s, "POST", "/v1/webhooks/:id/transformation/test", op, err);
}
