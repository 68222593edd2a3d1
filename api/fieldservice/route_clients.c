/* The SmartLeakPro clients (field-service surface): GET /clients/ (page,
 * size, search, statut), POST /clients/, GET, PUT and DELETE /clients/:id.
 * Reads come from the field-service domain's table; changes are commands
 * to it (client.create, client.update, client.delete), answered with the
 * client once the domain applied them (api/fieldservice/fs_api.h: 202 with
 * a status URL when it has not answered within the bound).
 * Fields: id = client_id (a UUID the API makes), nom = name, telephone =
 * phone, adresse = the address record as one string (fs_api.h), statut,
 * date_creation = created_at. A null or absent field of a PUT keeps the
 * value. DELETE is the domain's soft delete. */
#include "api/fieldservice/fs_api.h"
#include "api/fieldservice/fs_common.h"
#include "api/routes/routes.h"
#include "api/surface_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_JSON                                                                                \
    "json_build_object('id', client_id, 'nom', name, 'email', email, 'telephone', phone,"         \
    " 'adresse', " BL_FSAPI_ADDRESS_SQL ", 'statut', statut, 'date_creation', "                   \
    BL_FSAPI_DATETIME_SQL("created_at") ")"

#define NAME_MAX_LEN 200
#define EMAIL_MAX_LEN 254
#define PHONE_MAX_LEN 32

static const char *const statuses[] = {"actif", "inactif", "prospect", NULL};

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* One '@' with text before it and a dot inside the text after it, no space. */
static bool email_like(const char *v)
{
    const char *at = strchr(v, '@');
    if (!at || at == v || strchr(at + 1, '@') || strpbrk(v, " \t\r\n"))
        return false;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1];
}

/* Digits with spaces, '+', '-', '.', '(' or ')', six digits at least. */
static bool phone_like(const char *v)
{
    int digits = 0;
    for (const char *c = v; *c; c++) {
        if (*c >= '0' && *c <= '9')
            digits++;
        else if (!strchr(" +-.()", *c))
            return false;
    }
    return digits >= 6;
}

/* Reads the body's client fields into data (domain names), adding a field
 * error for each bad one. creating: nom and adresse are required. */
static void client_fields(const json_t *body, bool creating, json_t *data, json_t **errors)
{
    const char *nom, *email, *phone, *address, *statut;
    int has_nom = bl_fsapi_string(body, "nom", true, NAME_MAX_LEN, &nom, errors);
    if (has_nom > 0)
        json_object_set_new(data, "name", json_string(nom));
    else if (creating && has_nom == 0)
        bl_fsapi_field_error(errors, "nom", "required");
    if (bl_fsapi_string(body, "email", false, EMAIL_MAX_LEN, &email, errors) > 0) {
        if (!email_like(email))
            bl_fsapi_field_error(errors, "email", "not a valid e-mail address");
        else
            json_object_set_new(data, "email", json_string(email));
    }
    if (bl_fsapi_string(body, "telephone", false, PHONE_MAX_LEN, &phone, errors) > 0) {
        if (!phone_like(phone))
            bl_fsapi_field_error(errors, "telephone", "not a phone number (digits, spaces, + - . ( ), 6 digits at least)");
        else
            json_object_set_new(data, "phone", json_string(phone));
    }
    int has_address = bl_fsapi_string(body, "adresse", true, BL_FSAPI_TEXT_MAX, &address, errors);
    if (has_address > 0) {
        bl_fsapi_address a;
        bl_fsapi_address_parse(address, &a);
        json_object_set_new(data, "address", bl_fsapi_address_json(&a));
    } else if (creating && has_address == 0) {
        bl_fsapi_field_error(errors, "adresse", "required");
    }
    if (bl_fsapi_string(body, "statut", true, 32, &statut, errors) > 0) {
        if (!one_of(statut, statuses))
            bl_fsapi_field_error(errors, "statut", "must be one of actif, inactif, prospect");
        else
            json_object_set_new(data, "statut", json_string(statut));
    }
}

/* The client id of the organization as the document shows it, or NULL with
 * err (BL_ENOTFOUND). */
static json_t *read_client(bl_api_server *s, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return bl_api_query_json(s,
                               "SELECT " CLIENT_JSON "::text FROM fieldservice_clients"
                               " WHERE organization_id = $1 AND client_id = $2 AND deleted_at IS NULL",
                               2, p, err);
}

