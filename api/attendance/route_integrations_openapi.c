/* The OpenAPI operations of {prefix}/integrations (design document 001) in
 * the Attendance-X surface's document: bodies and answers with the
 * document's names, the settings schema of each provider
 * (integration_settings.h) and the error codes each path gives. Kept apart
 * from the events API's operations of the same document. */
#include "api/attendance/ax_integrations.h"
#include "api/attendance/integration_settings.h"

#include <jansson.h>
#include <string.h>

#define STR "{\"type\":\"string\"}"
#define STR_N "{\"type\":[\"string\",\"null\"]}"
#define INT "{\"type\":\"integer\"}"
#define NUM_N "{\"type\":[\"number\",\"null\"]}"
#define BOOL "{\"type\":\"boolean\"}"
#define TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define TIME_N "{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"
#define OBJ(props, required) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"
#define STRICT(props, required) \
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{" props "},\"required\":[" required "]}"
#define ARR(item) "{\"type\":\"array\",\"items\":" item "}"
#define BODY(schema) "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":" schema "}}}"
#define ENVELOPE(data) OBJ("\"success\":{\"const\":true},\"data\":" data, "\"success\",\"data\"")
#define ANSWER(code, what, data) \
    "\"" code "\":{\"description\":\"" what "\",\"content\":{\"application/json\":{\"schema\":" ENVELOPE(data) "}}}"
#define ERROR(code, what) "\"" code "\":{\"description\":\"" what "\"}"
#define DENIED ERROR("401", "INVALID_CREDENTIALS: no or a refused key") "," \
    ERROR("403", "PERMISSION_DENIED: Manager (write) or Admin required") "," \
    ERROR("429", "RATE_LIMIT_EXCEEDED: the caller's rate limit")
#define OP(id, summary, rest) \
    "{\"operationId\":\"" id "\",\"tags\":[\"integrations\"],\"summary\":\"" summary "\"," rest "}"
#define QUERY(name, schema, about) \
    "{\"name\":\"" name "\",\"in\":\"query\",\"schema\":" schema ",\"description\":\"" about "\"}"
#define PROVIDERS "{\"enum\":[\"google\",\"microsoft\",\"slack\",\"zoom\"]}"
#define DIRECTIONS "{\"enum\":[\"bidirectional\",\"attendance_to_external\",\"external_to_attendance\"]}"

#define RUN                                                                                                    \
    OBJ("\"id\":" STR ",\"startedAt\":" TIME ",\"completedAt\":" TIME_N                                        \
        ",\"status\":{\"enum\":[\"queued\",\"running\",\"success\",\"partial\",\"error\"]}"                  \
        ",\"type\":{\"enum\":[\"manual\",\"automatic\",\"cleanup\"]},\"direction\":" DIRECTIONS                \
        ",\"scope\":" STR ",\"dryRun\":" BOOL                                                                   \
        ",\"statistics\":" OBJ("\"eventsProcessed\":" INT ",\"eventsCreated\":" INT ",\"eventsUpdated\":" INT  \
                               ",\"eventsDeleted\":" INT ",\"errors\":" INT, "")                                  \
        ",\"errors\":" ARR(OBJ("\"eventId\":" STR ",\"error\":" STR ",\"code\":" STR, "\"code\""))             \
        ",\"conflicts\":" INT ",\"duration\":" STR_N                                                            \
        ",\"triggeredBy\":{\"oneOf\":[{\"const\":\"scheduled_sync\"},{\"const\":\"initial_sync\"},"           \
        OBJ("\"userId\":" STR ",\"name\":" STR_N, "\"userId\"") ",{\"type\":\"null\"}]}",                      \
        "\"id\",\"startedAt\",\"status\",\"type\",\"statistics\"")

