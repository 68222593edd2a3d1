/* The SmartLeakPro webhook body and its conditions (see smartleakpro_payload.h). */
#include "connectors/webhook/workers/smartleakpro_payload.h"

#include "core/time_format.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX (1024 * 1024)

/* How a bus field becomes a document field. */
typedef enum slp_kind {
    SLP_COPY,    /* as is */
    SLP_STATUS,  /* InterventionStatus symbol -> the document's word */
    SLP_LOWER,   /* an enum symbol in lower case (PDF -> pdf) */
    SLP_ROLE,    /* UserRole symbol -> the document's role word */
    SLP_ADDRESS, /* {street, postal_code, city, country} -> the /api surface's one-line address */
    SLP_TIME,    /* unix ms -> RFC 3339 in whole seconds, as the /api surface */
} slp_kind;

typedef struct slp_field {
    const char *doc;  /* the document's name */
    const char *bus;  /* the event's field */
    slp_kind kind;
} slp_field;

#define SLP_FIELDS_MAX 12

typedef struct slp_event {
    const char *bus_type, *doc_type;
    slp_field fields[SLP_FIELDS_MAX]; /* the first is the resource id */
} slp_event;

#define INTERVENTION_FIELDS                                                                           \
    {"id", "intervention_id", SLP_COPY}, {"client_id", "client_id", SLP_COPY},                        \
        {"titre", "title", SLP_COPY}, {"description", "description", SLP_COPY},                      \
        {"technicien_id", "technician_id", SLP_COPY},                                                  \
        {"technicien_assigné", "technician_id", SLP_COPY}, {"lieu", "site_address", SLP_ADDRESS},     \
        {"date_intervention", "scheduled_at", SLP_TIME}

static const slp_event events[] = {
    {"intervention.created", "intervention_created",
     {INTERVENTION_FIELDS, {"statut", "status", SLP_STATUS}, {"duree_minutes", "duration_minutes", SLP_COPY},
      {"type_intervention", "intervention_type", SLP_COPY}}},
    {"intervention.updated", "intervention_updated",
     {INTERVENTION_FIELDS, {"champs_modifies", "changed_fields", SLP_COPY},
      {"type_intervention", "intervention_type", SLP_COPY}}},
    {"intervention.status_changed", "intervention_status_changed",
     {INTERVENTION_FIELDS, {"statut", "status", SLP_STATUS}, {"ancien_statut", "previous_status", SLP_STATUS},
      {"commentaire", "note", SLP_COPY}}},
    {"report.generated", "rapport_generated",
     {{"id", "report_id", SLP_COPY}, {"intervention_id", "intervention_id", SLP_COPY},
      {"client_id", "client_id", SLP_COPY}, {"titre", "title", SLP_COPY}, {"format", "format", SLP_LOWER},
      {"url", "url", SLP_COPY}, {"technicien_id", "technician_id", SLP_COPY}, {"resume", "summary", SLP_COPY},
      {"signe_par", "signed_by", SLP_COPY}, {"type_rapport", "report_type", SLP_COPY},
      {"template", "template", SLP_COPY}, {"taille", "size_bytes", SLP_COPY}}},
    {"media.uploaded", "media_uploaded",
     {{"id", "media_id", SLP_COPY}, {"intervention_id", "intervention_id", SLP_COPY},
      {"type_media", "content_type", SLP_COPY}, {"taille", "size_bytes", SLP_COPY}, {"url", "url", SLP_COPY},
      {"televerse_par", "uploaded_by", SLP_COPY}, {"sha256", "sha256", SLP_COPY}}},
    {"user.created", "user_created",
     {{"id", "user_id", SLP_COPY}, {"email", "email", SLP_COPY}, {"nom_complet", "display_name", SLP_COPY},
      {"role", "role", SLP_ROLE}, {"telephone", "phone", SLP_COPY}}},
    {"client.created", "client_created",
     {{"id", "client_id", SLP_COPY}, {"nom", "name", SLP_COPY}, {"email", "email", SLP_COPY},
      {"telephone", "phone", SLP_COPY}, {"adresse", "address", SLP_ADDRESS}, {"statut", "statut", SLP_COPY},
      {"reference_contrat", "contract_ref", SLP_COPY}}},
};
#define EVENT_COUNT (sizeof events / sizeof events[0])

