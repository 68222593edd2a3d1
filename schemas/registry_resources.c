/* The Confluent resources over registry_store: subjects and versions,
 * schemas by id, compatibility and config, with Confluent's status codes,
 * error codes and messages. */
#include "schemas/registry_server_internal.h"

#include "core/log.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---------- subjects and versions ---------- */

/* Answers a store call that listed version numbers: 200 with v's numbers,
 * or the store's error when store_rc is not 0. Clears v. */
static int reply_versions(registry_reply *resp, const bl_http_request *req, int store_rc,
                          bl_registry_versions *v, const bl_err *err)
{
    if (store_rc != 0)
        return bl_registry_reply_store_error(resp, req, err);
    int rc = bl_registry_reply_json(resp, 200, bl_registry_int_array(v));
    bl_registry_versions_clear(v);
    return rc;
}

int bl_registry_handle_register(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    json_t *body = bl_registry_body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = bl_registry_body_schema(body, resp);
    if (schema) {
        const char *subject = bl_http_request_param(req, "subject");
        bl_registry_registered out = {0};
        bl_compat_reasons reasons = {0};
        bl_err err = {0};
        if (bl_registry_store_register(srv->store, subject, schema, &out, &reasons, &err) == 0) {
            rc = bl_registry_reply_json(resp, 200, json_pack("{s:i}", "id", out.id));
        } else if (err.code == BL_REG_INCOMPATIBLE) {
            char *details = bl_registry_join_reasons(&reasons);
            size_t len = strlen(subject) + (details ? strlen(details) : 0) + 128;
            char *msg = malloc(len);
            if (msg && details) {
                snprintf(msg, len,
                         "Schema being registered is incompatible with an earlier schema for subject "
                         "\"%s\", details: [%s]",
                         subject, details);
                rc = bl_registry_reply_error(resp, BL_REG_INCOMPATIBLE, msg);
            } else {
                rc = -1;
            }
            free(msg);
            free(details);
        } else {
            rc = bl_registry_reply_store_error(resp, req, &err);
        }
        bl_compat_reasons_free(&reasons);
    }
    json_decref(body);
    return rc;
}

int bl_registry_handle_lookup(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    json_t *body = bl_registry_body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = bl_registry_body_schema(body, resp);
    if (schema) {
        bl_registry_version v = {0};
        bl_err err = {0};
        if (bl_registry_store_lookup(srv->store, bl_http_request_param(req, "subject"), schema,
                                     bl_registry_query_true(req, "deleted"), &v, &err) == 0)
            rc = bl_registry_reply_json(resp, 200, bl_registry_version_json(&v));
        else
            rc = bl_registry_reply_store_error(resp, req, &err);
        bl_registry_version_clear(&v);
    }
    json_decref(body);
    return rc;
}

