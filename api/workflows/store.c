/* The rows of workflows: one transaction per write, every saved definition
 * kept in workflow_versions (the shape of api/custom/store.c). */
#include "api/workflows/store.h"

#include "api/custom/def_parts.h"
#include "connectors/workflows/wf_schedule.h"
#include "core/pg_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields of a definition that live in columns (the rest is config). */
static const char *const column_fields[] = {"id", "name", "description", "version", "isActive",
                                            "createdAt", "updatedAt", NULL};

#define ROW_JSON                                                                                             \
    "(w.config || jsonb_build_object('id', w.id, 'name', w.name, 'description', w.description, 'version',"  \
    " w.version, 'isActive', w.is_active, 'createdAt', w.created_at, 'updatedAt', w.updated_at))::text"

static json_t *json_result(PGresult *r, bl_err *err)
{
    json_t *j = r && PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    if (r && !j)
        bl_err_set(err, BL_ENOTFOUND, "workflow: not found");
    PQclear(r);
    return j;
}

json_t *bl_wf_store_get(PGconn *conn, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return json_result(bl_pg_exec(conn, "SELECT " ROW_JSON " FROM workflows w WHERE w.organization_id = $1"
                                        " AND w.id::text = $2",
                                  2, p, err),
                       err);
}

/* The column values of def; config (the rest) malloc'd. */
typedef struct columns {
    const char *name, *description, *active, *trigger_type, *trigger_event;
    char *config;
} columns;

static int columns_of(const json_t *def, columns *c, bl_err *err)
{
    c->name = json_string_value(json_object_get(def, "name"));
    c->description = json_string_value(json_object_get(def, "description"));
    c->active = json_is_false(json_object_get(def, "isActive")) ? "false" : "true";
    const json_t *trigger = json_object_get(def, "trigger");
    c->trigger_type = json_string_value(json_object_get(trigger, "type"));
    c->trigger_event = json_string_value(json_object_get(json_object_get(trigger, "config"), "eventType"));
    json_t *config = json_deep_copy(def);
    for (size_t i = 0; config && column_fields[i]; i++)
        json_object_del(config, column_fields[i]);
    c->config = config ? json_dumps(config, JSON_COMPACT) : NULL;
    json_decref(config);
    return c->config ? 0 : bl_err_set(err, BL_ENOMEM, "workflow: out of memory");
}

static int write_version(PGconn *conn, const char *id, const char *by, const json_t *def, const char *version,
                         bl_err *err)
{
    int v[3] = {0, 0, 0};
    if (bl_custom_parse_version(version, v) != 0)
        return bl_err_set(err, BL_EINVAL, "workflow: version \"%s\" is not semver", version);
    json_t *saved = json_deep_copy(def);
    static const char *const row_only[] = {"id", "createdAt", "updatedAt"};
    for (size_t i = 0; saved && i < sizeof row_only / sizeof row_only[0]; i++)
        json_object_del(saved, row_only[i]);
    json_object_set_new(saved, "version", json_string(version));
    char *text = saved ? json_dumps(saved, JSON_COMPACT) : NULL;
    json_decref(saved);
    char parts[3][16];
    for (int i = 0; i < 3; i++)
        snprintf(parts[i], sizeof parts[i], "%d", v[i]);
    const char *p[] = {id, version, parts[0], parts[1], parts[2], text, by};
    int rc = text ? bl_pg_exec_cmd(conn,
                                   "INSERT INTO workflow_versions (workflow_id, version, major, minor, patch,"
                                   " definition, saved_by) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
                                   7, p, err)
                  : bl_err_set(err, BL_ENOMEM, "workflow: out of memory");
    free(text);
    char state[6];
    if (rc != 0 && bl_pg_err_sqlstate(err, state) == 0 && strcmp(state, "23505") == 0)
        bl_err_set(err, BL_EINVAL, "version %s is already saved", version);
    return rc;
}

static json_t *finish(PGconn *conn, const char *org, const char *id, int rc, bl_err *err)
{
    if (rc == 0 && bl_pg_commit(conn, err) == 0)
        return bl_wf_store_get(conn, org, id, err);
    bl_err keep = *err;
    bl_pg_rollback(conn, err);
    *err = keep;
    return NULL;
}

json_t *bl_wf_store_create(PGconn *conn, const bl_audit_actor *who, const char *org, const char *by,
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
    const char *p[] = {org, c.name, c.description, c.config, c.trigger_type, c.trigger_event, version, c.active, by};
    PGresult *r = bl_pg_exec(conn,
                             "INSERT INTO workflows (organization_id, name, description, config, trigger_type,"
                             " trigger_event, version, is_active, created_by) VALUES ($1, $2, $3, $4::jsonb, $5, $6,"
                             " $7, $8::boolean, $9) RETURNING id::text",
                             9, p, err);
    free(c.config);
    char id[64] = "";
    if (r)
        snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    int rc = r ? 0 : -1;
    if (rc == 0)
        rc = write_version(conn, id, by, def, version, err);
    if (rc == 0)
        rc = bl_wf_schedule_sync(conn, org, id, def, err);
    if (rc == 0)
        rc = bl_audit_created(conn, who, "workflow", "workflows", id, err);
    return finish(conn, org, id, rc, err);
}