#define INTEGRATION                                                                                            \
    OBJ("\"id\":" STR ",\"provider\":" PROVIDERS                                                               \
        ",\"type\":{\"enum\":[\"calendar\",\"communication\",\"video\"]},\"name\":" STR                        \
        ",\"status\":{\"enum\":[\"pending\",\"connected\",\"error\",\"disconnected\"]},\"connectedAt\":" TIME \
        ",\"disconnectedAt\":" TIME_N ",\"lastSync\":" TIME_N ",\"lastActivity\":" TIME_N                      \
        ",\"settings\":{\"type\":\"object\"},\"notifications\":{\"type\":\"object\"},\"nextSyncAt\":" TIME_N  \
        ",\"permissions\":" ARR(STR)                                                                           \
        ",\"statistics\":{\"type\":\"object\",\"description\":\"calendars: eventsSynced (live copies),"       \
        " lastSyncDuration, errorCount, successRate (null before a finished run); Slack: errorCount,"          \
        " channelsConnected; Zoom: errorCount. messagesSent and activeUsers are not measured, so not shown\"}"  \
        ",\"connectedBy\":{\"type\":[\"object\",\"null\"]}",                                                   \
        "\"id\",\"provider\",\"type\",\"name\",\"status\",\"connectedAt\",\"settings\",\"permissions\","        \
        "\"statistics\"")

#define CONNECTED                                                                                              \
    OBJ("\"integrationId\":" STR ",\"provider\":" PROVIDERS ",\"status\":{\"const\":\"connected\"}"            \
        ",\"connectedAt\":" TIME ",\"permissions\":" ARR(STR)                                                   \
        ",\"userInfo\":" OBJ("\"email\":" STR_N ",\"name\":" STR_N ",\"avatar\":{\"type\":\"null\"}", "")         \
        ",\"initialSync\":{\"description\":\"calendars: the first sync, queued for the worker\","              \
        "\"oneOf\":[{\"type\":\"null\"}," OBJ("\"status\":{\"const\":\"scheduled\"},\"syncId\":" STR            \
        ",\"statusUrl\":" STR ",\"estimatedDuration\":" STR_N, "\"status\",\"syncId\"") "]}",                  \
        "\"integrationId\",\"provider\",\"status\",\"connectedAt\",\"permissions\"")

#define DISCONNECTED                                                                                           \
    OBJ("\"integrationId\":" STR ",\"status\":{\"enum\":[\"disconnected\",\"disconnecting\"]}"                 \
        ",\"disconnectedAt\":" TIME_N ",\"statusUrl\":" STR                                                     \
        ",\"cleanupStatus\":" OBJ("\"eventsRemoved\":{\"type\":[\"integer\",\"null\"],\"description\":"       \
        "\"calendar copies the cleanup run removed\"},\"webhooksDisabled\":{\"type\":[\"integer\",\"null\"],"   \
        "\"description\":\"null unless the cleanup run counted provider webhooks it closed\"},"                 \
        "\"tokensRevoked\":{\"type\":[\"boolean\",\"null\"],\"description\":\"null until the run ended\"}", "")  \
        ",\"cleanupRun\":" OBJ("\"syncId\":" STR ",\"status\":" STR ",\"errors\":" ARR("{}") ",\"statusUrl\":" STR, \
                               "\"syncId\",\"status\""),                                                       \
        "\"integrationId\",\"status\",\"cleanupStatus\",\"cleanupRun\"")

typedef struct ax_doc {
    const char *method, *pattern, *operation;
} ax_doc;

