#include "tests/support/registry_fixture.h"

#include "core/http_client.h"
#include "core/migrations.h"
#include "tests/support/pg_test.h"

#include <stdio.h>
#include <string.h>

int bl_test_registry_start(bl_test_registry *r)
{
    bl_err err = {0};
    memset(r, 0, sizeof *r);
    if (bl_test_pg_fresh_db(r->pg_url, sizeof r->pg_url, &err) != 0)
        goto fail;
    PGconn *conn = bl_pg_connect(r->pg_url, &err);
    int applied = conn ? bl_migrations_apply(conn, BUSLINE_SOURCE_DIR "/migrations", &err) : -1;
    PQfinish(conn);
    if (applied < 0 || !(r->pool = bl_pg_pool_new(r->pg_url, 8, &err)) ||
        !(r->store = bl_registry_store_new(r->pool, 0, &err)) ||
        !(r->server = bl_registry_server_new(r->store, "127.0.0.1", 0, &err)) ||
        bl_registry_server_start(r->server, &err) != 0)
        goto fail;
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%u", bl_registry_server_port(r->server));
    return 0;
fail:
    fprintf(stderr, "  registry fixture: %s\n", err.msg);
    return -1;
}

void bl_test_registry_stop(bl_test_registry *r)
{
    bl_registry_server_free(r->server);
    bl_registry_store_free(r->store);
    bl_pg_pool_free(r->pool);
    if (r->pg_url[0])
        bl_test_pg_drop_db(r->pg_url);
    memset(r, 0, sizeof *r);
}

long bl_test_registry_call_typed(const bl_test_registry *r, const char *method, const char *path,
                                 const char *content_type, const char *body, json_t **json)
{
    char url[1024], header[128];
    snprintf(url, sizeof url, "%s%s", r->base_url, path);
    snprintf(header, sizeof header, "Content-Type: %s", content_type ? content_type : "");
    const char *headers[] = {header};
    bl_http_call call = {.method = method, .url = url, .headers = headers,
                         .header_count = content_type ? 1 : 0, .body = body,
                         .body_len = body ? strlen(body) : 0, .timeout_ms = 30000};
    bl_http_client_config cfg = {.body_cap = 1 << 20};
    bl_http_sync_result res = {0};
    bl_err err = {0};
    if (json)
        *json = NULL;
    if (bl_http_request_sync(&call, &cfg, &res, &err) != 0) {
        fprintf(stderr, "  %s %s: %s\n", method, path, err.msg);
        return 0;
    }
    if (json)
        *json = json_loadb(res.body ? res.body : "", res.body_len, JSON_DECODE_ANY, NULL);
    long status = res.status;
    bl_http_sync_result_clear(&res);
    return status;
}

long bl_test_registry_call(const bl_test_registry *r, const char *method, const char *path,
                           const char *body, json_t **json)
{
    return bl_test_registry_call_typed(r, method, path, "application/vnd.schemaregistry.v1+json", body,
                                       json);
}

long bl_test_error_code(const json_t *json)
{
    json_t *code = json_object_get(json, "error_code");
    return json_is_integer(code) ? (long)json_integer_value(code) : -1;
}
