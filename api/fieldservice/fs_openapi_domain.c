/* The OpenAPI operations of the field-service surface's clients,
 * interventions routes (served at <prefix>/openapi.json): their query
 * parameters, bodies and answers in the document's field names. */
#include "api/fieldservice/fs_api.h"

#include <string.h>

static json_t *str_schema(const char *description)
{
    return json_pack("{s:[s,s], s:s}", "type", "string", "null", "description", description);
}

static json_t *nullable(const char *type)
{
    return json_pack("{s:[s,s]}", "type", type, "null");
}

/* The schemas the operations refer to, as components. */
static json_t *schemas(void)
{
    json_t *client = json_pack(
        "{s:s, s:[s,s,s,s,s,s,s], s:{s:{s:s}, s:{s:s}, s:o, s:o, s:{s:s, s:s}, s:{s:s, s:[s,s,s]}, s:{s:s, s:s}}}",
        "type", "object", "required", "id", "nom", "email", "telephone", "adresse", "statut", "date_creation",
        "properties", "id", "type", "string", "nom", "type", "string", "email", nullable("string"), "telephone",
        nullable("string"), "adresse", "type", "string", "description",
        "\"<street>, <postal code> <city>[, <country>]\", or any text (the street)", "statut", "type", "string",
        "enum", "actif", "inactif", "prospect", "date_creation", "type", "string", "format", "date-time");
    json_t *client_input = json_pack(
        "{s:s, s:[s,s], s:{s:{s:s, s:i}, s:o, s:o, s:{s:s, s:i}, s:{s:s, s:[s,s,s]}}}", "type", "object",
        "required", "nom", "adresse", "properties", "nom", "type", "string", "minLength", 1, "email",
        str_schema("an e-mail address"), "telephone", str_schema("a phone number"), "adresse", "type", "string",
        "minLength", 1, "statut", "type", "string", "enum", "actif", "inactif", "prospect");
    json_t *statuses = json_pack("[s,s,s,s,s,s]", "planifie", "en_route", "en_cours", "en_attente", "termine",
                                 "annule");
    json_t *intervention = json_pack(
        "{s:s, s:[s,s,s,s,s,s,s,s], s:{s:{s:s}, s:{s:s}, s:o, s:o, s:{s:s, s:O}, s:{s:s}, s:o, s:o}}", "type",
        "object", "required", "id", "client_id", "date_intervention", "type_intervention", "statut", "lieu",
        "description", "technicien_assigné", "properties", "id", "type", "string", "client_id", "type", "string",
        "date_intervention", json_pack("{s:[s,s], s:s}", "type", "string", "null", "format", "date-time"),
        "type_intervention", nullable("string"), "statut", "type", "string", "enum", statuses, "lieu", "type",
        "string", "description", nullable("string"), "technicien_assigné", nullable("string"));
    json_t *intervention_input = json_pack(
        "{s:s, s:[s], s:{s:{s:s}, s:o, s:o, s:{s:s, s:[s]}, s:o, s:o, s:o}}", "type", "object", "required",
        "client_id", "properties", "client_id", "type", "string", "date_intervention",
        str_schema("a date (YYYY-MM-DD) or an RFC 3339 datetime"), "type_intervention",
        str_schema("e.g. inspection"), "statut", "type", "string", "enum", "planifie", "lieu",
        str_schema("the site's address; the client's when not given"), "description", str_schema("details"),
        "technicien_assigné", str_schema("the technician's id"));
    json_t *status_change = json_pack("{s:s, s:[s], s:{s:{s:s, s:O}, s:o}}", "type", "object", "required",
                                      "nouveau_statut", "properties", "nouveau_statut", "type", "string", "enum",
                                      statuses, "commentaire", str_schema("why"));
    json_decref(statuses);
    json_t *page = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "total", "type", "integer", "page", "type",
                             "integer", "size", "type", "integer", "pages", "type", "integer");
    json_t *client_list = json_pack("{s:s, s:[s,s,s,s,s], s:O}", "type", "object", "required", "clients",
                                    "total", "page", "size", "pages", "properties", page);
    json_t *intervention_list = json_pack("{s:s, s:[s,s,s,s,s], s:O}", "type", "object", "required",
                                          "interventions", "total", "page", "size", "pages", "properties", page);
    json_decref(page);
    json_object_set_new(json_object_get(client_list, "properties"), "clients",
                        json_pack("{s:s, s:{s:s}}", "type", "array", "items", "$ref",
                                  "#/components/schemas/FieldServiceClient"));
    json_object_set_new(json_object_get(intervention_list, "properties"), "interventions",
                        json_pack("{s:s, s:{s:s}}", "type", "array", "items", "$ref",
                                  "#/components/schemas/FieldServiceIntervention"));
    json_t *pending = json_pack("{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}}", "type", "object",
                                "properties", "detail", "type", "string", "id", "type", "string", "command_id",
                                "type", "string", "status_url", "type", "string", "status", "type", "string");
    json_t *command_status = json_pack(
        "{s:s, s:[s,s], s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:[s,s,s,s]}, s:o, s:o, s:o, s:o, s:o}}", "type",
        "object", "required", "command_id", "status", "properties", "command_id", "type", "string", "type", "type",
        "string", "aggregate_id", "type", "string", "status", "type", "string", "enum", "sending", "accepted",
        "processed", "refused", "accepted_at", nullable("string"), "processed_at", nullable("string"), "events",
        nullable("integer"), "error_class", nullable("string"), "reason", nullable("string"));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "FieldServiceCommandStatus", command_status,
                     "FieldServiceClient", client,
                     "FieldServiceClientInput", client_input, "FieldServiceClientList", client_list,
                     "FieldServiceIntervention", intervention, "FieldServiceInterventionInput", intervention_input,
                     "FieldServiceInterventionList", intervention_list, "FieldServiceStatusChange", status_change,
                     "FieldServiceCommandPending", pending);
}

