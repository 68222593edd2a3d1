/* The SmartLeakPro interventions (field-service surface): GET
 * /interventions/ (page, size, search, client_id, statut,
 * type_intervention, date_debut, date_fin), POST /interventions/, GET, PUT
 * and DELETE /interventions/:id, POST /interventions/:id/change-status.
 * Reads come from the field-service domain's table; changes are its
 * commands, answered once the domain applied them (fs_api.h); an illegal
 * status move is the domain's refusal, answered 422 VALIDATION_ERROR with
 * its reason under field_errors.nouveau_statut.
 * Fields: id = intervention_id (a UUID the API makes), date_intervention =
 * scheduled_at, type_intervention = intervention_type (also the domain's
 * title at creation, "intervention" without one), statut = the status
 * (planifie, en_cours, termine, annule as the document; en_route and
 * en_attente for the domain's EN_ROUTE and ON_HOLD), lieu = the site
 * address as one string (fs_api.h; the client's address when not given),
 * technicien_assigné = technician_id. An intervention is created planifie;
 * PUT changes neither its client nor its status (change-status does). */
#include "api/fieldservice/fs_api.h"
#include "api/fieldservice/fs_common.h"
#include "api/routes/routes.h"
#include "api/surface_fields.h"
#include "producers/fieldservice/status_machine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUT_SQL                                                                                 \
    "CASE status WHEN 'SCHEDULED' THEN 'planifie' WHEN 'EN_ROUTE' THEN 'en_route'"                 \
    " WHEN 'IN_PROGRESS' THEN 'en_cours' WHEN 'ON_HOLD' THEN 'en_attente'"                         \
    " WHEN 'COMPLETED' THEN 'termine' WHEN 'CANCELLED' THEN 'annule' END"

#define INTERVENTION_JSON                                                                          \
    "json_build_object('id', intervention_id, 'client_id', client_id, 'date_intervention', "      \
    BL_FSAPI_DATETIME_SQL("scheduled_at") ", 'type_intervention', intervention_type, 'statut', "  \
    STATUT_SQL ", 'lieu', " BL_FSAPI_ADDRESS_SQL ", 'description', description,"                  \
    " 'technicien_assigné', technician_id)"

#define ID_MAX_LEN 200
#define TYPE_MAX_LEN 100
#define DESCRIPTION_MAX_LEN 4000
#define COMMENT_MAX_LEN 1000
#define STATUSES_TEXT "planifie, en_route, en_cours, en_attente, termine, annule"

/* The domain's status symbol of a status of this surface, or NULL. */
static const char *status_symbol(const char *statut)
{
    static const struct {
        const char *french, *symbol;
    } extra[] = {{"en_route", "EN_ROUTE"}, {"en_attente", "ON_HOLD"}};
    bl_intervention_status s;
    if (bl_intervention_status_from_french(statut, &s) == 0)
        return bl_intervention_status_name(s);
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (strcmp(extra[i].french, statut) == 0)
            return extra[i].symbol;
    return NULL;
}

static json_t *read_intervention(bl_api_server *s, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return bl_api_query_json(s,
                               "SELECT " INTERVENTION_JSON "::text FROM fieldservice_interventions"
                               " WHERE organization_id = $1 AND intervention_id = $2 AND deleted_at IS NULL",
                               2, p, err);
}

/* The address record of a live client, or NULL with err (BL_ENOTFOUND). */
static json_t *client_address(bl_api_server *s, const char *org, const char *client, bl_err *err)
{
    const char *p[] = {org, client};
    return bl_api_query_json(s,
                               "SELECT json_build_object('street', street, 'postal_code', postal_code,"
                               " 'city', city, 'country', country)::text FROM fieldservice_clients"
                               " WHERE organization_id = $1 AND client_id = $2 AND deleted_at IS NULL",
                               2, p, err);
}

static int answer_intervention(const bl_api_request *req, bl_http_response *resp, const char *id, int status)
{
    bl_err err = {0};
    json_t *it = read_intervention(req->server, req->auth->org_id, id, &err);
    if (!it)
        return err.code == BL_ENOTFOUND
                   ? bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such intervention", NULL)
                   : -1;
    if (status == 201) {
        char location[160];
        snprintf(location, sizeof location, "%s/interventions/%s",
                 bl_api_server_surface_prefix(req->server, BL_API_SURFACE_FIELD_SERVICE), id);
        bl_http_response_header(resp, "Location", location);
    }
    int rc = bl_http_response_json(resp, status, it);
    json_decref(it);
    return rc;
}

