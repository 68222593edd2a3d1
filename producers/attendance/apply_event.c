/* Events: create, update (only what really changes; expected_version
 * honoured; nothing changed publishes nothing), cancel. version starts at 1
 * and grows by one per applied change; a change of start or reminder
 * re-arms the reminder timer (reminder_due_at, reminder_sent_at). */
#include "producers/attendance/internal.h"

#include "core/pg_pool.h"
#include "producers/attendance/event_fields.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The row as the event.created record (without changed_fields). */
#define EVENT_STATE_SQL                                                                                  \
    "json_build_object('event_id', event_id, 'title', title, 'description', description, 'event_type',"  \
    " event_type, 'location', location, 'starts_at', " BL_SQL_MS("starts_at") ", 'ends_at', "             \
    BL_SQL_MS("ends_at") ", 'timezone', timezone, 'organizer', organizer, 'attendees', attendees,"        \
     " 'is_private', is_private, 'reminder_minutes', reminder_minutes, 'meeting_url', meeting_url,"       \
    " 'version', version,"                                                                                  \
    " 'origin', origin)::text AS state"

/* The attributes an update may change, in the order changed_fields lists them. */
static const char *const attributes[] = {"title",     "description", "event_type", "location",
                                         "starts_at", "ends_at",     "timezone",   "organizer",
                                         "attendees", "is_private",  "reminder_minutes",
                                         "meeting_url"};
#define N_ATTRIBUTES (sizeof attributes / sizeof attributes[0])

/* What update may set back to null. */
static const char *const clearable[] = {"description", "location", "reminder_minutes", "meeting_url", NULL};

/* Text of a state member for a SQL parameter, into buf (numbers, booleans,
 * records as JSON text), or NULL for null. Allocated text goes to *owned. */
static const char *param_of(const json_t *state, const char *key, char *buf, size_t len, char **owned)
{
    const json_t *v = json_object_get(state, key);
    if (!v || json_is_null(v))
        return NULL;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    *owned = json_dumps(v, JSON_COMPACT);
    return *owned;
}

/* Parses the state column of row 0 of res into a new object, or NULL with err. */
static json_t *state_of(const PGresult *res, bl_err *err)
{
    json_t *s = json_loads(bl_col(res, "state"), 0, NULL);
    if (!json_is_object(s)) {
        json_decref(s);
        bl_err_set(err, BL_ENOMEM, "attendance: unreadable event state");
        return NULL;
    }
    return s;
}

/* The SQL parameters $3..$15 of state and origin (see write_event). */
typedef struct event_params {
    const char *v[13];
    char num[4][24];
    char *owned[4];
} event_params;

static int params_of(const json_t *state, const json_t *origin, event_params *p, bl_err *err)
{
    memset(p, 0, sizeof *p);
    p->v[0] = param_of(state, "title", NULL, 0, NULL);
    p->v[1] = param_of(state, "description", NULL, 0, NULL);
    p->v[2] = param_of(state, "event_type", NULL, 0, NULL);
    p->v[3] = param_of(state, "location", NULL, 0, NULL);
    p->v[4] = param_of(state, "starts_at", p->num[0], sizeof p->num[0], NULL);
    p->v[5] = param_of(state, "ends_at", p->num[1], sizeof p->num[1], NULL);
    p->v[6] = param_of(state, "timezone", NULL, 0, NULL);
    p->v[7] = param_of(state, "organizer", NULL, 0, &p->owned[0]);
    p->v[8] = param_of(state, "attendees", NULL, 0, &p->owned[1]);
    p->v[9] = param_of(state, "is_private", NULL, 0, NULL);
    p->v[10] = param_of(state, "reminder_minutes", p->num[2], sizeof p->num[2], NULL);
    p->v[11] = json_is_null(origin) ? NULL : (p->owned[2] = json_dumps(origin, JSON_COMPACT));
    p->v[12] = param_of(state, "meeting_url", NULL, 0, NULL);
    if (!p->v[7] || !p->v[8] || (!json_is_null(origin) && !p->v[11]))
        return bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
    return 0;
}

static void params_free(event_params *p)
{
    for (size_t i = 0; i < sizeof p->owned / sizeof p->owned[0]; i++)
        free(p->owned[i]);
}

/* A new data record of event type from state plus origin (and changed). */
static json_t *event_data(const json_t *state, const json_t *origin, json_t *changed)
{
    json_t *d = json_deep_copy(state);
    if (d && json_object_set(d, "origin", (json_t *)origin) != 0) {
        json_decref(d);
        d = NULL;
    }
    if (d && changed && json_object_set(d, "changed_fields", changed) != 0) {
        json_decref(d);
        d = NULL;
    }
    return d;
}