static const ax_doc docs[] = {
    {"GET", "/integrations",
     OP("list_integrations", "The organization's integrations (Manager or Admin)",
        "\"parameters\":[" QUERY("provider", PROVIDERS, "PROVIDER_NOT_SUPPORTED (400) for another")
        "," QUERY("status", "{\"enum\":[\"connected\",\"disconnected\",\"error\",\"pending\"]}", "")
        "," QUERY("type", "{\"enum\":[\"calendar\",\"communication\",\"video\",\"storage\"]}", "") "],"
        "\"responses\":{" ANSWER("200", "the integrations", ARR(INTEGRATION)) ","
        ERROR("400", "PROVIDER_NOT_SUPPORTED, VALIDATION_ERROR") "," DENIED "}")},
    {"POST", "/integrations/:provider/connect",
     OP("connect_integration",
        "Start the OAuth connection (PKCE, a single-use state valid 10 minutes); Zoom and Microsoft app-only"
        " connect at once (201, the callback's answer)",
        BODY(STRICT("\"scopes\":" ARR("{\"type\":\"string\",\"description\":\"google, microsoft: calendar.read,"
                    " calendar.write, events.manage (microsoft also meetings.manage); slack: messages.send,"
                    " channels.read; zoom: meetings.manage, reports.read\"}")
                    ",\"settings\":{\"$ref\":\"#/components/schemas/AttendanceIntegrationSettings\"}"
                    ",\"redirectUri\":" STR, ""))
        ",\"responses\":{" ANSWER("200", "the authorization URL",
                                  OBJ("\"authUrl\":" STR ",\"state\":" STR ",\"expiresAt\":" TIME
                                      ",\"provider\":" PROVIDERS ",\"scopes\":" ARR(STR) ",\"pkce\":" BOOL,
                                      "\"authUrl\",\"state\",\"expiresAt\",\"provider\",\"scopes\""))
        "," ANSWER("201", "connected without a browser", CONNECTED) ","
        ERROR("400", "PROVIDER_NOT_SUPPORTED") "," ERROR("422", "VALIDATION_ERROR: details lists each path") ","
        ERROR("502", "CONNECTION_ERROR: the provider did not answer") "," DENIED "}")},
    {"POST", "/integrations/:provider/callback",
     OP("complete_integration", "Exchange the provider's code (the state is spent); calendars get a first sync queued",
        BODY(STRICT("\"code\":" STR ",\"state\":" STR ",\"error\":" STR ",\"error_description\":" STR, ""))
        ",\"responses\":{" ANSWER("200", "connected", CONNECTED) ","
        ERROR("400", "OAUTH_ERROR: unknown, spent or expired state, refused code; PROVIDER_NOT_SUPPORTED") ","
        ERROR("422", "VALIDATION_ERROR") "," DENIED "}")},
    {"PUT", "/integrations/:id/settings",
     OP("update_integration_settings",
        "Update the settings: syncDirection, autoSync (arms the next automatic sync in syncInterval seconds),"
        " syncInterval, notifications, and the provider's settings (merged key by key over the stored ones)",
        BODY(STRICT("\"syncDirection\":" DIRECTIONS ",\"autoSync\":" BOOL
                    ",\"syncInterval\":{\"type\":\"integer\",\"minimum\":60,\"maximum\":604800}"
                    ",\"settings\":{\"$ref\":\"#/components/schemas/AttendanceIntegrationSettings\"}"
                    ",\"notifications\":" STRICT("\"syncErrors\":" BOOL ",\"syncSuccess\":" BOOL
                                                 ",\"weeklyReport\":" BOOL, ""), ""))
        ",\"responses\":{" ANSWER("200", "the integration", INTEGRATION) ","
        ERROR("404", "INTEGRATION_NOT_FOUND") ","
        ERROR("422", "VALIDATION_ERROR: details has one entry per problem, by path"
                     " (settings.eventMapping.colour: unknown field; a Slack template placeholder its event"
                     " cannot fill)") "," DENIED "}")},
    {"DELETE", "/integrations/:id",
     OP("disconnect_integration",
        "Disconnect: a cleanup run removes the calendar copies (busline sync), then the tokens are revoked"
        " and the integration stays listed as disconnected. Waits for the run as long as the server waits for"
        " a command (command_wait_ms); past that, 202 with the run's statusUrl, and the revocation happens when"
        " the run's end is next read there (or on a repeated DELETE)",
        "\"responses\":{" ANSWER("200", "disconnected, with what the cleanup removed", DISCONNECTED) ","
        ANSWER("202", "the cleanup run has not ended yet", DISCONNECTED) ","
        ERROR("404", "INTEGRATION_NOT_FOUND") "," ERROR("409", "SYNC_FAILED: a sync is running") "," DENIED "}")},
    {"GET", "/integrations/:id/history",
     OP("integration_history", "The sync runs, newest first",
        "\"parameters\":[" QUERY("limit", "{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":50}", "")
        "," QUERY("page", "{\"type\":\"integer\",\"minimum\":1,\"default\":1}", "")
        "," QUERY("status", "{\"enum\":[\"success\",\"error\",\"partial\"]}", "")
        "," QUERY("startDate", "{\"type\":\"string\"}", "runs started at or after (date or RFC 3339)")
        "," QUERY("endDate", "{\"type\":\"string\"}", "runs started at or before") "],"
        "\"responses\":{\"200\":{\"description\":\"the runs\",\"content\":{\"application/json\":{\"schema\":"
        OBJ("\"success\":{\"const\":true},\"data\":" ARR(RUN) ",\"meta\":"
            OBJ("\"page\":" INT ",\"limit\":" INT ",\"total\":" INT ",\"totalPages\":" INT,
                "\"page\",\"limit\",\"total\",\"totalPages\""), "\"success\",\"data\",\"meta\"") "}}},"
        ERROR("400", "VALIDATION_ERROR") "," ERROR("404", "INTEGRATION_NOT_FOUND") "," DENIED "}")},
    {"POST", "/integrations/:id/sync",
     OP("sync_integration", "Queue a manual sync for the worker (busline sync); one run at a time per integration",
        BODY(STRICT("\"direction\":" DIRECTIONS ",\"scope\":{\"enum\":[\"all\",\"events\",\"upcoming\"]}"
                    ",\"options\":" STRICT("\"forceUpdate\":" BOOL ",\"dryRun\":" BOOL ",\"dateRange\":"
                                           STRICT("\"start\":" TIME ",\"end\":" TIME, "\"start\",\"end\""), ""),
                    ""))
        ",\"responses\":{" ANSWER("202", "queued",
                                  OBJ("\"syncId\":" STR ",\"status\":{\"const\":\"started\"},\"startedAt\":" TIME
                                      ",\"estimatedDuration\":{\"type\":[\"string\",\"null\"],\"description\":"
                                      "\"the range of the last ten runs; null before the first\"}"
                                      ",\"statusUrl\":" STR ",\"dryRun\":" BOOL,
                                      "\"syncId\",\"status\",\"startedAt\",\"statusUrl\""))
        "," ERROR("400", "PROVIDER_NOT_SUPPORTED: not a calendar") "," ERROR("404", "INTEGRATION_NOT_FOUND") ","
        ERROR("409", "CONFLICT: a run is queued or running (details.statusUrl); SYNC_FAILED: not connected") ","
        ERROR("422", "VALIDATION_ERROR") "," DENIED "}")},
    {"GET", "/integrations/:id/sync/:syncId/status",
     OP("sync_status", "One run as the history shows it, with completed (true once it ended)",
        "\"responses\":{" ANSWER("200", "the run", RUN) "," ERROR("404", "INTEGRATION_NOT_FOUND") "," DENIED "}")},
    {"POST", "/integrations/:id/test",
     OP("test_integration",
        "Call the provider's who-am-I now (and post a test message to a Slack settings.webhookUrl, through the"
        " webhook SSRF guard); a failed check is connectionStatus unhealthy with lastError WEBHOOK_FAILED,"
        " CONNECTION_ERROR, ...",
        "\"responses\":{" ANSWER("200", "the check",
                                 OBJ("\"connectionStatus\":{\"enum\":[\"healthy\",\"unhealthy\"]}"
                                     ",\"responseTime\":" STR_N ",\"permissions\":{\"type\":\"object\","
                                     "\"additionalProperties\":" BOOL "},\"apiLimits\":{\"type\":[\"object\","
                                     "\"null\"],\"description\":\"from the provider's rate headers; resetAt null"
                                     " as no provider tells it\"},\"lastError\":{\"type\":[\"object\",\"null\"],"
                                     "\"description\":\"{code: CONNECTION_ERROR, INVALID_CREDENTIALS,"
                                     " PERMISSION_DENIED, RATE_LIMIT_EXCEEDED, API_QUOTA_EXCEEDED, ..., message}\"}"
                                     ",\"recommendations\":" ARR(STR),
                                     "\"connectionStatus\",\"permissions\",\"apiLimits\",\"lastError\","
                                     "\"recommendations\""))
        "," ERROR("404", "INTEGRATION_NOT_FOUND") "," DENIED "}")},
    {"GET", "/integrations/analytics/metrics",
     OP("integration_metrics",
        "Usage of the integrations (Admin) from the sync runs and provider calls of the period;"
        " dataTransferred and messagesSent are not measured by busline, so not shown",
        "\"parameters\":[" QUERY("period", "{\"enum\":[\"day\",\"week\",\"month\",\"quarter\"],\"default\":\"month\"}",
                                 "") "," QUERY("providers", "{\"type\":\"string\"}", "comma-separated") "],"
        "\"responses\":{" ANSWER("200", "the figures",
                                 OBJ("\"period\":" STR ",\"overview\":" OBJ("\"totalIntegrations\":" INT
                                     ",\"activeIntegrations\":" INT ",\"totalSyncs\":" INT ",\"successRate\":" NUM_N
                                     ",\"averageResponseTime\":" STR_N ",\"totalCalls\":" INT, "")
                                     ",\"byProvider\":{\"type\":\"object\"},\"trends\":" OBJ("\"syncVolume\":"
                                     ARR(OBJ("\"date\":" STR ",\"syncs\":" INT ",\"errors\":" INT, ""))
                                     ",\"responseTime\":" ARR(OBJ("\"date\":" STR ",\"averageTime\":" STR_N, "")), "")
                                     ",\"errors\":" OBJ("\"totalErrors\":" INT ",\"errorRate\":" NUM_N
                                     ",\"commonErrors\":" ARR(OBJ("\"error\":" STR ",\"count\":" INT
                                     ",\"percentage\":{\"type\":\"number\"}", "")), ""),
                                     "\"overview\",\"byProvider\",\"trends\",\"errors\""))
        "," ERROR("400", "PROVIDER_NOT_SUPPORTED, VALIDATION_ERROR") ","
        ERROR("403", "PERMISSION_DENIED: Admin only") "," ERROR("401", "INVALID_CREDENTIALS") "}")},
};