/* The intervention as shown (new reference), or NULL after answering 404
 * (*rc 0) or failing (*rc -1). */
static json_t *existing(const bl_api_request *req, bl_http_response *resp, const char *id, int *rc)
{
    bl_err err = {0};
    json_t *it = read_intervention(req->server, req->auth->org_id, id, &err);
    if (!it)
        *rc = err.code == BL_ENOTFOUND
                  ? bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such intervention", NULL)
                  : -1;
    return it;
}

static bool body_is_object(const bl_api_request *req, bl_http_response *resp, int *rc)
{
    if (req->body && json_is_object(req->body))
        return true;
    json_t *errors = NULL;
    bl_fsapi_field_error(&errors, "body", "expected a JSON object");
    *rc = bl_fs_invalid(req, resp, errors);
    return false;
}

/* The fields a create and an update share, into data (domain names). */
static void common_fields(const json_t *body, json_t *data, json_t **errors)
{
    const char *when, *kind, *place, *description, *tech;
    if (bl_fsapi_string(body, "date_intervention", true, 40, &when, errors) > 0) {
        int64_t ms;
        if (bl_fsapi_parse_when(when, false, &ms) != 0)
            bl_fsapi_field_error(errors, "date_intervention",
                                 "must be a date (YYYY-MM-DD) or an RFC 3339 datetime");
        else
            json_object_set_new(data, "scheduled_at", json_integer((json_int_t)ms));
    }
    if (bl_fsapi_string(body, "type_intervention", true, TYPE_MAX_LEN, &kind, errors) > 0)
        json_object_set_new(data, "intervention_type", json_string(kind));
    if (bl_fsapi_string(body, "lieu", true, BL_FSAPI_TEXT_MAX, &place, errors) > 0) {
        bl_fsapi_address a;
        bl_fsapi_address_parse(place, &a);
        json_object_set_new(data, "site_address", bl_fsapi_address_json(&a));
    }
    if (bl_fsapi_string(body, "description", false, DESCRIPTION_MAX_LEN, &description, errors) > 0)
        json_object_set_new(data, "description", json_string(description));
    if (bl_fsapi_string(body, "technicien_assigné", true, ID_MAX_LEN, &tech, errors) > 0)
        json_object_set_new(data, "technician_id", json_string(tech));
}

/* Checks a statut given where only its current value (NULL: planifie, for a
 * create) is accepted. */
static void statut_kept(const json_t *body, const char *current, json_t **errors)
{
    const char *statut;
    if (bl_fsapi_string(body, "statut", true, 32, &statut, errors) <= 0)
        return;
    if (!status_symbol(statut))
        bl_fsapi_field_error(errors, "statut", "must be one of " STATUSES_TEXT);
    else if (strcmp(statut, current ? current : "planifie") != 0)
        bl_fsapi_field_error(errors, "statut",
                             current ? "is changed with POST /interventions/{id}/change-status"
                                     : "an intervention is created planifie; change it with POST "
                                       "/interventions/{id}/change-status");
}

