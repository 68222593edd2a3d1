/* Mapping rules and templates of connector integrations. */
#include "connectors/mapping.h"

#include "connectors/transform/expr.h"
#include "consumers/event_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const envelope_roots[] = {"id", "type", "time", "source", "subject",
                                             "organization_id", "data", NULL};

static bool is_envelope_root(const char *name, size_t len)
{
    for (size_t i = 0; envelope_roots[i]; i++)
        if (strlen(envelope_roots[i]) == len && memcmp(envelope_roots[i], name, len) == 0)
            return true;
    return false;
}

static bool is_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* camelCase -> snake_case into out; returns 0, or -1 when it does not fit. */
static int snake_case(const char *name, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') {
            if (o > 0 && o + 1 < cap)
                out[o++] = '_';
            c = (char)(c - 'A' + 'a');
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

bool bl_mapping_catalog_field_known(const char *const *patterns, size_t n, const char *name, void *ctx)
{
    const bl_catalog *cat = ctx;
    for (size_t i = 0; i < bl_catalog_msg_count(cat); i++) {
        const bl_catalog_msg *msg = bl_catalog_msg_at(cat, i);
        if (msg->kind != BL_MSG_EVENT)
            continue;
        bool matched = false;
        for (size_t p = 0; p < n && !matched; p++)
            matched = bl_event_type_matches(patterns[p], msg->type);
        if (!matched)
            continue;
        const bl_catalog_topic *t = bl_catalog_topic_find(cat, msg->topic, NULL);
        if (!t)
            continue;
        avro_schema_t data = avro_schema_record_field_get(t->schema, "data");
        avro_schema_t rec = data ? avro_schema_union_branch(data, msg->branch) : NULL;
        if (rec && avro_schema_record_field_get_index(rec, name) >= 0)
            return true;
    }
    return false;
}

/* Checks the placeholder p (len bytes, between the braces) at offset off. */
static int placeholder_check(const char *p, size_t len, size_t off, const char *const *patterns,
                             size_t n_patterns, bl_mapping_field_known_fn known, void *known_ctx,
                             bl_err *err)
{
    if (len == 0)
        return bl_err_set(err, BL_EINVAL, "empty placeholder at %zu", off);
    for (size_t i = 0; i < len; i++)
        if (!is_path_char(p[i]) || (p[i] == '.' && (i == 0 || i + 1 == len || p[i + 1] == '.')))
            return bl_err_set(err, BL_EINVAL, "malformed placeholder \"%.*s\" at %zu", (int)len, p, off);
    if (len > BL_EVENT_FIELD_PATH_MAX)
        return bl_err_set(err, BL_EINVAL, "placeholder at %zu is too long", off);
    size_t root_len = strcspn(p, ".");
    if (root_len > len)
        root_len = len;
    const char *field = NULL;
    size_t field_len = 0;
    if (root_len == 4 && memcmp(p, "data", 4) == 0) {
        if (root_len == len)
            return 0; /* the whole data object */
        field = p + 5;
        field_len = strcspn(field, ".");
        if (field_len > len - 5)
            field_len = len - 5;
    } else if (is_envelope_root(p, root_len)) {
        if (root_len != len)
            return bl_err_set(err, BL_EINVAL, "placeholder \"%.*s\" at %zu: %.*s has no fields",
                              (int)len, p, off, (int)root_len, p);
        return 0;
    } else {
        field = p;
        field_len = root_len;
    }
    if (!known)
        return 0;
    char name[BL_EVENT_FIELD_PATH_MAX + 1], snake[BL_EVENT_FIELD_PATH_MAX * 2 + 1];
    memcpy(name, field, field_len);
    name[field_len] = '\0';
    if (known(patterns, n_patterns, name, known_ctx))
        return 0;
    if (snake_case(name, field_len, snake, sizeof snake) == 0 && known(patterns, n_patterns, snake, known_ctx))
        return 0;
    return bl_err_set(err, BL_EINVAL, "unknown placeholder root \"%s\" at %zu (not an envelope field "
                      "nor a field of the rule's events)", name, off);
}

/* Walks tmpl; for each placeholder calls fn (when non-NULL) and for each
 * literal run calls lit. Returns 0 or -1 with err. */
typedef int (*piece_fn)(const char *s, size_t len, size_t off, bool placeholder, void *ctx, bl_err *err);

static int template_walk(const char *tmpl, piece_fn fn, void *ctx, bl_err *err)
{
    size_t len = strlen(tmpl);
    if (len > BL_TEMPLATE_MAX)
        return bl_err_set(err, BL_EINVAL, "template longer than %d bytes", BL_TEMPLATE_MAX);
    size_t i = 0;
    while (i < len) {
        if (tmpl[i] == '{' && tmpl[i + 1] == '{') {
            if (fn(tmpl + i, 1, i, false, ctx, err) != 0)
                return -1;
            i += 2;
        } else if (tmpl[i] == '}' && tmpl[i + 1] == '}') {
            if (fn(tmpl + i, 1, i, false, ctx, err) != 0)
                return -1;
            i += 2;
        } else if (tmpl[i] == '}') {
            return bl_err_set(err, BL_EINVAL, "unbalanced '}' at %zu", i);
        } else if (tmpl[i] == '{') {
            size_t j = i + 1;
            while (j < len && tmpl[j] != '}' && tmpl[j] != '{')
                j++;
            if (j >= len || tmpl[j] == '{')
                return bl_err_set(err, BL_EINVAL, "unbalanced '{' at %zu", i);
            if (fn(tmpl + i + 1, j - i - 1, i, true, ctx, err) != 0)
                return -1;
            i = j + 1;
        } else {
            size_t j = i;
            while (j < len && tmpl[j] != '{' && tmpl[j] != '}')
                j++;
            if (fn(tmpl + i, j - i, i, false, ctx, err) != 0)
                return -1;
            i = j;
        }
    }
    return 0;
}

typedef struct check_ctx {
    const char *const *patterns;
    size_t n_patterns;
    bl_mapping_field_known_fn known;
    void *known_ctx;
} check_ctx;

static int check_piece(const char *s, size_t len, size_t off, bool placeholder, void *ctx, bl_err *err)
{
    check_ctx *c = ctx;
    if (!placeholder)
        return 0;
    return placeholder_check(s, len, off, c->patterns, c->n_patterns, c->known, c->known_ctx, err);
}

int bl_template_check(const char *tmpl, const char *const *patterns, size_t n_patterns,
                      bl_mapping_field_known_fn known, void *known_ctx, bl_err *err)
{
    check_ctx c = {patterns, n_patterns, known, known_ctx};
    return template_walk(tmpl, check_piece, &c, err);
}

/* --- rendering --- */

typedef struct buf {
    char *s;
    size_t len, cap;
} buf;

static int buf_add(buf *b, const char *s, size_t n, bl_err *err)
{
    if (b->len + n + 1 > BL_TEMPLATE_OUTPUT_MAX)
        return bl_err_set(err, BL_EINVAL, "rendered text longer than %d bytes", BL_TEMPLATE_OUTPUT_MAX);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int buf_add_escaped(buf *b, const char *s, size_t n, int escape, bl_err *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        const char *out = NULL;
        size_t out_len = 0;
        switch (escape) {
        case BL_CONNECTOR_ESCAPE_JSON:
            if (c == '"')
                out = "\\\"";
            else if (c == '\\')
                out = "\\\\";
            else if (c == '\n')
                out = "\\n";
            else if (c == '\r')
                out = "\\r";
            else if (c == '\t')
                out = "\\t";
            else if (c < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                out = tmp;
            }
            break;
        case BL_CONNECTOR_ESCAPE_MRKDWN:
            if (c == '&')
                out = "&amp;";
            else if (c == '<')
                out = "&lt;";
            else if (c == '>')
                out = "&gt;";
            break;
        case BL_CONNECTOR_ESCAPE_ADF:
            if (c < 0x20 && c != '\n' && c != '\t')
                out = "";
            break;
        default:
            break;
        }
        if (out)
            out_len = strlen(out);
        if (out ? buf_add(b, out, out_len, err) : buf_add(b, (const char *)&s[i], 1, err))
            return -1;
    }
    return 0;
}

char *bl_escape_text(const char *value, int escape)
{
    buf b = {0};
    if (buf_add(&b, "", 0, NULL) != 0 || buf_add_escaped(&b, value, strlen(value), escape, NULL) != 0) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* The value a placeholder names in event (borrowed) or NULL. */
static const json_t *placeholder_value(const json_t *event, const char *p, size_t len)
{
    char path[BL_EVENT_FIELD_PATH_MAX * 3 + 8];
    size_t root_len = strcspn(p, ".");
    if (root_len > len)
        root_len = len;
    if (is_envelope_root(p, root_len))
        return bl_tx_path_lookup(event, p, len);
    int n = snprintf(path, sizeof path, "data.%.*s", (int)len, p);
    if (n < 0 || (size_t)n >= sizeof path)
        return NULL;
    const json_t *v = bl_tx_path_lookup(event, path, (size_t)n);
    if (v)
        return v;
    char snake[BL_EVENT_FIELD_PATH_MAX * 2 + 1];
    if (snake_case(p, root_len, snake, sizeof snake) != 0)
        return NULL;
    n = snprintf(path, sizeof path, "data.%s%.*s", snake, (int)(len - root_len), p + root_len);
    return n < 0 || (size_t)n >= sizeof path ? NULL : bl_tx_path_lookup(event, path, (size_t)n);
}

typedef struct render_ctx {
    buf out;
    const json_t *event;
    int escape;
} render_ctx;

static int render_piece(const char *s, size_t len, size_t off, bool placeholder, void *ctx, bl_err *err)
{
    (void)off;
    render_ctx *r = ctx;
    if (!placeholder)
        return buf_add(&r->out, s, len, err);
    const json_t *v = placeholder_value(r->event, s, len);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return buf_add_escaped(&r->out, json_string_value(v), json_string_length(v), r->escape, err);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (!text)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    int rc = buf_add_escaped(&r->out, text, strlen(text), r->escape, err);
    free(text);
    return rc;
}

char *bl_template_render(const char *tmpl, const json_t *event, int escape, bl_err *err)
{
    render_ctx r = {.event = event, .escape = escape};
    if (buf_add(&r.out, "", 0, err) != 0 || template_walk(tmpl, render_piece, &r, err) != 0) {
        free(r.out.s);
        return NULL;
    }
    return r.out.s;
}

/* --- rules --- */

typedef struct rule {
    char **patterns;
    size_t n_patterns;
    bl_tx_expr *condition; /* the rule's conditions, as the transform engine's expression */
    char *action;
    char **names;     /* template field names */
    char **templates; /* their templates */
    int *escapes;
    size_t n_fields;
} rule;

struct bl_mapping {
    const bl_connector_table *table;
    rule *rules;
    size_t n;
};

static void rule_clear(rule *r)
{
    for (size_t i = 0; i < r->n_patterns; i++)
        free(r->patterns[i]);
    free(r->patterns);
    bl_tx_expr_free(r->condition);
    free(r->action);
    for (size_t i = 0; i < r->n_fields; i++) {
        free(r->names[i]);
        free(r->templates[i]);
    }
    free(r->names);
    free(r->templates);
    free(r->escapes);
}

void bl_mapping_free(bl_mapping *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        rule_clear(&m->rules[i]);
    free(m->rules);
    free(m);
}

static const bl_connector_field *table_field(const bl_connector_table *t, const char *action,
                                             const char *name)
{
    for (const bl_connector_field *f = t->fields; f && f->name; f++)
        if (strcmp(f->name, name) == 0 && (!f->action || strcmp(f->action, action) == 0))
            return f;
    return NULL;
}

static bool table_has_action(const bl_connector_table *t, const char *action)
{
    for (const char *const *a = t->actions; a && *a; a++)
        if (strcmp(*a, action) == 0)
            return true;
    return false;
}

static int rule_compile(rule *r, const json_t *spec, const bl_connector_table *table,
                        bl_mapping_field_known_fn known, void *known_ctx, bl_err *err)
{
    if (!json_is_object(spec))
        return bl_err_set(err, BL_EINVAL, "not an object");
    const json_t *events = json_object_get(spec, "events");
    if (!json_is_array(events) || json_array_size(events) == 0)
        return bl_err_set(err, BL_EINVAL, "events: a non-empty array of event-type patterns is required");
    r->patterns = calloc(json_array_size(events), sizeof *r->patterns);
    if (!r->patterns)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t i = 0; i < json_array_size(events); i++) {
        const char *p = json_string_value(json_array_get(events, i));
        if (!p)
            return bl_err_set(err, BL_EINVAL, "events[%zu]: not a string", i);
        if (bl_event_type_pattern_check(p, err) != 0)
            return bl_err_wrap(err, "events[%zu]", i);
        if (!(r->patterns[r->n_patterns++] = strdup(p)))
            return bl_err_set(err, BL_ENOMEM, "out of memory");
    }
    r->condition = bl_tx_expr_from_conditions(json_object_get(spec, "conditions"), err);
    if (!r->condition)
        return bl_err_wrap(err, "conditions");
    const char *action = json_string_value(json_object_get(spec, "action"));
    if (!action)
        return bl_err_set(err, BL_EINVAL, "action: a string is required");
    if (!table_has_action(table, action))
        return bl_err_set(err, BL_EINVAL, "action: \"%s\" is not an action of connector %s", action,
                          table->name);
    if (!(r->action = strdup(action)))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    const json_t *tmpl = json_object_get(spec, "template");
    if (tmpl && !json_is_object(tmpl))
        return bl_err_set(err, BL_EINVAL, "template: an object of field templates is required");
    size_t n = tmpl ? json_object_size(tmpl) : 0;
    r->names = calloc(n + 1, sizeof *r->names);
    r->templates = calloc(n + 1, sizeof *r->templates);
    r->escapes = calloc(n + 1, sizeof *r->escapes);
    if (!r->names || !r->templates || !r->escapes)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)tmpl, key, value) {
        const bl_connector_field *f = table_field(table, action, key);
        if (!f)
            return bl_err_set(err, BL_EINVAL, "template.%s: not a field of action %s", key, action);
        if (!json_is_string(value))
            return bl_err_set(err, BL_EINVAL, "template.%s: not a string", key);
        if (bl_template_check(json_string_value(value), (const char *const *)r->patterns, r->n_patterns,
                              known, known_ctx, err) != 0)
            return bl_err_wrap(err, "template.%s", key);
        r->names[r->n_fields] = strdup(key);
        r->templates[r->n_fields] = strdup(json_string_value(value));
        r->escapes[r->n_fields] = f->escape;
        r->n_fields++;
        if (!r->names[r->n_fields - 1] || !r->templates[r->n_fields - 1])
            return bl_err_set(err, BL_ENOMEM, "out of memory");
    }
    for (const bl_connector_field *f = table->fields; f && f->name; f++) {
        if (!f->required || (f->action && strcmp(f->action, action) != 0))
            continue;
        if (!json_object_get(tmpl, f->name))
            return bl_err_set(err, BL_EINVAL, "template.%s: required by action %s", f->name, action);
    }
    return 0;
}

