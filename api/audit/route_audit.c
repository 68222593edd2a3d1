/* GET /v1/audit: the organization's audit trail (api/audit/audit_log.h),
 * newest first, in the /v1 list envelope, filtered by entity_type,
 * entity_id, actor (a key's or user's id), since and until (RFC 3339).
 * Admin only. */
#include "api/audit/audit_log.h"
#include "api/routes/routes.h"
#include "api/routes/webhook_api.h"
#include "core/time_format.h"

#include <stdio.h>
#include <string.h>

/* sort=field.asc|desc; the default is id.desc (the order rows were written). */
static const char *const audit_sorts[] = {"id", "occurred_at", NULL};

#define AUDIT_ROW                                                                                          \
    "json_build_object('id', id, 'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC',"                 \
    " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), 'actor', json_build_object('type', actor_type, 'id', actor_id," \
    " 'key_id', key_id, 'user_id', user_id, 'session_id', session_id), 'entity_type', entity_type,"       \
    " 'entity_id', entity_id, 'action', action, 'before', before, 'after', after, 'request_id', request_id)"

/* A filter's text when given: 1..200 characters, else noted in errors. */
static const char *text_filter(const bl_http_request *http, const char *name, json_t *errors)
{
    const char *v = bl_http_request_query(http, name);
    if (v && (!*v || strlen(v) > 200)) {
        json_object_set_new(errors, name, json_string("1 to 200 characters"));
        return NULL;
    }
    return v;
}

/* since/until as epoch milliseconds text when given, else noted in errors. */
static const char *time_filter(const bl_http_request *http, const char *name, char *out, size_t len,
                               json_t *errors)
{
    const char *v = bl_http_request_query(http, name);
    int64_t ms = 0;
    if (!v)
        return NULL;
    if (bl_rfc3339_parse_millis(v, &ms) != 0) {
        json_object_set_new(errors, name, json_string("an RFC 3339 date-time (2026-01-31T12:00:00Z)"));
        return NULL;
    }
    snprintf(out, len, "%lld", (long long)ms);
    return out;
}

static int list_audit(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    char since_ms[24], until_ms[24];
    long limit, offset; /* read again by bl_api_answer_page: here so every bad parameter is named at once */
    bl_api_page_read(req->http, &limit, &offset, errors);
    const char *type = text_filter(req->http, "entity_type", errors);
    const char *id = text_filter(req->http, "entity_id", errors);
    const char *actor = text_filter(req->http, "actor", errors);
    const char *since = time_filter(req->http, "since", since_ms, sizeof since_ms, errors);
    const char *until = time_filter(req->http, "until", until_ms, sizeof until_ms, errors);
    if (json_object_size(errors))
        return bl_api_fail(req->http, resp, 400, NULL, "bad query parameters", errors);
    json_decref(errors);
    const char *params[] = {req->auth->org_id, type, id, actor, since, until};
    return bl_api_answer_page(
        req, resp,
        "audit_log WHERE organization_id = $1 AND ($2::text IS NULL OR entity_type = $2)"
        " AND ($3::text IS NULL OR entity_id = $3)"
        " AND ($4::text IS NULL OR $4 IN (actor_id, key_id, user_id, session_id))"
        " AND ($5::bigint IS NULL OR occurred_at >= to_timestamp($5::bigint / 1000.0))"
        " AND ($6::bigint IS NULL OR occurred_at <= to_timestamp($6::bigint / 1000.0))",
        6, params, AUDIT_ROW, audit_sorts);
}

static const char audit_operation[] =
    "{\"operationId\":\"list_audit\",\"summary\":\"The audit trail of configuration changes, newest first "
    "(secrets redacted)\",\"tags\":[\"audit\"],\"parameters\":["
    "{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"default\":50}},"
    "{\"name\":\"offset\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
    "{\"name\":\"entity_type\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"entity_id\",\"in\":\"query\",\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"actor\",\"in\":\"query\",\"description\":\"a key's, user's or session's id\","
    "\"schema\":{\"type\":\"string\"}},"
    "{\"name\":\"since\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"format\":\"date-time\"}},"
    "{\"name\":\"until\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"format\":\"date-time\"}},"
    "{\"name\":\"sort\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"default\":\"id.desc\","
    "\"pattern\":\"^(id|occurred_at)\\\\.(asc|desc)$\"}}],"
    "\"responses\":{\"200\":{\"description\":\"One page of rows: id, occurred_at, actor {type, id, key_id, "
    "user_id, session_id}, entity_type, entity_id, action, before, after, request_id\"},"
    "\"400\":{\"description\":\"bad query parameters (bad_request)\"}}}";

static const bl_api_route routes[] = {
    {"GET", "/v1/audit", BL_API_ADMIN, list_audit},
};

int bl_api_routes_audit(bl_api_server *s, bl_err *err)
{
    if (bl_api_server_routes(s, routes, sizeof routes / sizeof routes[0], NULL, err) != 0)
        return -1;
    json_error_t jerr;
    json_t *op = json_loads(audit_operation, 0, &jerr);
    if (!op)
        return bl_err_set(err, BL_EINVAL, "audit: operation document: %s", jerr.text);
    return bl_api_server_document(s, "GET", "/v1/audit", op, err);
}
