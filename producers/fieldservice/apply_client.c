/* Clients: create, update, soft delete. statut is actif, inactif or prospect. */
#include "producers/fieldservice/internal.h"

#include "core/pg_pool.h"

#include <stdbool.h>
#include <string.h>

static const char *const client_statuses[] = {"actif", "inactif", "prospect", NULL};

static json_t *address_or_null(const char *const a[4], int present)
{
    if (!present)
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:s}", "street", a[0], "postal_code", a[1], "city", a[2],
                     "country", a[3]);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A client command's fields; the params of both statements in order. */
typedef struct client_fields {
    const char *id, *name, *email, *phone, *contract, *statut, *addr[4];
    int has_addr; /* 1: an address was given */
} client_fields;

/* Reads a create's fields (name and address required, statut defaults to
 * actif) or an update's (only client_id required). 0, or -1 with err. */
static int read_client(const bl_domain_command *c, bool creating, client_fields *f, bl_err *err)
{
    memset(f, 0, sizeof *f);
    f->statut = creating ? "actif" : NULL;
    if (bl_field_get_str(c, "client_id", true, &f->id, err) < 0 ||
        bl_field_get_str(c, "name", creating, &f->name, err) < 0 ||
        bl_field_get_str(c, "email", false, &f->email, err) < 0 ||
        bl_field_get_str(c, "phone", false, &f->phone, err) < 0 ||
        bl_field_get_str(c, "contract_ref", false, &f->contract, err) < 0 ||
        bl_field_get_enum(c, "statut", false, client_statuses, &f->statut, err) < 0 ||
        (f->has_addr = fs_get_address(c, "address", creating, f->addr, err)) < 0)
        return -1;
    return 0;
}

static int client_create(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                         bl_err *err)
{
    client_fields f;
    if (read_client(c, true, &f, err) != 0)
        return -1;
    const char *id = f.id, *name = f.name, *email = f.email, *phone = f.phone, *contract = f.contract;
    const char *statut = f.statut, *const *addr = f.addr;
    const char *params[] = {c->organization_id, id, name, email, phone, addr[0], addr[1],
                            addr[2], addr[3], contract, statut};
    PGresult *res = bl_pg_exec(conn,
        "INSERT INTO fieldservice_clients (organization_id, client_id, name, email, phone,"
        " street, postal_code, city, country, contract_ref, statut)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT DO NOTHING RETURNING client_id",
        11, params, err);
    if (!res)
        return -1;
    int inserted = PQntuples(res);
    PQclear(res);
    if (!inserted)
        return bl_err_set(err, BL_ECONFLICT, "fieldservice: client %s already exists", id);
    json_t *data = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:s}", "client_id", id, "name", name,
                             "email", str_or_null(email), "phone", str_or_null(phone), "address",
                             address_or_null(addr, 1), "contract_ref", str_or_null(contract),
                             "statut", statut);
    return bl_domain_events_add(out, "client.created", id, data, err);
}

static int client_update(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                         bl_err *err)
{
    client_fields f;
    if (read_client(c, false, &f, err) != 0)
        return -1;
    const char *id = f.id, *name = f.name, *email = f.email, *phone = f.phone, *contract = f.contract;
    const char *statut = f.statut, *const *addr = f.addr;
    int has_addr = f.has_addr;
    const char *params[] = {c->organization_id, id, name, email, phone, addr[0], addr[1],
                            addr[2], addr[3], contract, statut};
    PGresult *res = bl_exec_one(conn,
        "UPDATE fieldservice_clients SET name = COALESCE($3, name), email = COALESCE($4, email),"
        " phone = COALESCE($5, phone), street = COALESCE($6, street),"
        " postal_code = COALESCE($7, postal_code), city = COALESCE($8, city),"
        " country = COALESCE($9, country), contract_ref = COALESCE($10, contract_ref),"
        " statut = COALESCE($11, statut), updated_at = now()"
        " WHERE organization_id = $1 AND client_id = $2 AND deleted_at IS NULL RETURNING client_id",
        11, params, "client", id, err);
    if (!res)
        return -1;
    PQclear(res);
    json_t *changed = json_array();
    const struct { const char *name; int given; } fields[] = {
        {"name", name != NULL},          {"email", email != NULL},
        {"phone", phone != NULL},        {"address", has_addr == 1},
        {"contract_ref", contract != NULL}, {"statut", statut != NULL},
    };
    for (size_t i = 0; changed && i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].given && json_array_append_new(changed, json_string(fields[i].name)) != 0) {
            json_decref(changed);
            changed = NULL;
        }
    }
    json_t *data = changed ? json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "client_id", id,
                                       "name", str_or_null(name), "email", str_or_null(email),
                                       "phone", str_or_null(phone), "address",
                                       address_or_null(addr, has_addr == 1), "contract_ref",
                                       str_or_null(contract), "statut", str_or_null(statut),
                                       "changed_fields", changed)
                           : NULL;
    return bl_domain_events_add(out, "client.updated", id, data, err);
}

static int client_delete(PGconn *conn, const bl_domain_command *c, bl_domain_events *out,
                         bl_err *err)
{
    const char *id = NULL, *reason = NULL;
    if (bl_field_get_str(c, "client_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    const char *params[] = {c->organization_id, id, reason};
    PGresult *res = bl_exec_one(conn,
        "UPDATE fieldservice_clients SET deleted_at = now(), delete_reason = $3, updated_at = now()"
        " WHERE organization_id = $1 AND client_id = $2 AND deleted_at IS NULL RETURNING client_id",
        3, params, "client", id, err);
    if (!res)
        return -1;
    PQclear(res);
    json_t *data = json_pack("{s:s, s:o}", "client_id", id, "reason", str_or_null(reason));
    return bl_domain_events_add(out, "client.deleted", id, data, err);
}

int fs_apply_client(PGconn *conn, const bl_domain_command *c, const char *verb,
                    bl_domain_events *out, bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return client_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return client_update(conn, c, out, err);
    if (strcmp(verb, "delete") == 0)
        return client_delete(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "fieldservice: unknown command type '%s'", c->type);
}