static json_t *ref(const char *name)
{
    char r[128];
    snprintf(r, sizeof r, "#/components/schemas/%s", name);
    return json_pack("{s:{s:{s:s}}}", "application/json", "schema", "$ref", r);
}

/* One documented route. */
typedef struct doc_row {
    const char *method, *pattern, *summary, *tag;
    const char *body;     /* schema name of the request body, or NULL */
    const char *status;   /* the success status */
    const char *answer;   /* schema name of its body, or NULL (no content) */
    const char *query;    /* space-separated query parameters, or NULL */
} doc_row;

static const doc_row rows[] = {
    {"GET", "/clients/", "List clients", "clients", NULL, "200", "FieldServiceClientList",
     "page size search statut"},
    {"POST", "/clients/", "Create a client (201 once the field-service domain applied it)", "clients",
     "FieldServiceClientInput", "201", "FieldServiceClient", NULL},
    {"GET", "/clients/:id", "Get a client", "clients", NULL, "200", "FieldServiceClient", NULL},
    {"PUT", "/clients/:id", "Update a client (absent or null fields keep their value)", "clients",
     "FieldServiceClientInput", "200", "FieldServiceClient", NULL},
    {"DELETE", "/clients/:id", "Delete a client", "clients", NULL, "204", NULL, NULL},
    {"GET", "/interventions/", "List interventions", "interventions", NULL, "200", "FieldServiceInterventionList",
     "page size search client_id statut type_intervention date_debut date_fin"},
    {"POST", "/interventions/", "Create an intervention (planifie)", "interventions",
     "FieldServiceInterventionInput", "201", "FieldServiceIntervention", NULL},
    {"GET", "/interventions/:id", "Get an intervention", "interventions", NULL, "200", "FieldServiceIntervention",
     NULL},
    {"PUT", "/interventions/:id", "Update an intervention (not its client nor its status)", "interventions",
     "FieldServiceInterventionInput", "200", "FieldServiceIntervention", NULL},
    {"DELETE", "/interventions/:id", "Delete an intervention", "interventions", NULL, "204", NULL, NULL},
    {"POST", "/interventions/:id/change-status",
     "Change an intervention's status through the status machine (an illegal move: 422 with the reason)",
     "interventions", "FieldServiceStatusChange", "200", "FieldServiceIntervention", NULL},
    {"GET", "/commands/:id",
     "A command's status: sending, accepted, processed (with its events) or refused (with error_class and reason)",
     "commands", NULL, "200", "FieldServiceCommandStatus", NULL},
};

static json_t *query_parameters(const char *names)
{
    json_t *params = json_array();
    char name[48];
    for (const char *p = names; p && *p;) {
        size_t n = strcspn(p, " ");
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        const char *type = strcmp(name, "page") == 0 || strcmp(name, "size") == 0 ? "integer" : "string";
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in", "query",
                                                "required", 0, "schema", "type", type));
        p += n + (p[n] == ' ');
    }
    return params;
}

static json_t *operation(const doc_row *r, bool first)
{
    char op_id[96];
    size_t o = (size_t)snprintf(op_id, sizeof op_id, "fs_%s", r->method);
    for (const char *p = r->pattern; *p && o + 1 < sizeof op_id; p++)
        op_id[o++] = (*p == '/' || *p == ':' || *p == '-') ? '_' : *p;
    op_id[o] = '\0';
    for (char *c = op_id; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    json_t *responses = json_object();
    json_t *ok = json_pack("{s:s}", "description", "Success");
    if (r->answer)
        json_object_set_new(ok, "content", ref(r->answer));
    json_object_set_new(responses, r->status, ok);
    if (strcmp(r->method, "GET") != 0)
        json_object_set_new(responses, "202",
                            json_pack("{s:s, s:o}", "description",
                                      "Accepted: the domain has not answered within command_wait_ms; "
                                      "Location is the status URL",
                                      "content", ref("FieldServiceCommandPending")));
    json_t *op = json_pack("{s:s, s:s, s:[s], s:o}", "operationId", op_id, "summary", r->summary, "tags", r->tag,
                           "responses", responses);
    if (r->body)
        json_object_set_new(op, "requestBody", json_pack("{s:b, s:o}", "required", 1, "content", ref(r->body)));
    if (r->query)
        json_object_set_new(op, "parameters", query_parameters(r->query));
    if (first)
        json_object_set_new(op, "x-busline-components", schemas());
    return op;
}

int bl_fsapi_document(bl_api_server *s, const char *tag, bl_err *err)
{
    bool first = true;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].tag, tag) != 0)
            continue;
        json_t *op = operation(&rows[i], first);
        first = false;
        if (!op)
            return bl_err_set(err, BL_ENOMEM, "api: out of memory");
        if (bl_api_server_surface_document(s, BL_API_SURFACE_FIELD_SERVICE, rows[i].method, rows[i].pattern, op,
                                           err) != 0)
            return -1;
    }
    return 0;
}