int bl_registry_handle_subjects(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_registry_strings names = {0};
    bl_err err = {0};
    if (bl_registry_store_subjects(srv->store, bl_registry_query_true(req, "deleted"), &names, &err) != 0)
        return bl_registry_reply_store_error(resp, req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < names.count; i++)
        if (json_array_append_new(arr, json_string(names.items[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    bl_registry_strings_clear(&names);
    return bl_registry_reply_json(resp, 200, arr);
}

int bl_registry_handle_versions(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_registry_versions v = {0};
    bl_err err = {0};
    int rc = bl_registry_store_versions(srv->store, bl_http_request_param(req, "subject"),
                                        bl_registry_query_true(req, "deleted"), &v, &err);
    return reply_versions(resp, req, rc, &v, &err);
}

/* Fetches the :subject/:version of req into v; answers and returns -1 when
 * that fails. */
static int fetch_version(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp,
                         bl_registry_version *v)
{
    int version = 0;
    if (bl_registry_path_version(req, resp, &version) != 0)
        return -1;
    bl_err err = {0};
    if (bl_registry_store_get(srv->store, bl_http_request_param(req, "subject"), version,
                              bl_registry_query_true(req, "deleted"), v, &err) == 0)
        return 0;
    bl_registry_reply_store_error(resp, req, &err);
    return -1;
}

int bl_registry_handle_get_version(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_registry_version v = {0};
    if (fetch_version(srv, req, resp, &v) != 0)
        return 0;
    int rc = bl_registry_reply_json(resp, 200, bl_registry_version_json(&v));
    bl_registry_version_clear(&v);
    return rc;
}

int bl_registry_handle_get_version_schema(bl_registry_server *srv, const bl_http_request *req,
                                          registry_reply *resp)
{
    bl_registry_version v = {0};
    if (fetch_version(srv, req, resp, &v) != 0)
        return 0;
    int rc = bl_http_response_body_copy(resp->resp, v.schema, strlen(v.schema), BL_REGISTRY_CONTENT_TYPE);
    bl_registry_version_clear(&v);
    return rc;
}

int bl_registry_handle_delete_version(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    int version = 0, deleted = 0;
    if (bl_registry_path_version(req, resp, &version) != 0)
        return 0;
    bl_err err = {0};
    if (bl_registry_store_delete_version(srv->store, bl_http_request_param(req, "subject"), version,
                                         bl_registry_query_true(req, "permanent"), &deleted, &err) != 0)
        return bl_registry_reply_store_error(resp, req, &err);
    return bl_registry_reply_json(resp, 200, json_integer(deleted));
}

int bl_registry_handle_delete_subject(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_registry_versions v = {0};
    bl_err err = {0};
    int rc = bl_registry_store_delete_subject(srv->store, bl_http_request_param(req, "subject"),
                                              bl_registry_query_true(req, "permanent"), &v, &err);
    return reply_versions(resp, req, rc, &v, &err);
}

/* ---------- schemas by id ---------- */

/* The :id parameter; answers 40403 (Confluent: no such schema) when it is
 * not a positive integer. */
static int path_id(const bl_http_request *req, registry_reply *resp, int *id)
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
    bl_registry_reply_error(resp, BL_REG_SCHEMA_NOT_FOUND, msg);
    return -1;
}

int bl_registry_handle_schema_by_id(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    int id = 0;
    if (path_id(req, resp, &id) != 0)
        return 0;
    bl_err err = {0};
    char *schema = bl_registry_store_schema_by_id(srv->store, id, &err);
    if (!schema)
        return bl_registry_reply_store_error(resp, req, &err);
    int rc = bl_registry_reply_json(resp, 200, json_pack("{s:s}", "schema", schema));
    free(schema);
    return rc;
}

int bl_registry_handle_id_versions(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    int id = 0;
    if (path_id(req, resp, &id) != 0)
        return 0;
    bl_registry_versions v = {0};
    bl_err err = {0};
    if (bl_registry_store_id_versions(srv->store, id, &v, &err) != 0)
        return bl_registry_reply_store_error(resp, req, &err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < v.count; i++)
        if (json_array_append_new(arr, json_pack("{s:s, s:i}", "subject", v.subjects[i], "version",
                                                 v.versions[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    bl_registry_versions_clear(&v);
    return bl_registry_reply_json(resp, 200, arr);
}

/* ---------- compatibility ---------- */

int bl_registry_handle_compatibility(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    int version = 0;
    if (bl_registry_path_version(req, resp, &version) != 0)
        return 0;
    json_t *body = bl_registry_body_object(req, resp);
    if (!body)
        return 0;
    int rc = 0;
    const char *schema = bl_registry_body_schema(body, resp);
    if (schema) {
        bool compatible = false;
        bl_compat_reasons reasons = {0};
        bl_err err = {0};
        if (bl_registry_store_check(srv->store, bl_http_request_param(req, "subject"), version, schema,
                                    &compatible, &reasons, &err) != 0) {
            rc = bl_registry_reply_store_error(resp, req, &err);
        } else {
            json_t *out = json_pack("{s:b}", "is_compatible", compatible);
            if (out && bl_registry_query_true(req, "verbose")) {
                json_t *messages = json_array();
                for (size_t i = 0; messages && i < reasons.count; i++)
                    json_array_append_new(messages, json_string(reasons.items[i]));
                json_object_set_new(out, "messages", messages);
            }
            rc = bl_registry_reply_json(resp, 200, out);
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

int bl_registry_handle_config_get(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_compat_mode mode;
    bl_err err = {0};
    if (bl_registry_store_config_get(srv->store, subject_or_global(req), bl_registry_query_true(req, "defaultToGlobal"),
                                     &mode, &err) != 0)
        return bl_registry_reply_store_error(resp, req, &err);
    return bl_registry_reply_json(resp, 200, json_pack("{s:s}", "compatibilityLevel", bl_compat_mode_name(mode)));
}

int bl_registry_handle_config_put(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    json_t *body = bl_registry_body_object(req, resp);
    if (!body)
        return 0;
    int rc;
    json_t *level = json_object_get(body, "compatibility");
    bl_compat_mode mode;
    bl_err err = {0};
    if (!json_is_string(level) || bl_compat_mode_parse(json_string_value(level), &mode, &err) != 0)
        rc = bl_registry_reply_error(resp, BL_REG_INVALID_COMPATIBILITY,
                                     "Invalid compatibility level. Valid values are none, backward, forward, full, "
                                     "backward_transitive, forward_transitive, and full_transitive");
    else if (bl_registry_store_config_set(srv->store, subject_or_global(req), mode, &err) != 0)
        rc = bl_registry_reply_store_error(resp, req, &err);
    else
        rc = bl_registry_reply_json(resp, 200, json_pack("{s:s}", "compatibility", bl_compat_mode_name(mode)));
    json_decref(body);
    return rc;
}

int bl_registry_handle_config_delete(bl_registry_server *srv, const bl_http_request *req, registry_reply *resp)
{
    bl_compat_mode old;
    bl_err err = {0};
    if (bl_registry_store_config_delete(srv->store, subject_or_global(req), &old, &err) != 0)
        return bl_registry_reply_store_error(resp, req, &err);
    return bl_registry_reply_json(resp, 200, json_pack("{s:s}", "compatibilityLevel", bl_compat_mode_name(old)));
}