static int event_create(PGconn *conn, const bl_domain_command *c, bl_domain_events *out, bl_err *err)
{
    const char *id = NULL;
    if (bl_field_get_str(c, "event_id", true, &id, err) < 0)
        return -1;
    json_t *state = json_pack("{s:o, s:o, s:o, s:o, s:[], s:b}", "description", json_null(), "location",
                              json_null(), "reminder_minutes", json_null(), "meeting_url", json_null(),
                              "attendees", "is_private", 0);
    json_t *origin = NULL;
    event_params p = {0};
    PGresult *res = NULL;
    int rc = -1;
    if (!state) {
        bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
        goto done;
    }
    if (att_event_fields_read(c, state, err) != 0 || att_event_state_check(c, state, err) != 0 ||
        !(origin = att_origin(c, err)) || params_of(state, origin, &p, err) != 0)
        goto done;
    const char *params[15] = {c->organization_id, id};
    memcpy(params + 2, p.v, sizeof p.v);
    res = bl_pg_exec(conn,
        "INSERT INTO attendance_events (organization_id, event_id, title, description, event_type,"
        " location, starts_at, ends_at, timezone, organizer, attendees, is_private, reminder_minutes,"
        " origin, meeting_url, reminder_due_at) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000.0),"
        " to_timestamp($8::bigint / 1000.0), $9, $10::jsonb, $11::jsonb, $12::boolean, $13::integer,"
        " $14::jsonb, $15, to_timestamp($7::bigint / 1000.0) - make_interval(mins => $13::integer))"
        " ON CONFLICT DO NOTHING RETURNING " EVENT_STATE_SQL, 15, params, err);
    if (!res)
        goto done;
    if (PQntuples(res) == 0) {
        bl_err_set(err, BL_ECONFLICT, "%s: %s: an event with this id already exists", c->type, id);
        goto done;
    }
    json_t *stored = state_of(res, err);
    if (!stored)
        goto done;
    rc = bl_domain_events_add(out, "event.created", id, event_data(stored, origin, NULL), err);
    json_decref(stored);
done:
    PQclear(res);
    params_free(&p);
    json_decref(origin);
    json_decref(state);
    return rc;
}

/* Locks the event and reads its state; refuses a cancelled one and a
 * version other than data.expected_version. Returns the state (new), or
 * NULL with err. */
static json_t *lock_for_change(PGconn *conn, const bl_domain_command *c, const char *id, bool check_version,
                               bl_err *err)
{
    int64_t expected = 0;
    char text[BL_FIELD_INT_TEXT_MAX];
    int has_expected = check_version ? bl_field_get_int(c, "expected_version", false, 1, INT32_MAX, &expected,
                                                        text, err)
                                     : 0;
    if (has_expected < 0)
        return NULL;
    const char *key[] = {c->organization_id, id};
    PGresult *res = bl_pg_exec(conn,
        "SELECT status, version, " EVENT_STATE_SQL " FROM attendance_events"
        " WHERE organization_id = $1 AND event_id = $2 FOR UPDATE", 2, key, err);
    if (!res || bl_require_row(res, "event", id, err) != 0) {
        PQclear(res);
        return NULL;
    }
    json_t *state = NULL;
    int64_t version = bl_col_int(res, "version");
    if (strcmp(bl_col(res, "status"), "cancelled") == 0)
        bl_err_set(err, BL_ECONFLICT, "%s: %s: the event is cancelled and cannot be changed", c->type, id);
    else if (has_expected && expected != version)
        bl_err_set(err, BL_ECONFLICT,
                   "%s: %s: version mismatch: expected version %" PRId64 ", the event is at version %" PRId64,
                   c->type, id, expected, version);
    else
        state = state_of(res, err);
    PQclear(res);
    return state;
}

/* Applies data.clear (names of clearable attributes) to state. */
static int apply_clear(const bl_domain_command *c, json_t *state, bl_err *err)
{
    const json_t *list = json_object_get(c->data, "clear");
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return bl_err_set(err, BL_EINVAL, "%s: data.clear: must be an array of names", c->type);
    size_t i;
    const json_t *name;
    json_array_foreach(list, i, name)
    {
        const char *n = json_string_value(name);
        size_t k = 0;
        while (n && clearable[k] && strcmp(clearable[k], n) != 0)
            k++;
        if (!n || !clearable[k])
            return bl_err_set(err, BL_EINVAL, "%s: data.clear[%zu]: only description, location,"
                              " reminder_minutes and meeting_url can be cleared", c->type, i);
        if (json_object_get(c->data, n) && !json_is_null(json_object_get(c->data, n)))
            return bl_err_set(err, BL_EINVAL, "%s: data.clear[%zu]: %s is both given and cleared", c->type, i, n);
        if (json_object_set_new(state, n, json_null()) != 0)
            return bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
    }
    return 0;
}

