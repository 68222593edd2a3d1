/* A fake Azure DevOps (REST 7.1): work items create/update with JSON Patch
 * and a WIQL query on tags, PAT auth as Basic with an empty user. */
#include "tests/support/fake_saas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *bl_fake_azure_devops_error(int status, const char *message)
{
    const char *key = status == 401 ? "UnauthorizedRequestException"
                      : status == 429 ? "RequestBlockedException"
                                      : "RuleValidationException";
    char m[300];
    snprintf(m, sizeof m, "%s",
             message ? message : status == 401 ? "TF400813: The user is not authorized to access this resource."
                                               : "TF401320: Rule Error for field Title.");
    return json_pack("{s:s, s:n, s:s, s:s, s:s, s:i, s:i}", "$id", "1", "innerException", "message", m, "typeName",
                     "Microsoft.TeamFoundation.WorkItemTracking.Server", "typeKey", key, "errorCode", 0, "eventId",
                     3000);
}

/* Checks a JSON Patch document of work item fields; returns why not, or NULL. */
static const char *patch_problem(const json_t *ops, int create)
{
    if (!json_is_array(ops) || json_array_size(ops) == 0)
        return "the body must be a non-empty JSON Patch array";
    size_t i;
    const json_t *op;
    int title = 0;
    json_array_foreach(ops, i, op) {
        const char *o = json_string_value(json_object_get(op, "op"));
        const char *p = json_string_value(json_object_get(op, "path"));
        if (!o || (strcmp(o, "add") != 0 && strcmp(o, "replace") != 0 && strcmp(o, "test") != 0 &&
                   strcmp(o, "remove") != 0))
            return "op must be add, replace, test or remove";
        if (!p || strncmp(p, "/fields/", 8) != 0)
            return "path must be /fields/<reference name>";
        const json_t *v = json_object_get(op, "value");
        if (strcmp(o, "remove") != 0 && !json_is_string(v))
            return "value must be a string for these fields";
        if (strcmp(p, "/fields/System.Title") == 0 && json_string_length(v) > 0)
            title = 1;
    }
    if (create && !title)
        return "TF401320: Rule Error for field Title. Error code: Required, InvalidEmpty.";
    return NULL;
}

static void apply_ops(json_t *fields, const json_t *ops)
{
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op) {
        const char *p = json_string_value(json_object_get(op, "path"));
        if (p && strcmp(json_string_value(json_object_get(op, "op")), "test") != 0)
            json_object_set(fields, p + 8, json_object_get(op, "value"));
    }
}

static int common_checks(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp, const char *ct)
{
    const char *v = bl_http_request_query(req, "api-version");
    if (!v || strcmp(v, "7.1") != 0)
        return bl_fake_saas_refuse(f, resp, "api-version=7.1 is required"), -1;
    if (!bl_fake_saas_content_type_is(req, ct)) {
        char why[200];
        snprintf(why, sizeof why, "Content-Type must be %s", ct);
        return bl_fake_saas_refuse(f, resp, why), -1;
    }
    return 0;
}

static json_t *item_answer(const bl_http_request *req, long id, json_t *item)
{
    char url[300];
    snprintf(url, sizeof url, "https://dev.azure.com/%s/_apis/wit/workItems/%ld", bl_http_request_param(req, "org"), id);
    return json_pack("{s:I, s:O, s:O, s:s}", "id", (json_int_t)id, "rev", json_object_get(item, "rev"), "fields",
                     json_object_get(item, "fields"), "url", url);
}

static int work_item_create(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *type = bl_http_request_param(req, "item");
    const char *why;
    if (bl_fake_saas_begin(f, req, resp) || common_checks(f, req, resp, "application/json-patch+json") != 0) {
    } else if (!type || type[0] != '$' || !type[1]) {
        bl_fake_saas_refuse(f, resp, "the path must end in /workitems/${type}");
    } else if ((why = patch_problem(f->last_body, 1))) {
        bl_fake_saas_refuse(f, resp, why);
    } else {
        long id = f->next_id++;
        json_t *fields = json_pack("{s:s, s:s}", "System.WorkItemType", type + 1, "System.State", "New");
        apply_ops(fields, f->last_body);
        json_t *item = json_pack("{s:i, s:o}", "rev", 1, "fields", fields);
        char key[32];
        snprintf(key, sizeof key, "%ld", id);
        json_object_set_new(f->objects, key, item);
        f->creates++;
        json_t *out = item_answer(req, id, item);
        bl_http_response_json(resp, 200, out);
        json_decref(out);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int work_item_update(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *why;
    json_t *item = json_object_get(f->objects, bl_http_request_param(req, "item"));
    if (bl_fake_saas_begin(f, req, resp) || common_checks(f, req, resp, "application/json-patch+json") != 0) {
    } else if ((why = patch_problem(f->last_body, 0))) {
        bl_fake_saas_refuse(f, resp, why);
    } else if (!item) {
        json_t *b = bl_fake_azure_devops_error(404, "TF401232: Work item does not exist, or you do not have "
                                                    "permissions to read it.");
        bl_http_response_json(resp, 404, b);
        json_decref(b);
    } else {
        apply_ops(json_object_get(item, "fields"), f->last_body);
        json_object_set_new(item, "rev", json_integer(json_integer_value(json_object_get(item, "rev")) + 1));
        long id = strtol(bl_http_request_param(req, "item"), NULL, 10);
        json_t *out = item_answer(req, id, item);
        bl_http_response_json(resp, 200, out);
        json_decref(out);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int wiql(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *q;
    if (bl_fake_saas_begin(f, req, resp) || common_checks(f, req, resp, "application/json") != 0) {
    } else if (!(q = json_string_value(json_object_get(f->last_body, "query"))) || strncmp(q, "SELECT", 6) != 0) {
        bl_fake_saas_refuse(f, resp, "the body must be {\"query\": \"SELECT ...\"}");
    } else {
        char tag[300] = "";
        const char *c = strstr(q, "CONTAINS '");
        if (c)
            sscanf(c + 10, "%299[^']", tag);
        json_t *found = json_array();
        const char *key;
        json_t *item;
        json_object_foreach(f->objects, key, item) {
            const char *tags = json_string_value(json_object_get(json_object_get(item, "fields"), "System.Tags"));
            if (tag[0] && tags && strstr(tags, tag))
                json_array_append_new(found, json_pack("{s:I, s:s}", "id", (json_int_t)strtol(key, NULL, 10), "url",
                                                       "https://dev.azure.com/_apis/wit/workItems"));
        }
        json_t *out = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:o}", "queryType", "flat", "queryResultType",
                                "workItem", "asOf", "2026-01-01T00:00:00Z", "columns", "referenceName", "System.Id",
                                "name", "ID", "workItems", found);
        bl_http_response_json(resp, 200, out);
        json_decref(out);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_azure_devops_routes(bl_fake_saas *f, bl_err *err)
{
    if (bl_http_server_route(f->server, "POST", "/:org/:project/_apis/wit/wiql", wiql, f, err) != 0 ||
        bl_http_server_route(f->server, "POST", "/:org/:project/_apis/wit/workitems/:item", work_item_create, f,
                             err) != 0 ||
        bl_http_server_route(f->server, "PATCH", "/:org/:project/_apis/wit/workitems/:item", work_item_update, f,
                             err) != 0)
        return -1;
    return 0;
}