/* Answers status with the client as it is now. */
static int answer_client(const bl_api_request *req, bl_http_response *resp, const char *id, int status)
{
    bl_err err = {0};
    json_t *client = read_client(req->server, req->auth->org_id, id, &err);
    if (!client)
        return err.code == BL_ENOTFOUND ? bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such client", NULL)
                                        : -1;
    if (status == 201) {
        char location[160];
        snprintf(location, sizeof location, "%s/clients/%s",
                 bl_api_server_surface_prefix(req->server, BL_API_SURFACE_FIELD_SERVICE), id);
        bl_http_response_header(resp, "Location", location);
    }
    int rc = bl_http_response_json(resp, status, client);
    json_decref(client);
    return rc;
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

static int list_clients(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    json_t *errors = NULL;
    long page, size;
    bl_fsapi_page(req->http, &page, &size, &errors);
    const char *statut = bl_http_request_query(req->http, "statut");
    const char *search = bl_http_request_query(req->http, "search");
    if (statut && !one_of(statut, statuses))
        bl_fsapi_field_error(&errors, "statut", "must be one of actif, inactif, prospect");
    char pattern[2 * BL_FSAPI_TEXT_MAX + 3];
    if (search && *search && bl_api_like_pattern(search, pattern, sizeof pattern) != 0)
        bl_fsapi_field_error(&errors, "search", "too long");
    if (errors)
        return bl_fs_invalid(req, resp, errors);
    char size_text[24], offset_text[24], page_text[24];
    snprintf(size_text, sizeof size_text, "%ld", size);
    snprintf(offset_text, sizeof offset_text, "%ld", (page - 1) * size);
    snprintf(page_text, sizeof page_text, "%ld", page);
    const char *p[] = {req->auth->org_id, statut, search && *search ? pattern : NULL, size_text, offset_text,
                       page_text};
    bl_err err = {0};
    json_t *list = bl_api_query_json(req->server,
        "WITH f AS (SELECT * FROM fieldservice_clients WHERE organization_id = $1 AND deleted_at IS NULL"
        " AND ($2::text IS NULL OR statut = $2) AND ($3::text IS NULL OR name ILIKE $3 OR email ILIKE $3"
        " OR phone ILIKE $3 OR street ILIKE $3 OR postal_code ILIKE $3 OR city ILIKE $3)),"
        " p AS (SELECT * FROM f ORDER BY created_at DESC, client_id LIMIT $4::bigint OFFSET $5::bigint)"
        " SELECT json_build_object('clients', COALESCE((SELECT json_agg(" CLIENT_JSON
        " ORDER BY created_at DESC, client_id) FROM p), '[]'::json), 'total', (SELECT count(*) FROM f),"
        " 'page', $6::bigint, 'size', $4::bigint,"
        " 'pages', (SELECT (count(*) + $4::bigint - 1) / $4::bigint FROM f))::text",
        6, p, &err);
    if (!list)
        return -1;
    int rc = bl_http_response_json(resp, 200, list);
    json_decref(list);
    return rc;
}

static int create_client(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    int rc = 0;
    if (!body_is_object(req, resp, &rc))
        return rc;
    char id[BL_UUID_SIZE];
    bl_err err = {0};
    json_t *errors = NULL, *data = json_object();
    if (!data || bl_uuid_random(id, &err) != 0) {
        json_decref(data);
        return -1;
    }
    json_object_set_new(data, "client_id", json_string(id));
    client_fields(req->body, true, data, &errors);
    if (errors) {
        json_decref(data);
        return bl_fs_invalid(req, resp, errors);
    }
    char applied[BL_FSAPI_ID_MAX];
    bl_api_wait_result got = bl_fsapi_send(ctx, req, resp, "client.create", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_client(req, resp, applied, 201);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

static int get_client(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    (void)ctx;
    return answer_client(req, resp, bl_http_request_param(req->http, "id"), 200);
}

/* Answers 404 unless the client exists (returns 1 when it does). */
static int client_exists(const bl_api_request *req, bl_http_response *resp, const char *id)
{
    bl_err err = {0};
    json_t *client = read_client(req->server, req->auth->org_id, id, &err);
    if (client) {
        json_decref(client);
        return 1;
    }
    if (err.code != BL_ENOTFOUND)
        return -1;
    return bl_api_fail(req->http, resp, 404, "NOT_FOUND", "no such client", NULL) == 0 ? 0 : -1;
}

static int update_client(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = client_exists(req, resp, id); /* an unknown id is 404 whatever the body */
    if (rc != 1)
        return rc;
    if (!body_is_object(req, resp, &rc))
        return rc;
    json_t *errors = NULL, *data = json_pack("{s:s}", "client_id", id);
    if (!data)
        return -1;
    client_fields(req->body, false, data, &errors);
    if (errors) {
        json_decref(data);
        return bl_fs_invalid(req, resp, errors);
    }
    char applied[BL_FSAPI_ID_MAX]; /* the path id: not a create */
    bl_api_wait_result got = json_object_size(data) > 1
                              ? bl_fsapi_send(ctx, req, resp, "client.update", id, data, NULL, applied)
                              : BL_API_WAIT_APPLIED; /* nothing to change */
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        return answer_client(req, resp, id, 200);
    return got == BL_API_WAIT_ANSWERED ? 0 : -1;
}

static int delete_client(const bl_api_request *req, bl_http_response *resp, void *ctx)
{
    const char *id = bl_http_request_param(req->http, "id");
    int rc = client_exists(req, resp, id);
    if (rc != 1)
        return rc;
    json_t *data = json_pack("{s:s}", "client_id", id);
    if (!data)
        return -1;
    char applied[BL_FSAPI_ID_MAX]; /* the path id: not a create */
    bl_api_wait_result got = bl_fsapi_send(ctx, req, resp, "client.delete", id, data, NULL, applied);
    json_decref(data);
    if (got == BL_API_WAIT_APPLIED)
        bl_http_response_status(resp, 204);
    return got == BL_API_WAIT_FAILED ? -1 : 0;
}

static const bl_api_route routes[] = {
    {"GET", "/clients/", BL_API_BY_METHOD, list_clients},
    {"POST", "/clients/", BL_API_BY_METHOD, create_client},
    {"GET", "/clients/:id", BL_API_BY_METHOD, get_client},
    {"PUT", "/clients/:id", BL_API_BY_METHOD, update_client},
    {"DELETE", "/clients/:id", BL_API_BY_METHOD, delete_client},
};

int bl_api_routes_fs_clients(bl_api_server *s, bl_err *err)
{
    bl_api_commands *commands = bl_api_server_commands(s, err);
    if (!commands)
        return -1;
    if (bl_api_server_surface_routes(s, BL_API_SURFACE_FIELD_SERVICE, routes, sizeof routes / sizeof routes[0],
                                     commands, err) != 0)
        return -1;
    return bl_fsapi_document(s, "clients", err);
}
