/* GET /v1/openapi.json, public: the document of every registered route,
 * built once on first request (routes are fixed once the server serves). */
#include "api/openapi.h"
#include "api/routes/routes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct openapi_ctx {
    pthread_mutex_t lock;
    char *text; /* the document, built once */
} openapi_ctx;

static void openapi_ctx_free(void *arg)
{
    openapi_ctx *c = arg;
    pthread_mutex_destroy(&c->lock);
    free(c->text);
    free(c);
}

static int openapi(const bl_api_request *req, bl_http_response *resp, void *arg)
{
    openapi_ctx *c = arg;
    pthread_mutex_lock(&c->lock);
    if (!c->text) {
        bl_err err = {0};
        json_t *doc = bl_api_openapi_build(req->server, &err);
        c->text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
    }
    int rc = c->text ? bl_http_response_body_copy(resp, c->text, strlen(c->text), "application/json") : -1;
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
    bl_api_route r = {"GET", "/v1/openapi.json", BL_API_PUBLIC, openapi};
    if (bl_api_server_routes(s, &r, 1, c, err) != 0)
        return -1;
    return bl_api_server_document(s, "GET", "/v1/openapi.json",
                                  json_pack("{s:s, s:s, s:[s], s:{s:{s:s}}}", "operationId", "get_openapi",
                                            "summary", "This document (OpenAPI 3.1)", "tags", "meta",
                                            "responses", "200", "description", "The document"),
                                  err);
}