static int create_intervention(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    int rc = 0;
    if (!body_is_object(req, resp, &rc))
        return rc;
    char id[BL_UUID_SIZE];
    bl_err err = {0};
    json_t *errors = NULL, *data = json_object(), *address = NULL;
    if (!data || bl_uuid_random(id, &err) != 0) {
        json_decref(data);
        return -1;
    }
    json_object_set_new(data, "intervention_id", json_string(id));
    const char *client;
    int has_client = bl_fsapi_string(req->body, "client_id", true, ID_MAX_LEN, &client, &errors);
    if (has_client == 0)
        bl_fsapi_field_error(&errors, "client_id", "required");
    if (has_client > 0) {
        address = client_address(req->server, req->auth->org_id, client, &err);
        if (!address && err.code != BL_ENOTFOUND) {
            json_decref(data);
            json_decref(errors);
            return -1;
        }
        if (!address)
            bl_fsapi_field_error(&errors, "client_id", "no such client");
        json_object_set_new(data, "client_id", json_string(client));
    }
    common_fields(req->body, data, &errors);
    statut_kept(req->body, NULL, &errors);
    if (errors) {
        json_decref(address);
        json_decref(data);
        return bl_fs_invalid(req, resp, errors);
    }
    if (!json_object_get(data, "site_address"))
        json_object_set(data, "site_address", address);
    json_decref(address);
    const json_t *kind = json_object_get(data, "intervention_type");
    json_object_set_new(data, "title", json_string(kind ? json_string_value(kind) : "intervention"));
    char applied[BL_FSAPI_ID_MAX];
    bl_api_wait_result got =
        bl_fsapi_send(ctx, req, resp, "intervention.create", id, data, "client_id", applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_intervention(req, resp, applied, 201);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

static int get_intervention(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return answer_intervention(req, resp, bl_http_request_param(req->http, "id"), 200);
}

static int update_intervention(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = 0;
    json_t *current = existing(req, resp, id, &rc); /* an unknown id is 404 whatever the body */
    if (!current)
        return rc;
    if (!body_is_object(req, resp, &rc)) {
        json_decref(current);
        return rc;
    }
    json_t *errors = NULL, *data = json_pack("{s:s}", "intervention_id", id);
    const char *client;
    if (bl_fsapi_string(req->body, "client_id", true, ID_MAX_LEN, &client, &errors) > 0 &&
        strcmp(client, json_string_value(json_object_get(current, "client_id"))) != 0)
        bl_fsapi_field_error(&errors, "client_id", "cannot be changed");
    common_fields(req->body, data, &errors);
    statut_kept(req->body, json_string_value(json_object_get(current, "statut")), &errors);
    json_decref(current);
    if (errors || !data) {
        json_decref(data);
        return errors ? bl_fs_invalid(req, resp, errors) : -1;
    }
    char applied[BL_FSAPI_ID_MAX]; /* the path id: not a create */
    bl_api_wait_result got = json_object_size(data) > 1
                              ? bl_fsapi_send(ctx, req, resp, "intervention.update", id, data, NULL, applied)
                              : BL_API_WAIT_APPLIED; /* nothing to change */
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_intervention(req, resp, id, 200);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

static int delete_intervention(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = 0;
    json_t *current = existing(req, resp, id, &rc);
    if (!current)
        return rc;
    json_decref(current);
    json_t *data = json_pack("{s:s}", "intervention_id", id);
    if (!data)
        return -1;
    char applied[BL_FSAPI_ID_MAX]; /* the path id: not a create */
    bl_api_wait_result got = bl_fsapi_send(ctx, req, resp, "intervention.delete", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        bl_http_response_status(resp, 204);
    return got == BL_API_WAIT_FAILED ? -1 : 0;
}

static int change_status(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = 0;
    json_t *current = existing(req, resp, id, &rc); /* an unknown id is 404 whatever the body */
    if (!current)
        return rc;
    json_decref(current);
    if (!body_is_object(req, resp, &rc))
        return rc;
    json_t *errors = NULL;
    const char *statut, *comment, *symbol = NULL;
    int has_statut = bl_fsapi_string(req->body, "nouveau_statut", true, 32, &statut, &errors);
    if (has_statut == 0)
        bl_fsapi_field_error(&errors, "nouveau_statut", "required");
    else if (has_statut > 0 && !(symbol = status_symbol(statut)))
        bl_fsapi_field_error(&errors, "nouveau_statut", "must be one of " STATUSES_TEXT);
    bl_fsapi_string(req->body, "commentaire", false, COMMENT_MAX_LEN, &comment, &errors);
    if (errors)
        return bl_fs_invalid(req, resp, errors);
    json_t *data = json_pack("{s:s, s:s, s:s?}", "intervention_id", id, "status", symbol, "note", comment);
    if (!data)
        return -1;
    char applied[BL_FSAPI_ID_MAX]; /* the path id: not a create */
    bl_api_wait_result got =
        bl_fsapi_send(ctx, req, resp, "intervention.change_status", id, data, "nouveau_statut", applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_intervention(req, resp, id, 200);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

/* The list filters of the query into params ($2..$7), adding field errors. */
typedef struct list_filters {
    const char *client, *status, *kind;
    char from[24], to[24], pattern[2 * BL_FSAPI_TEXT_MAX + 3];
    bool has_from, has_to, has_pattern;
} list_filters;

static void read_filters(const bl_http_request *http, list_filters *f, json_t **errors)
{
    memset(f, 0, sizeof *f);
    f->client = bl_http_request_query(http, "client_id");
    f->kind = bl_http_request_query(http, "type_intervention");
    const char *statut = bl_http_request_query(http, "statut");
    if (statut && !(f->status = status_symbol(statut)))
        bl_fsapi_field_error(errors, "statut", "must be one of " STATUSES_TEXT);
    const char *names[2] = {"date_debut", "date_fin"};
    int64_t ms[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        const char *v = bl_http_request_query(http, names[i]);
        if (!v)
            continue;
        if (bl_fsapi_parse_when(v, i == 1, &ms[i]) != 0) {
            bl_fsapi_field_error(errors, names[i], "must be a date (YYYY-MM-DD) or an RFC 3339 datetime");
            continue;
        }
        snprintf(i == 0 ? f->from : f->to, sizeof f->from, "%" PRId64, ms[i]);
        *(i == 0 ? &f->has_from : &f->has_to) = true;
    }
    if (f->has_from && f->has_to && ms[1] < ms[0])
        bl_fsapi_field_error(errors, "date_fin", "must not be before date_debut");
    const char *search = bl_http_request_query(http, "search");
    if (search && *search) {
        if (bl_api_like_pattern(search, f->pattern, sizeof f->pattern) != 0)
            bl_fsapi_field_error(errors, "search", "too long");
        else
            f->has_pattern = true;
    }
}

static int list_interventions(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = NULL;
    long page, size;
    list_filters f;
    bl_fsapi_page(req->http, &page, &size, &errors);
    read_filters(req->http, &f, &errors);
    if (errors)
        return bl_fs_invalid(req, resp, errors);
    char size_text[24], offset_text[24], page_text[24];
    snprintf(size_text, sizeof size_text, "%ld", size);
    snprintf(offset_text, sizeof offset_text, "%ld", (page - 1) * size);
    snprintf(page_text, sizeof page_text, "%ld", page);
    const char *p[] = {req->auth->org_id, f.client, f.status, f.kind, f.has_from ? f.from : NULL,
                       f.has_to ? f.to : NULL, f.has_pattern ? f.pattern : NULL, size_text, offset_text,
                       page_text};
    bl_err err = {0};
    json_t *list = bl_api_query_json(req->server,
        "WITH f AS (SELECT * FROM fieldservice_interventions WHERE organization_id = $1"
        " AND deleted_at IS NULL AND ($2::text IS NULL OR client_id = $2)"
        " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR intervention_type = $4)"
        " AND ($5::bigint IS NULL OR scheduled_at >= to_timestamp($5::bigint / 1000.0))"
        " AND ($6::bigint IS NULL OR scheduled_at <= to_timestamp($6::bigint / 1000.0))"
        " AND ($7::text IS NULL OR title ILIKE $7 OR description ILIKE $7 OR intervention_type ILIKE $7"
        " OR street ILIKE $7 OR city ILIKE $7 OR technician_id ILIKE $7)),"
        " p AS (SELECT * FROM f ORDER BY scheduled_at DESC NULLS LAST, created_at DESC, intervention_id"
        " LIMIT $8::bigint OFFSET $9::bigint)"
        " SELECT json_build_object('interventions', COALESCE((SELECT json_agg(" INTERVENTION_JSON
        " ORDER BY scheduled_at DESC NULLS LAST, created_at DESC, intervention_id) FROM p), '[]'::json),"
        " 'total', (SELECT count(*) FROM f), 'page', $10::bigint, 'size', $8::bigint,"
        " 'pages', (SELECT (count(*) + $8::bigint - 1) / $8::bigint FROM f))::text",
        10, p, &err);
    if (!list)
        return -1;
    int rc = bl_http_response_json(resp, 200, list);
    json_decref(list);
    return rc;
}

static const bl_api_route routes[] = {
    {"GET", "/interventions/", BL_API_BY_METHOD, list_interventions},
    {"POST", "/interventions/", BL_API_BY_METHOD, create_intervention},
    {"GET", "/interventions/:id", BL_API_BY_METHOD, get_intervention},
    {"PUT", "/interventions/:id", BL_API_BY_METHOD, update_intervention},
    {"DELETE", "/interventions/:id", BL_API_BY_METHOD, delete_intervention},
    {"POST", "/interventions/:id/change-status", BL_API_BY_METHOD, change_status},
};

int bl_api_routes_fs_interventions(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                     commands, err) != 0)
        return -1;
    return bl_fsapi_document(s, "interventions", err);
}
