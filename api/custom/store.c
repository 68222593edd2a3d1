/* The rows of custom endpoints: one transaction per write, every saved
 * definition kept in custom_api_versions. */
#include "api/custom/store.h"

#include "api/custom/def_parts.h"
#include "core/pg_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields of a definition that live in columns (the rest is config). */
static const char *const column_fields[] = {"id",      "name",      "path",      "method", "description",
                                            "version", "isActive",  "createdAt", "updatedAt", "url", NULL};

#define ROW_JSON                                                                                                \
    "(c.config || jsonb_build_object('id', c.id, 'name', c.name, 'path', c.path, 'method', c.method,"         \
    " 'description', c.description, 'version', c.version, 'isActive', c.is_active, 'createdAt', c.created_at," \
    " 'updatedAt', c.updated_at, 'url', '/custom/' || o.slug || c.path))::text"

/* The saved form: the definition without the row's own fields. */
static json_t *saved_form(const json_t *def)
{
    json_t *d = json_deep_copy(def);
    static const char *const row_only[] = {"id", "createdAt", "updatedAt", "url"};
    for (size_t i = 0; d && i < sizeof row_only / sizeof row_only[0]; i++)
        json_object_del(d, row_only[i]);
    return d;
}

static json_t *config_of(const json_t *def)
{
    json_t *c = json_deep_copy(def);
    for (size_t i = 0; c && column_fields[i]; i++)
        json_object_del(c, column_fields[i]);
    return c;
}

static json_t *json_result(PGresult *r, int col, bl_err *err)
{
    json_t *j = r && PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, col), 0, NULL) : NULL;
    if (r && !j)
        bl_err_set(err, BL_ENOTFOUND, "custom api: not found");
    PQclear(r);
    return j;
}

json_t *bl_custom_store_get(PGconn *conn, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return json_result(bl_pg_exec(conn,
                                  "SELECT " ROW_JSON " FROM custom_apis c JOIN api_organizations o"
                                  " ON o.id = c.organization_id WHERE c.organization_id = $1 AND c.id::text = $2",
                                  2, p, err),
                       0, err);
}

static bool unique_violation(const bl_err *err)
{
    char state[6];
    return bl_pg_err_sqlstate(err, state) == 0 && strcmp(state, "23505") == 0;
}

/* Writes the row's columns and config, then saves its version. */
static int write_version(PGconn *conn, const char *id, const char *by, const json_t *def, const char *version,
                         bl_err *err)
{
    int v[3] = {0, 0, 0};
    if (bl_custom_parse_version(version, v) != 0)
        return bl_err_set(err, BL_EINVAL, "custom api: version \"%s\" is not semver", version);
    json_t *saved = saved_form(def);
    json_object_set_new(saved, "version", json_string(version));
    char *text = json_dumps(saved, JSON_COMPACT);
    json_decref(saved);
    char major[16], minor[16], patch[16];
    snprintf(major, sizeof major, "%d", v[0]);
    snprintf(minor, sizeof minor, "%d", v[1]);
    snprintf(patch, sizeof patch, "%d", v[2]);
    const char *p[] = {id, version, major, minor, patch, text, by};
    int rc = text ? bl_pg_exec_cmd(conn,
                                   "INSERT INTO custom_api_versions (custom_api_id, version, major, minor, patch,"
                                   " definition, saved_by) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
                                   7, p, err)
                  : bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
    free(text);
    if (rc != 0 && unique_violation(err))
        bl_err_set(err, BL_EINVAL, "custom api: version %s is already saved", version);
    return rc;
}

/* The column values of def: name, path, path key, method, description,
 * isActive, config text (malloc'd into *config). Returns 0 or -1. */
typedef struct columns {
    const char *name, *path, *method, *description, *active;
    char key[BL_CUSTOM_PATH_MAX + 8];
    char *config;
} columns;

static int columns_of(const json_t *def, columns *c, bl_err *err)
{
    c->name = json_string_value(json_object_get(def, "name"));
    c->path = json_string_value(json_object_get(def, "path"));
    c->method = json_string_value(json_object_get(def, "method"));
    c->description = json_string_value(json_object_get(def, "description"));
    c->active = json_is_false(json_object_get(def, "isActive")) ? "false" : "true";
    json_t *config = config_of(def);
    c->config = config ? json_dumps(config, JSON_COMPACT) : NULL;
    json_decref(config);
    if (!c->path || bl_custom_path_key(c->path, c->key, sizeof c->key) != 0)
        return bl_err_set(err, BL_EINVAL, "custom api: bad path");
    return c->config ? 0 : bl_err_set(err, BL_ENOMEM, "custom api: out of memory");
}