const char *const bl_slp_doc_types[] = {"intervention_created", "intervention_updated",
                                        "intervention_status_changed", "rapport_generated", "media_uploaded",
                                        "user_created", "client_created", NULL};

/* Symbol <-> word tables of the enum kinds. */
typedef struct word_pair {
    const char *symbol, *word;
} word_pair;

static const word_pair statuses[] = {{"SCHEDULED", "planifie"}, {"EN_ROUTE", "en_route"},
                                     {"IN_PROGRESS", "en_cours"}, {"ON_HOLD", "en_attente"},
                                     {"COMPLETED", "termine"},   {"CANCELLED", "annule"}, {NULL, NULL}};
static const word_pair roles[] = {{"ADMIN", "admin"},
                                  {"MANAGER", "manager"},
                                  {"DISPATCHER", "dispatcher"},
                                  {"TECHNICIAN", "technicien"},
                                  {NULL, NULL}};
static const word_pair formats[] = {{"PDF", "pdf"}, {"HTML", "html"}, {"MARKDOWN", "markdown"}, {NULL, NULL}};

static const word_pair *pairs_of(const slp_field *f)
{
    switch (f->kind) {
    case SLP_STATUS: return statuses;
    case SLP_ROLE: return roles;
    case SLP_LOWER: return formats;
    default: return NULL;
    }
}

static const char *word_of(const word_pair *p, const char *symbol)
{
    for (; p && p->symbol; p++)
        if (strcmp(p->symbol, symbol) == 0)
            return p->word;
    return NULL;
}

static const char *symbol_of(const word_pair *p, const char *word)
{
    for (; p && p->symbol; p++)
        if (strcmp(p->word, word) == 0)
            return p->symbol;
    return NULL;
}

static const slp_event *by_bus(const char *bus_type)
{
    for (size_t i = 0; bus_type && i < EVENT_COUNT; i++)
        if (strcmp(events[i].bus_type, bus_type) == 0)
            return &events[i];
    return NULL;
}

static const slp_event *by_doc(const char *doc_type)
{
    for (size_t i = 0; doc_type && i < EVENT_COUNT; i++)
        if (strcmp(events[i].doc_type, doc_type) == 0)
            return &events[i];
    return NULL;
}

const char *bl_slp_doc_type(const char *bus_type)
{
    const slp_event *e = by_bus(bus_type);
    return e ? e->doc_type : NULL;
}

const char *bl_slp_bus_type(const char *doc_type)
{
    const slp_event *e = by_doc(doc_type);
    return e ? e->bus_type : NULL;
}

/* An address record as the /api surface writes it (BL_FSAPI_ADDRESS_SQL,
 * api/fieldservice/fs_api.h), so a webhook and a read of the same record
 * agree: "street[, postal_code city][, country]", the postal part only when
 * both are set, the country only when set and not FR (the document's
 * addresses are French, and what a client sent as "lieu" has none). */
static json_t *address_text(const json_t *a)
{
    const char *street = json_string_value(json_object_get(a, "street"));
    const char *postal = json_string_value(json_object_get(a, "postal_code"));
    const char *city = json_string_value(json_object_get(a, "city"));
    const char *country = json_string_value(json_object_get(a, "country"));
    if (!street)
        return json_null();
    bool with_place = postal && *postal && city && *city;
    bool with_country = country && *country && strcmp(country, "FR") != 0;
    size_t need = strlen(street) + (with_place ? strlen(postal) + strlen(city) + 3 : 0) +
                  (with_country ? strlen(country) + 2 : 0) + 1;
    char *text = malloc(need);
    if (!text)
        return NULL;
    snprintf(text, need, "%s%s%s%s%s%s%s", street, with_place ? ", " : "", with_place ? postal : "",
             with_place ? " " : "", with_place ? city : "", with_country ? ", " : "", with_country ? country : "");
    json_t *j = json_string(text);
    free(text);
    return j;
}