static int event_update(PGconn *conn, const bl_domain_command *c, bl_domain_events *out, bl_err *err)
{
    const char *id = NULL;
    if (bl_field_get_str(c, "event_id", true, &id, err) < 0)
        return -1;
    json_t *current = lock_for_change(conn, c, id, true, err), *next = NULL, *origin = NULL, *changed = NULL;
    event_params p = {0};
    PGresult *res = NULL;
    int rc = -1;
    if (!current || !(next = json_deep_copy(current)))
        goto done;
    if (att_event_fields_read(c, next, err) != 0 || apply_clear(c, next, err) != 0 ||
        att_event_state_check(c, next, err) != 0 || !(origin = att_origin(c, err)))
        goto done;
    if (!(changed = json_array())) {
        bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
        goto done;
    }
    bool rearm = false;
    for (size_t i = 0; i < N_ATTRIBUTES; i++) {
        if (json_equal(json_object_get(current, attributes[i]), json_object_get(next, attributes[i])))
            continue;
        if (json_array_append_new(changed, json_string(attributes[i])) != 0) {
            bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
            goto done;
        }
        rearm = rearm || strcmp(attributes[i], "starts_at") == 0 || strcmp(attributes[i], "reminder_minutes") == 0;
    }
    if (json_array_size(changed) == 0) { /* nothing to tell: no version, no event */
        rc = 0;
        goto done;
    }
    if (params_of(next, origin, &p, err) != 0)
        goto done;
    const char *params[16] = {c->organization_id, id};
    memcpy(params + 2, p.v, sizeof p.v);
    params[15] = rearm ? "true" : "false";
    res = bl_exec_one(conn,
        "UPDATE attendance_events SET title = $3, description = $4, event_type = $5, location = $6,"
        " starts_at = to_timestamp($7::bigint / 1000.0), ends_at = to_timestamp($8::bigint / 1000.0),"
        " timezone = $9, organizer = $10::jsonb, attendees = $11::jsonb, is_private = $12::boolean,"
        " reminder_minutes = $13::integer, origin = $14::jsonb, meeting_url = $15,"
        " reminder_due_at = to_timestamp($7::bigint / 1000.0) - make_interval(mins => $13::integer),"
        " reminder_sent_at = CASE WHEN $16::boolean THEN NULL ELSE reminder_sent_at END,"
        " version = version + 1, updated_at = now()"
        " WHERE organization_id = $1 AND event_id = $2 RETURNING " EVENT_STATE_SQL,
        16, params, "event", id, err);
    json_t *stored = res ? state_of(res, err) : NULL;
    if (!stored)
        goto done;
    rc = bl_domain_events_add(out, "event.updated", id, event_data(stored, origin, changed), err);
    json_decref(stored);
done:
    PQclear(res);
    params_free(&p);
    json_decref(changed);
    json_decref(origin);
    json_decref(next);
    json_decref(current);
    return rc;
}

static int event_cancel(PGconn *conn, const bl_domain_command *c, bl_domain_events *out, bl_err *err)
{
    const char *id = NULL, *reason = NULL;
    if (bl_field_get_str(c, "event_id", true, &id, err) < 0 ||
        bl_field_get_str(c, "reason", false, &reason, err) < 0)
        return -1;
    json_t *current = lock_for_change(conn, c, id, false, err), *origin = NULL;
    char *origin_text = NULL;
    PGresult *res = NULL;
    int rc = -1;
    if (!current || !(origin = att_origin(c, err)))
        goto done;
    if (!json_is_null(origin) && !(origin_text = json_dumps(origin, JSON_COMPACT))) {
        bl_err_set(err, BL_ENOMEM, "attendance: out of memory");
        goto done;
    }
    const char *params[] = {c->organization_id, id, reason, origin_text};
    res = bl_exec_one(conn,
        "UPDATE attendance_events SET status = 'cancelled', cancel_reason = $3, origin = $4::jsonb,"
        " cancelled_at = now(), version = version + 1, updated_at = now()"
        " WHERE organization_id = $1 AND event_id = $2 RETURNING title, version, "
        BL_SQL_MS("starts_at") " AS starts_ms, " BL_SQL_MS("ends_at") " AS ends_ms", 4, params, "event", id, err);
    if (!res)
        goto done;
    json_t *data = json_pack("{s:s, s:s, s:I, s:I, s:o, s:I, s:O}", "event_id", id, "title", bl_col(res, "title"),
                             "starts_at", (json_int_t)bl_col_int(res, "starts_ms"), "ends_at",
                             (json_int_t)bl_col_int(res, "ends_ms"), "reason",
                             reason ? json_string(reason) : json_null(), "version",
                             (json_int_t)bl_col_int(res, "version"), "origin", origin);
    rc = bl_domain_events_add(out, "event.cancelled", id, data, err);
done:
    PQclear(res);
    free(origin_text);
    json_decref(origin);
    json_decref(current);
    return rc;
}

int att_apply_event(PGconn *conn, const bl_domain_command *c, const char *verb, bl_domain_events *out,
                    bl_err *err)
{
    if (strcmp(verb, "create") == 0)
        return event_create(conn, c, out, err);
    if (strcmp(verb, "update") == 0)
        return event_update(conn, c, out, err);
    if (strcmp(verb, "cancel") == 0)
        return event_cancel(conn, c, out, err);
    if (strcmp(verb, "record_attendance") == 0)
        return att_apply_record_attendance(conn, c, out, err);
    return bl_err_set(err, BL_EINVAL, "attendance: unknown command type '%s'", c->type);
}