static json_t *path_taken(bl_err *err)
{
    bl_err_set(err, BL_ECONFLICT, "custom api: the organization already has an endpoint on this path");
    return NULL;
}

json_t *bl_custom_store_create(PGconn *conn, const bl_audit_actor *who, const char *org, const char *by,
                              const json_t *def, bl_err *err)
{
    columns c = {0};
    const char *version = json_string_value(json_object_get(def, "version"));
    if (!version)
        version = "1.0.0";
    if (columns_of(def, &c, err) != 0 || bl_pg_begin(conn, err) != 0) {
        free(c.config);
        return NULL;
    }
    const char *p[] = {org, c.name, c.path, c.key, c.method, c.description, c.config, version, c.active, by};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO custom_apis (organization_id, name, path, path_key, method, description,"
                             " config, version, is_active, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb,"
                             " $8, $9::boolean, $10) RETURNING id::text",
                             10, p, err);
    free(c.config);
    char id[64] = "";
    if (r)
        snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!r || write_version(conn, id, by, def, version, err) != 0 ||
        bl_audit_created(conn, who, "custom_api", "custom_apis", id, err) != 0 ||
        bl_pg_commit(conn, err) != 0) {
        bool taken = unique_violation(err);
        bl_err keep = *err;
        bl_pg_rollback(conn, err);
        *err = keep;
        return taken ? path_taken(err) : NULL;
    }
    return bl_custom_store_get(conn, org, id, err);
}

int bl_custom_next_version(PGconn *conn, const char *top_sql, const char *id, const char *current,
                           const char *asked, char *out, size_t len, bl_err *err)
{
    const char *p[] = {id};
    PGresult *r = bl_pg_exec(conn, top_sql, 1, p, err);
    if (!r)
        return -1;
    int top[3] = {0, 0, 0};
    for (int i = 0; i < 3 && PQntuples(r) == 1; i++)
        top[i] = atoi(PQgetvalue(r, 0, i));
    PQclear(r);
    int v[3];
    if (!asked || strcmp(asked, current) == 0) {
        snprintf(out, len, "%d.%d.%d", top[0], top[1], top[2] + 1);
        return 0;
    }
    if (bl_custom_parse_version(asked, v) != 0)
        return bl_err_set(err, BL_EINVAL, "version \"%s\" is not semver", asked);
    bool above = v[0] != top[0] ? v[0] > top[0] : v[1] != top[1] ? v[1] > top[1] : v[2] > top[2];
    if (!above)
        return bl_err_set(err, BL_EINVAL, "version %s is not above the latest saved version %d.%d.%d", asked,
                          top[0], top[1], top[2]);
    snprintf(out, len, "%s", asked);
    return 0;
}