bl_mapping *bl_mapping_new(const json_t *rules, const bl_connector_table *table,
                           bl_mapping_field_known_fn known, void *known_ctx, bl_err *err)
{
    if (!json_is_array(rules)) {
        bl_err_set(err, BL_EINVAL, "rules: an array is required");
        return NULL;
    }
    if (json_array_size(rules) > BL_MAPPING_MAX_RULES) {
        bl_err_set(err, BL_EINVAL, "rules: at most %d", BL_MAPPING_MAX_RULES);
        return NULL;
    }
    bl_mapping *m = calloc(1, sizeof *m);
    if (m)
        m->rules = calloc(json_array_size(rules) + 1, sizeof *m->rules);
    if (!m || !m->rules) {
        free(m);
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    m->table = table;
    for (size_t i = 0; i < json_array_size(rules); i++) {
        m->n++;
        if (rule_compile(&m->rules[i], json_array_get(rules, i), table, known, known_ctx, err) != 0) {
            bl_err_wrap(err, "rule %zu", i + 1);
            bl_mapping_free(m);
            return NULL;
        }
    }
    return m;
}

size_t bl_mapping_rule_count(const bl_mapping *m)
{
    return m ? m->n : 0;
}

int bl_mapping_match(const bl_mapping *m, size_t from, const char *type, const json_t *event)
{
    for (size_t i = from; m && i < m->n; i++) {
        const rule *r = &m->rules[i];
        bool typed = false;
        for (size_t p = 0; p < r->n_patterns && !typed; p++)
            typed = bl_event_type_matches(r->patterns[p], type);
        bool holds = false;
        if (typed && bl_tx_expr_test(r->condition, &(bl_tx_scope){.root = event}, &holds, NULL) == 0 && holds)
            return (int)i;
    }
    return -1;
}

const char *bl_mapping_action(const bl_mapping *m, size_t i)
{
    return i < m->n ? m->rules[i].action : NULL;
}

void bl_mapping_rendered_clear(bl_mapping_rendered *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free((char *)r->fields[i].value);
    free(r->fields);
    r->fields = NULL;
    r->n = 0;
}

int bl_mapping_render(const bl_mapping *m, size_t i, const json_t *event, bl_mapping_rendered *out,
                      bl_err *err)
{
    out->n = 0;
    out->fields = NULL;
    if (i >= m->n)
        return bl_err_set(err, BL_EINVAL, "mapping: no rule %zu", i);
    const rule *r = &m->rules[i];
    out->fields = calloc(r->n_fields + 1, sizeof *out->fields);
    if (!out->fields)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    for (size_t f = 0; f < r->n_fields; f++) {
        char *v = bl_template_render(r->templates[f], event, r->escapes[f], err);
        if (!v) {
            bl_err_wrap(err, "template.%s", r->names[f]);
            bl_mapping_rendered_clear(out);
            return -1;
        }
        out->fields[out->n++] = (bl_connector_field_value){.name = r->names[f], .value = v};
    }
    return 0;
}