/* The settings of every provider: one of their schemas (each closed). */
static json_t *settings_schema(void)
{
    static const char *const providers[] = {"google_calendar", "microsoft_365", "slack", "zoom"};
    json_t *any = json_array();
    for (size_t i = 0; any && i < sizeof providers / sizeof providers[0]; i++) {
        json_t *s = bl_integration_settings_json_schema(providers[i]);
        if (s) {
            json_object_set_new(s, "title", json_string(bl_ax_provider_find(providers[i], true)->name));
            json_array_append_new(any, s);
        }
    }
    return any ? json_pack("{s:s, s:o}", "description",
                           "the provider's settings (the one of the path's or the integration's provider applies;"
                           " unknown keys are refused)", "anyOf", any)
               : NULL;
}

/* Replaces {"$ref": ".../AttendanceIntegrationSettings"} by the schema
 * itself: the surface's document has no shared components to point to. */
static void inline_settings(json_t *v, const json_t *schema)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach (v, key, child) {
            const char *ref = json_string_value(json_object_get(child, "$ref"));
            if (ref && strstr(ref, "AttendanceIntegrationSettings"))
                json_object_set(v, key, (json_t *)schema);
            else
                inline_settings(child, schema);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach (v, i, child)
            inline_settings(child, schema);
    }
}

int bl_ax_integrations_document(bl_api_server *s, bl_err *err)
{
    json_t *schema = settings_schema();
    if (!schema)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t jerr;
        json_t *op = json_loads(docs[i].operation, 0, &jerr);
        if (!op) {
            json_decref(schema);
            return bl_err_set(err, BL_EINVAL, "api: OpenAPI of %s %s: %s (at %d)", docs[i].method, docs[i].pattern,
                              jerr.text, jerr.position);
        }
        inline_settings(op, schema);
        if (bl_api_server_surface_document(s, BL_API_SURFACE_ATTENDANCE, docs[i].method, docs[i].pattern, op, err) !=
            0) {
            json_decref(schema);
            return -1;
        }
    }
    json_decref(schema);
    return 0;
}
