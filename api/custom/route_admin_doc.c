/* The OpenAPI operations of /v1/custom-apis: what a definition holds and
 * how each route treats it (document 002's APIEndpointConfig). */
#include "api/custom/route_admin.h"

static const char definition_text[] =
    "A custom endpoint is document 002's APIEndpointConfig: name, path (\"/items/:id\": literals and :name"
    " parameters, unique in the organization; served at /custom/<organization slug><path>), method (GET, POST,"
    " PUT, DELETE, PATCH), description, authentication {type: none | api-key (the bus's API keys of the"
    " organization) | jwt (the bus's session access tokens of the organization) | oauth2 (a bearer token"
    " introspected per RFC 7662 at settings.introspectionUrl with settings.clientId and settings.clientSecret,"
    " kept encrypted and never shown), roles: for api-key and jwt the permissions let in (read, write, admin), for"
    " oauth2 the scopes the token must hold}, rateLimit {enabled, requestsPerMinute, burstLimit, strategy:"
    " fixed-window (requestsPerMinute per clock minute) | sliding-window (requestsPerMinute in any 60 s) |"
    " token-bucket (burstLimit tokens refilled at requestsPerMinute), per endpoint per caller, per replica},"
    " caching {enabled, ttl seconds, strategy: memory (per replica, bounded) | database (shared by replicas),"
    " invalidationRules: event types of the bus's catalog whose arrival on events.* evicts the answers; GET only},"
    " transformations (TransformationRules applied in order to {params, query, body, integrations}; their"
    " testCases run on every save), integrations (IntegrationConfigs called in order, each answer under"
    " integrations.<id>), outputSchema (a JSON Schema the answer must match, else 502), workflow ({id, name?,"
    " wait?, waitTimeout? ms <= 30000}: each request starts an execution of that api-call workflow, input {method,"
    " path, params, query, body, requestId}; 202 {executionId} at once, or with wait its result: 200 {executionId,"
    " status, output}, 502 WORKFLOW_ERROR when it failed, 202 when still running past waitTimeout; no"
    " integrations or transformations of its own then), version"
    " (semver; every save is"
    " kept) and isActive. A definition with any problem is refused whole with 422 and field_errors naming each.";

static const struct {
    const char *method, *pattern, *summary, *status, *answer;
} docs[] = {
    {"GET", "/v1/custom-apis", "List the organization's custom endpoints (paginated: limit, offset, sort)", "200",
     "{data: [definition], pagination}"},
    {"POST", "/v1/custom-apis", "Create a custom endpoint from its definition (version 1.0.0 unless given)", "201",
     "the definition with id, url, createdAt, updatedAt"},
    {"GET", "/v1/custom-apis/:id", "Read a custom endpoint", "200", "the definition"},
    {"PUT", "/v1/custom-apis/:id",
     "Replace a custom endpoint's definition; the previous version is kept. version: above every saved one, or"
     " absent (or unchanged) for the next patch",
     "200", "the definition"},
    {"DELETE", "/v1/custom-apis/:id", "Delete a custom endpoint, its versions and cached answers", "204", "nothing"},
    {"GET", "/v1/custom-apis/:id/versions", "Every saved version, newest first", "200",
     "{data: [{version, savedAt, savedBy, current}]}"},
    {"POST", "/v1/custom-apis/:id/rollback",
     "Make a saved version current again; body {version}. It is checked as a new save is", "200", "the definition"},
    {"POST", "/v1/custom-apis/:id/transformations/:tid/test",
     "Run a transformation's test cases (or those of the body {testCases})", "200",
     "{transformationId, total, passed, failed, ok, failures}"},
};

int bl_custom_admin_document(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_t *op = json_pack("{s:s, s:s, s:[s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "summary", docs[i].summary,
                               "description", definition_text, "tags", "custom-apis", "responses", docs[i].status,
                               "description", docs[i].answer, "404", "description",
                               "no such custom endpoint in this organization (not_found)", "409", "description",
                               "another endpoint of the organization has this path (path_taken)", "422",
                               "description", "the definition has problems; nothing saved (invalid_definition)");
        if (!op)
            return bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
        if (bl_api_server_document(s, docs[i].method, docs[i].pattern, op, err) != 0)
            return -1;
    }
    return 0;
}
