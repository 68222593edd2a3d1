/* GET /v1/openapi.json, <field-service prefix>/openapi.json and <attendance prefix>/openapi.json, public: the
 * document of each surface's registered routes, built once on first request
 * (routes are fixed once the server serves). */
#include "api/openapi.h"
#include "api/routes/routes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct openapi_ctx {
    pthread_mutex_t lock;
    char *text[BL_API_SURFACE_COUNT]; /* each surface's document, built once */
} openapi_ctx;

static void openapi_ctx_free(void *arg)
{
    openapi_ctx *c = arg;
    pthread_mutex_destroy(&c->lock);
    for (int i = 0; i < BL_API_SURFACE_COUNT; i++)
        free(c->text[i]);
    free(c);
}

static int openapi(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    openapi_ctx *c = arg;
    bl_api_surface surface = bl_api_request_surface(req);
    pthread_mutex_lock(&c->lock);
    if (!c->text[surface]) {
        bl_err err = {0};
        json_t *doc = bl_api_openapi_build(req->server, surface, &err);
        c->text[surface] = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    }
    const char *text = c->text[surface];
    int rc = text ? bl_http_response_body_copy(resp, text, strlen(text), "application/json") : -1;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int bl_api_routes_openapi(bl_api_server *s, bl_err *err)
{
    openapi_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return bl_err_set(err, BL_ENOMEM, "api: out of memory");
    pthread_mutex_init(&c->lock, NULL);
    if (bl_api_server_on_free(s, openapi_ctx_free, c, err) != 0)
        return -1;
    static const struct {
        bl_api_surface surface;
        const char *pattern;
    } documents[] = {{BL_API_SURFACE_V1, "/v1/openapi.json"}, {BL_API_SURFACE_FIELD_SERVICE, "/openapi.json"},
                     {BL_API_SURFACE_ATTENDANCE, "/openapi.json"}};
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
        bl_api_route r = {"GET", documents[i].pattern, BL_API_PUBLIC, openapi};
        if (bl_api_server_surface_routes(s, documents[i].surface, &r, 1, c, err) != 0 ||
            bl_api_server_surface_document(s, documents[i].surface, "GET", documents[i].pattern,
                                           json_pack("{s:s, s:s, s:[s], s:{s:{s:s}}}", "operationId",
                                                     "get_openapi", "summary", "This document (OpenAPI 3.1)",
                                                     "tags", "meta", "responses", "200", "description",
                                                     "The document"),
                                           err) != 0)
            return -1;
    }
    return 0;
}