/* The next version of a save of endpoint id. */
static int next_version(PGconn *conn, const char *id, const char *current, const char *asked, char *out,
                        size_t len, bl_err *err)
{
    return bl_custom_next_version(conn,
                                  "SELECT major, minor, patch FROM custom_api_versions WHERE custom_api_id = $1"
                                  " ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                                  id, current, asked, out, len, err);
}

/* Locks the row of id in org and reads its current version. */
static int lock_row(PGconn *conn, const char *org, const char *id, char *version, size_t len, bl_err *err)
{
    const char *p[] = {org, id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT version FROM custom_apis WHERE organization_id = $1 AND id::text = $2 FOR UPDATE",
                             2, p, err);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(version, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found ? 0 : bl_err_set(err, BL_ENOTFOUND, "custom api: not found");
}

static int set_current(PGconn *conn, const char *id, const json_t *def, const char *version, bl_err *err)
{
    columns c = {0};
    if (columns_of(def, &c, err) != 0) {
        free(c.config);
        return -1;
    }
    const char *p[] = {id, c.name, c.path, c.key, c.method, c.description, c.config, version, c.active};
    int rc = bl_pg_exec_cmd(conn,
                            "UPDATE custom_apis SET name = $2, path = $3, path_key = $4, method = $5, description = $6,"
                            " config = $7::jsonb, version = $8, is_active = $9::boolean, updated_at = now()"
                            " WHERE id = $1",
                            9, p, err);
    free(c.config);
    return rc;
}

static json_t *finish(PGconn *conn, const char *org, const char *id, int rc, bl_err *err)
{
    if (rc == 0 && bl_pg_commit(conn, err) == 0)
        return bl_custom_store_get(conn, org, id, err);
    bool taken = unique_violation(err);
    bl_err keep = *err;
    bl_pg_rollback(conn, err);
    *err = keep;
    return taken ? path_taken(err) : NULL;
}

json_t *bl_custom_store_update(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                               const char *by, const json_t *def, bl_err *err)
{
    char current[32], version[32];
    if (bl_pg_begin(conn, err) != 0)
        return NULL;
    bl_audit_change ch = {.entity_type = "custom_api", .table = "custom_apis", .entity_id = id, .action = "update"};
    int rc = lock_row(conn, org, id, current, sizeof current, err);
    if (rc == 0)
        rc = bl_audit_change_begin(conn, &ch, err);
    if (rc == 0)
        rc = next_version(conn, id, current, json_string_value(json_object_get(def, "version")), version,
                          sizeof version, err);
    if (rc == 0)
        rc = set_current(conn, id, def, version, err);
    if (rc == 0)
        rc = write_version(conn, id, by, def, version, err);
    if (rc == 0)
        rc = bl_audit_change_end(conn, who, &ch, err);
    bl_audit_change_clear(&ch);
    return finish(conn, org, id, rc, err);
}

json_t *bl_custom_store_version(PGconn *conn, const char *org, const char *id, const char *version, bl_err *err)
{
    const char *p[] = {org, id, version};
    json_t *j = json_result(bl_pg_exec(conn,
                                       "SELECT v.definition::text FROM custom_api_versions v JOIN custom_apis c"
                                       " ON c.id = v.custom_api_id WHERE c.organization_id = $1 AND c.id::text = $2"
                                       " AND v.version = $3",
                                       3, p, err),
                            0, err);
    if (!j && err->code == BL_ENOTFOUND)
        bl_err_set(err, BL_ENOTFOUND, "custom api: no saved version %s", version);
    return j;
}

json_t *bl_custom_store_restore(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                               const char *version, bl_err *err)
{
    char current[32];
    if (bl_pg_begin(conn, err) != 0)
        return NULL;
    bl_audit_change ch = {.entity_type = "custom_api", .table = "custom_apis", .entity_id = id, .action = "rollback"};
    int rc = lock_row(conn, org, id, current, sizeof current, err);
    if (rc == 0)
        rc = bl_audit_change_begin(conn, &ch, err);
    json_t *def = rc == 0 ? bl_custom_store_version(conn, org, id, version, err) : NULL;
    rc = def ? set_current(conn, id, def, version, err) : -1;
    if (rc == 0)
        rc = bl_audit_change_end(conn, who, &ch, err);
    bl_audit_change_clear(&ch);
    json_decref(def);
    return finish(conn, org, id, rc, err);
}

json_t *bl_custom_store_versions(PGconn *conn, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return json_result(
        bl_pg_exec(conn,
                   "SELECT coalesce((SELECT json_agg(json_build_object('version', v.version, 'savedAt', v.saved_at,"
                   " 'savedBy', v.saved_by, 'current', v.version = c.version)"
                   " ORDER BY v.major DESC, v.minor DESC, v.patch DESC) FROM custom_api_versions v"
                   " WHERE v.custom_api_id = c.id), '[]')::text"
                   " FROM custom_apis c WHERE c.organization_id = $1 AND c.id::text = $2",
                   2, p, err),
        0, err);
}

int bl_custom_store_delete(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    bl_audit_change ch = {.entity_type = "custom_api", .table = "custom_apis", .entity_id = id, .action = "delete"};
    if (bl_audit_exec(conn, who, &ch, "DELETE FROM custom_apis WHERE organization_id = $1 AND id::text = $2 RETURNING id",
                      2, p, NULL, err) == 0)
        return 0;
    return err->code == BL_ENOTFOUND ? bl_err_set(err, BL_ENOTFOUND, "custom api: not found") : -1;
}

json_t *bl_custom_store_load(PGconn *conn, const char *id, bl_err *err)
{
    const char *p[] = {id};
    PGresult *r = bl_pg_exec(conn,
                             "SELECT coalesce(json_agg(json_build_object('id', c.id, 'organizationId', c.organization_id,"
                             " 'slug', o.slug, 'definition', " ROW_JSON "::jsonb)), '[]')::text FROM custom_apis c"
                             " JOIN api_organizations o ON o.id = c.organization_id"
                             " WHERE $1::text IS NULL OR c.id::text = $1",
                             1, p, err);
    if (!r)
        return NULL;
    json_t *j = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!j)
        bl_err_set(err, BL_ENOMEM, "custom api: cannot read the definitions");
    return j;
}