static int next_version(PGconn *conn, const char *id, const char *current, const char *asked, char *out,
                        size_t len, bl_err *err)
{
    return bl_custom_next_version(conn,
                                  "SELECT major, minor, patch FROM workflow_versions WHERE workflow_id = $1"
                                  " ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                                  id, current, asked, out, len, err);
}

json_t *bl_wf_store_update(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id,
                           const char *by, const json_t *def, bl_err *err)
{
    columns c = {0};
    if (columns_of(def, &c, err) != 0 || bl_pg_begin(conn, err) != 0) {
        free(c.config);
        return NULL;
    }
    const char *lp[] = {org, id};
    PGresult *r = bl_pg_exec(conn, "SELECT version FROM workflows WHERE organization_id = $1 AND id::text = $2"
                                   " FOR UPDATE",
                             2, lp, err);
    char current[32] = "", version[32] = "";
    int rc = r ? 0 : -1;
    if (r && PQntuples(r) == 1)
        snprintf(current, sizeof current, "%s", PQgetvalue(r, 0, 0));
    else if (r)
        rc = bl_err_set(err, BL_ENOTFOUND, "workflow: not found");
    PQclear(r);
    bl_audit_change ch = {.entity_type = "workflow", .table = "workflows", .entity_id = id, .action = "update"};
    if (rc == 0)
        rc = bl_audit_change_begin(conn, &ch, err);
    if (rc == 0)
        rc = next_version(conn, id, current, json_string_value(json_object_get(def, "version")), version,
                          sizeof version, err);
    const char *p[] = {id, c.name, c.description, c.config, c.trigger_type, c.trigger_event, version, c.active};
    if (rc == 0)
        rc = bl_pg_exec_cmd(conn,
                            "UPDATE workflows SET name = $2, description = $3, config = $4::jsonb, trigger_type = $5,"
                            " trigger_event = $6, version = $7, is_active = $8::boolean, updated_at = now()"
                            " WHERE id = $1",
                            8, p, err);
    free(c.config);
    if (rc == 0)
        rc = write_version(conn, id, by, def, version, err);
    if (rc == 0)
        rc = bl_wf_schedule_sync(conn, org, id, def, err);
    if (rc == 0)
        rc = bl_audit_change_end(conn, who, &ch, err);
    bl_audit_change_clear(&ch);
    return finish(conn, org, id, rc, err);
}

json_t *bl_wf_store_versions(PGconn *conn, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    return json_result(
        bl_pg_exec(conn,
                   "SELECT coalesce((SELECT json_agg(json_build_object('version', v.version, 'savedAt', v.saved_at,"
                   " 'savedBy', v.saved_by, 'current', v.version = w.version)"
                   " ORDER BY v.major DESC, v.minor DESC, v.patch DESC) FROM workflow_versions v"
                   " WHERE v.workflow_id = w.id), '[]')::text"
                   " FROM workflows w WHERE w.organization_id = $1 AND w.id::text = $2",
                   2, p, err),
        err);
}

json_t *bl_wf_store_version(PGconn *conn, const char *org, const char *id, const char *version, bl_err *err)
{
    const char *p[] = {org, id, version};
    json_t *j = json_result(bl_pg_exec(conn,
                                       "SELECT v.definition::text FROM workflow_versions v JOIN workflows w"
                                       " ON w.id = v.workflow_id WHERE w.organization_id = $1 AND w.id::text = $2"
                                       " AND v.version = $3",
                                       3, p, err),
                            err);
    if (!j && err->code == BL_ENOTFOUND)
        bl_err_set(err, BL_ENOTFOUND, "workflow: no saved version %s", version);
    return j;
}

int bl_wf_store_delete(PGconn *conn, const bl_audit_actor *who, const char *org, const char *id, bl_err *err)
{
    const char *p[] = {org, id};
    bl_audit_change ch = {.entity_type = "workflow", .table = "workflows", .entity_id = id, .action = "delete"};
    if (bl_audit_exec(conn, who, &ch, "DELETE FROM workflows WHERE organization_id = $1 AND id::text = $2 RETURNING id",
                      2, p, NULL, err) == 0)
        return 0;
    return err->code == BL_ENOTFOUND ? bl_err_set(err, BL_ENOTFOUND, "workflow: not found") : -1;
}
