/* The planning of the field-service surface (SmartLeakPro document):
 *   GET /planning/          the appointments, filtered by date_debut,
 *                           date_fin, client_id, statut, paged by page/size:
 *                           {"rendez_vous": [...], "total", "page", "size", "pages"}
 *   GET /planning/calendar  the calendar array [{id, title, start, end, color,
 *                           client, intervention_id}] for start/end
 * read by api/fieldservice/planning_query.c from the domain service's rows.
 * Every bad query parameter is named at once (422 VALIDATION_ERROR). */
#include "api/fieldservice/planning_query.h"
#include "api/routes/routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT 10
#define PAGE_SIZE_MAX 100
#define FILTER_VALUE_MAX 200

static void add_error(json_t *errors, const char *field, const char *message)
{
    json_object_set_new(errors, field, json_pack("[s]", message));
}

/* query[name] as a whole number in [min, max] into *out (untouched when absent). */
static void read_long(const bl_http_request *h, const char *name, long min, long max, long *out,
                      const char *message, json_t *errors)
{
    const char *v = bl_http_request_query(h, name);
    if (!v)
        return;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < min || n > max)
        add_error(errors, name, message);
    else
        *out = n;
}

static void read_date(const bl_http_request *h, const char *name, bool end_of_day, bool *has,
                      int64_t *ms, json_t *errors)
{
    const char *v = bl_http_request_query(h, name);
    if (!v)
        return;
    if (bl_fs_date_param(v, end_of_day, ms) != 0)
        add_error(errors, name, "a date (YYYY-MM-DD) or an RFC 3339 date-time");
    else
        *has = true;
}

/* Reads the filters of either route into f; the window's parameter names
 * differ (date_debut/date_fin, start/end). */
static void read_filter(const bl_api_request *req, const char *from, const char *to,
                        bl_fs_planning_filter *f, json_t *errors)
{
    const bl_http_request *h = req->http;
    *f = (bl_fs_planning_filter){.organization_id = req->auth->org_id, .page = 1,
                                 .size = PAGE_SIZE_DEFAULT};
    read_date(h, from, false, &f->has_from, &f->from_ms, errors);
    read_date(h, to, true, &f->has_to, &f->to_ms, errors);
    if (f->has_from && f->has_to && f->to_ms <= f->from_ms)
        add_error(errors, to, "must come after the start of the window");
}

static int answer(const bl_api_request *req, bl_http_response *resp, json_t *errors,
                  const bl_fs_planning_filter *f, bool calendar)
{
    if (json_object_size(errors) > 0)
        return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", "invalid query parameters",
                           errors);
    json_decref(errors);
    bl_err err = {0};
    PGconn *conn = bl_api_acquire_pg(req->server, &err);
    if (!conn)
        return -1;
    json_t *out = calendar ? bl_fs_planning_calendar(conn, f, &err) : bl_fs_planning_list(conn, f, &err);
    bl_pg_pool_release(bl_api_server_pool(req->server), conn);
    int rc = out ? bl_http_response_json(resp, 200, out) : -1;
    json_decref(out);
    return rc;
}

static int planning_list(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_fs_planning_filter f;
    read_filter(req, "date_debut", "date_fin", &f, errors);
    read_long(req->http, "page", 1, 1000000, &f.page, "an integer from 1", errors);
    read_long(req->http, "size", 1, PAGE_SIZE_MAX, &f.size, "an integer from 1 to 100", errors);
    const char *client = bl_http_request_query(req->http, "client_id");
    if (client && (!*client || strlen(client) > FILTER_VALUE_MAX))
        add_error(errors, "client_id", "1 to 200 characters");
    else
        f.client_id = client;
    const char *statut = bl_http_request_query(req->http, "statut");
    if (statut && !(f.status = bl_fs_status_param(statut)))
        add_error(errors, "statut",
                  "one of planifie, en_route, en_cours, en_attente, termine, annule");
    return answer(req, resp, errors, &f, false);
}

static int planning_calendar(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    (void)arg;
    json_t *errors = json_object();
    if (!errors)
        return -1;
    bl_fs_planning_filter f;
    read_filter(req, "start", "end", &f, errors);
    return answer(req, resp, errors, &f, true);
}

/* A query parameter; format NULL for an integer. */
static json_t *param(const char *name, const char *description, const char *format)
{
    return format ? json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "name", name, "in", "query",
                              "description", description, "schema", "type", "string", "format",
                              format)
                  : json_pack("{s:s, s:s, s:s, s:{s:s, s:i}}", "name", name, "in", "query",
                              "description", description, "schema", "type", "integer",
                              "minimum", 1);
}

static json_t *list_operation(void)
{
    return json_pack(
        "{s:s, s:s, s:[s], s:[o, o, o, o, o, o], s:{s:{s:s}}}", "operationId", "fs_planning_list",
        "summary",
        "Appointments (rendez_vous) derived from the interventions; each names in conflits the "
        "interventions of the same technician that overlap it",
        "tags", "field-service", "parameters",
        param("date_debut", "appointments ending after this date or date-time", "date"),
        param("date_fin", "appointments starting before the end of this date (or this date-time)",
              "date"),
        param("client_id", "one client's appointments", "uuid"),
        json_pack("{s:s, s:s, s:{s:s, s:[s, s, s, s, s, s]}}", "name", "statut", "in", "query",
                  "schema", "type", "string", "enum", "planifie", "en_route", "en_cours",
                  "en_attente", "termine", "annule"),
        param("page", "page number (default 1)", NULL),
        param("size", "page size (default 10, at most 100)", NULL), "responses", "200",
        "description", "{\"rendez_vous\": [...], \"total\", \"page\", \"size\", \"pages\"}");
}

static json_t *calendar_operation(void)
{
    return json_pack("{s:s, s:s, s:[s], s:[o, o], s:{s:{s:s}}}", "operationId",
                     "fs_planning_calendar", "summary",
                     "Calendar events (id, title, start, end, color by status, client, "
                     "intervention_id), at most 1000",
                     "tags", "field-service", "parameters",
                     param("start", "events ending after this date or date-time", "date"),
                     param("end", "events starting before the end of this date", "date"),
                     "responses", "200", "description", "An array of calendar events");
}

static const bl_api_route routes[] = {
    {"GET", "/planning/", BL_API_BY_METHOD, planning_list},
    {"GET", "/planning/calendar", BL_API_BY_METHOD, planning_calendar},
};

int bl_api_routes_fs_planning(bl_api_server *s, bl_err *err)
{
    const bl_api_surface fs = BL_API_SURFACE_FIELD_SERVICE;
    return bl_api_server_surface_routes(s, fs, routes, sizeof routes / sizeof routes[0], NULL, err) != 0 ||
                   bl_api_server_surface_document(s, fs, "GET", routes[0].pattern, list_operation(),
                                                  err) != 0 ||
                   bl_api_server_surface_document(s, fs, "GET", routes[1].pattern,
                                                  calendar_operation(), err) != 0
               ? -1
               : 0;
}