/* ms as the document and the /api surface write times
 * ("2024-01-01T10:00:00Z": whole seconds, UTC). Returns 0 or -1 (err). */
static int doc_time(int64_t ms, char out[BL_RFC3339_MS_SIZE], bl_err *err)
{
    if (bl_rfc3339_from_ms(ms, out, err) != 0)
        return -1;
    out[19] = 'Z'; /* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> "YYYY-MM-DDTHH:MM:SSZ" */
    out[20] = '\0';
    return 0;
}

/* The document's value of field f from the bus value v (borrowed; NULL when
 * absent). Returns a new reference, or NULL when out of memory. */
static json_t *doc_value(const slp_field *f, const json_t *v)
{
    if (!v || json_is_null(v))
        return json_null();
    switch (f->kind) {
    case SLP_STATUS:
    case SLP_ROLE:
    case SLP_LOWER: {
        const char *w = json_string_value(v) ? word_of(pairs_of(f), json_string_value(v)) : NULL;
        return w ? json_string(w) : json_deep_copy(v);
    }
    case SLP_ADDRESS: return json_is_object(v) ? address_text(v) : json_deep_copy(v);
    case SLP_TIME: {
        char stamp[BL_RFC3339_MS_SIZE];
        bl_err err = {0};
        /* the event gives epoch ms, or RFC 3339 text when decoded as plain JSON */
        int64_t ms = json_is_integer(v) ? json_integer_value(v) : 0;
        bool have = json_is_integer(v) ||
                    (json_is_string(v) && bl_rfc3339_parse_millis(json_string_value(v), &ms) == 0);
        if (have && doc_time(ms, stamp, &err) == 0)
            return json_string(stamp);
        return json_deep_copy(v);
    }
    case SLP_COPY: break;
    }
    return json_deep_copy(v);
}

/* Serializes {type, timestamp, data, resource_id} compactly, in that order. */
static char *dump_body(const char *type, int64_t time_ms, json_t *data, const char *resource_id, size_t *len,
                       bl_err *err)
{
    char stamp[BL_RFC3339_MS_SIZE];
    if (doc_time(time_ms, stamp, err) != 0) {
        json_decref(data);
        return NULL;
    }
    json_t *body = json_object();
    if (!body || json_object_set_new(body, "type", json_string(type)) != 0 ||
        json_object_set_new(body, "timestamp", json_string(stamp)) != 0 || json_object_set_new(body, "data", data) != 0 ||
        json_object_set_new(body, "resource_id", resource_id ? json_string(resource_id) : json_null()) != 0) {
        json_decref(body);
        bl_err_set(err, BL_ENOMEM, "smartleakpro payload: out of memory");
        return NULL;
    }
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text) {
        bl_err_set(err, BL_ENOMEM, "smartleakpro payload: out of memory");
        return NULL;
    }
    *len = strlen(text);
    if (*len > BODY_MAX) {
        free(text);
        bl_err_set(err, BL_EINVAL, "smartleakpro payload: body exceeds %d bytes", BODY_MAX);
        return NULL;
    }
    return text;
}

char *bl_slp_payload_build(const json_t *envelope, size_t *len, bl_err *err)
{
    const char *type = json_string_value(json_object_get(envelope, "type"));
    const slp_event *ev = by_bus(type);
    if (!ev) {
        bl_err_set(err, BL_EINVAL, "smartleakpro payload: the document names no event for %s",
                   type ? type : "(no type)");
        return NULL;
    }
    const json_t *time_v = json_object_get(envelope, "time");
    const json_t *data = json_object_get(envelope, "data");
    if (!json_is_integer(time_v) || !json_is_object(data)) {
        bl_err_set(err, BL_EINVAL, "smartleakpro payload: the envelope needs time (unix ms) and a data object");
        return NULL;
    }
    json_t *out = json_object();
    for (size_t i = 0; out && i < SLP_FIELDS_MAX && ev->fields[i].doc; i++) {
        json_t *v = doc_value(&ev->fields[i], json_object_get(data, ev->fields[i].bus));
        if (!v || json_object_set_new(out, ev->fields[i].doc, v) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (!out) {
        bl_err_set(err, BL_ENOMEM, "smartleakpro payload: out of memory");
        return NULL;
    }
    const char *resource = json_string_value(json_object_get(data, ev->fields[0].bus));
    if (!resource)
        resource = json_string_value(json_object_get(envelope, "subject"));
    return dump_body(ev->doc_type, json_integer_value(time_v), out, resource, len, err);
}

char *bl_slp_test_body(const char *endpoint_id, const char *name, int64_t now_ms, size_t *len, bl_err *err)
{
    json_t *data = json_pack("{s:s, s:s, s:s}", "id", endpoint_id, "nom", name, "message",
                             "Ceci est un envoi de test de busline.");
    if (!data) {
        bl_err_set(err, BL_ENOMEM, "smartleakpro payload: out of memory");
        return NULL;
    }
    return dump_body(BL_SLP_TEST_TYPE, now_ms, data, endpoint_id, len, err);
}

/* The bus value of a condition's value for f: words become symbols. */
static json_t *bus_value(const slp_field *f, const json_t *v, bool *ok)
{
    const word_pair *pairs = pairs_of(f);
    *ok = true;
    if (!pairs)
        return json_deep_copy(v);
    if (json_is_string(v)) {
        const char *sym = symbol_of(pairs, json_string_value(v));
        *ok = sym != NULL;
        return sym ? json_string(sym) : NULL;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
            json_t *one = bus_value(f, item, ok);
            if (!*ok || !one) {
                json_decref(one);
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, one);
        }
        return out;
    }
    return json_deep_copy(v); /* exists: true/false */
}

/* The field of ev the document's path "data.<doc>" names, or NULL. */
static const slp_field *field_of(const slp_event *ev, const char *path)
{
    if (!path || strncmp(path, "data.", 5) != 0)
        return NULL;
    for (size_t i = 0; i < SLP_FIELDS_MAX && ev->fields[i].doc; i++)
        if (strcmp(ev->fields[i].doc, path + 5) == 0)
            return ev->fields[i].kind == SLP_ADDRESS || ev->fields[i].kind == SLP_TIME ? NULL : &ev->fields[i];
    return NULL;
}

json_t *bl_slp_conditions_to_bus(const char *doc_type, const json_t *conditions, bl_err *err)
{
    const slp_event *ev = by_doc(doc_type);
    if (!ev) {
        bl_err_set(err, BL_EINVAL, "unknown event %s", doc_type ? doc_type : "(none)");
        return NULL;
    }
    if (!conditions || json_is_null(conditions))
        return json_array();
    if (!json_is_array(conditions)) {
        bl_err_set(err, BL_EINVAL, "must be an array of {field, operator, value}");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    const json_t *c;
    json_array_foreach(conditions, i, c) {
        const slp_field *f = json_is_object(c) ? field_of(ev, json_string_value(json_object_get(c, "field"))) : NULL;
        if (!f) {
            bl_err_set(err, BL_EINVAL, "condition %zu: field must be data.<a field of %s's data (not an address or"
                                       " a date)>", i + 1, doc_type);
            json_decref(out);
            return NULL;
        }
        json_t *bc = json_deep_copy(c);
        char path[128];
        snprintf(path, sizeof path, "data.%s", f->bus);
        json_object_set_new(bc, "field", json_string(path));
        const json_t *value = json_object_get(c, "value");
        if (value) {
            bool ok;
            json_t *bv = bus_value(f, value, &ok);
            if (!ok || !bv) {
                json_decref(bv);
                json_decref(bc);
                json_decref(out);
                bl_err_set(err, BL_EINVAL, "condition %zu: value is not one of the words of %s", i + 1, f->doc);
                return NULL;
            }
            json_object_set_new(bc, "value", bv);
        }
        json_array_append_new(out, bc);
    }
    return out;
}
