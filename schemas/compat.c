#include "schemas/compat.h"

#include "schemas/schema_names.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Records being compared right now, as (reader, writer) definitions: meeting
 * a pair again means a recursive type, which is taken as compatible so far
 * (the rest of the comparison decides). Deeper than this is refused. */
#define MAX_IN_PROGRESS 128
/* Unions inside unions are tried branch by branch; this bounds the work a
 * hostile pair of schemas can cause. */
#define MAX_STEPS 1000000L
#define PATH_MAX_LEN 512

typedef struct parsed_schema {
    json_t *root;
    bl_schema_names *names;
} parsed_schema;

typedef struct checker {
    const bl_schema_names *reader;
    const bl_schema_names *writer;
    /* NULL while trying a union branch: only the verdict matters then. */
    bl_compat_reasons *reasons;
    /* Where we are, as reader field names joined by '.', "[]" for array
     * items and "{}" for map values: "data.items[].sku". */
    char path[PATH_MAX_LEN];
    size_t path_len;
    const json_t *in_progress[MAX_IN_PROGRESS][2];
    size_t depth;
    long steps;
    bl_err *err;
} checker;

void bl_compat_reasons_free(bl_compat_reasons *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        free(r->items[i]);
    *r = (bl_compat_reasons){0};
}

char *bl_compat_reasons_join(const bl_compat_reasons *r, const char *sep)
{
    size_t total = 1, seplen = strlen(sep);
    for (size_t i = 0; i < r->count; i++)
        total += strlen(r->items[i]) + seplen;
    char *out = malloc(total);
    if (!out)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (i) {
            memcpy(out + len, sep, seplen);
            len += seplen;
        }
        size_t n = strlen(r->items[i]);
        memcpy(out + len, r->items[i], n);
        len += n;
    }
    out[len] = '\0';
    return out;
}

/* Takes ownership of text (NULL = out of memory, dropped). */
static void reasons_take(bl_compat_reasons *r, char *text)
{
    if (!text)
        return;
    if (r->count < BL_COMPAT_REASONS_MAX) {
        r->items[r->count++] = text;
    } else {
        r->dropped++;
        free(text);
    }
}

static void add_reason(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_reason(checker *c, const char *fmt, ...)
{
    if (!c->reasons)
        return;
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    reasons_take(c->reasons, text);
}

static const struct {
    bl_compat_mode mode;
    const char *name;
} MODES[] = {
    {BL_COMPAT_NONE, "NONE"},
    {BL_COMPAT_BACKWARD, "BACKWARD"},
    {BL_COMPAT_BACKWARD_TRANSITIVE, "BACKWARD_TRANSITIVE"},
    {BL_COMPAT_FORWARD, "FORWARD"},
    {BL_COMPAT_FORWARD_TRANSITIVE, "FORWARD_TRANSITIVE"},
    {BL_COMPAT_FULL, "FULL"},
    {BL_COMPAT_FULL_TRANSITIVE, "FULL_TRANSITIVE"},
};

int bl_compat_mode_parse(const char *text, bl_compat_mode *out, bl_err *err)
{
    for (size_t i = 0; text && i < sizeof MODES / sizeof MODES[0]; i++) {
        if (strcasecmp(text, MODES[i].name) == 0) {
            *out = MODES[i].mode;
            return 0;
        }
    }
    return bl_err_set(err, BL_EINVAL, "compat: unknown compatibility mode '%s'", text ? text : "(null)");
}

const char *bl_compat_mode_name(bl_compat_mode mode)
{
    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++)
        if (MODES[i].mode == mode)
            return MODES[i].name;
    return "UNKNOWN";
}

/* "field 'a.b'" or "top-level schema", for the start of a reason. */
static const char *where(const checker *c, char *buf, size_t len)
{
    if (c->path_len == 0)
        snprintf(buf, len, "top-level schema");
    else
        snprintf(buf, len, "field '%s'", c->path);
    return buf;
}

/* " (field 'a.b')" or "", for the end of a reason about a named type. */
static const char *where_suffix(const checker *c, char *buf, size_t len)
{
    if (c->path_len == 0)
        buf[0] = '\0';
    else
        snprintf(buf, len, " (field '%s')", c->path);
    return buf;
}

static size_t path_push(checker *c, const char *sep, const char *part)
{
    size_t saved = c->path_len;
    int n = snprintf(c->path + saved, sizeof c->path - saved, "%s%s", saved ? sep : "", part);
    if (n > 0)
        c->path_len = saved + (size_t)n < sizeof c->path ? saved + (size_t)n : sizeof c->path - 1;
    return saved;
}

static void path_pop(checker *c, size_t saved)
{
    c->path_len = saved;
    c->path[saved] = '\0';
}

static const char *describe(const bl_schema_node *n)
{
    return n->fullname ? n->fullname : bl_schema_kind_name(n->kind);
}

static int is_promotion(bl_schema_kind reader, bl_schema_kind writer)
{
    switch (writer) {
    case BL_SCHEMA_INT:
        return reader == BL_SCHEMA_LONG || reader == BL_SCHEMA_FLOAT || reader == BL_SCHEMA_DOUBLE;
    case BL_SCHEMA_LONG:
        return reader == BL_SCHEMA_FLOAT || reader == BL_SCHEMA_DOUBLE;
    case BL_SCHEMA_FLOAT:
        return reader == BL_SCHEMA_DOUBLE;
    case BL_SCHEMA_STRING:
        return reader == BL_SCHEMA_BYTES;
    case BL_SCHEMA_BYTES:
        return reader == BL_SCHEMA_STRING;
    default:
        return 0;
    }
}

/* Named types match by unqualified name, or when one of the reader's aliases
 * names the writer (also compared unqualified, like the names themselves). */
static int names_match(const bl_schema_node *r, const bl_schema_node *w)
{
    const char *wname = bl_schema_unqualified(w->fullname);
    if (strcmp(bl_schema_unqualified(r->fullname), wname) == 0)
        return 1;
    size_t i;
    json_t *alias;
    json_array_foreach(json_object_get(r->def, "aliases"), i, alias) {
        if (json_is_string(alias) && strcmp(bl_schema_unqualified(json_string_value(alias)), wname) == 0)
            return 1;
    }
    return 0;
}

static int check(checker *c, json_t *r, const char *rns, json_t *w, const char *wns);

/* Folds one sub-result into an overall verdict: -1 wins, then 0. */
static int combine(int verdict, int sub)
{
    if (verdict < 0 || sub < 0)
        return -1;
    return verdict && sub;
}

static json_t *find_writer_field(json_t *writer_fields, json_t *reader_field)
{
    const char *name = json_string_value(json_object_get(reader_field, "name"));
    size_t i, j;
    json_t *wf, *alias;
    json_array_foreach(writer_fields, i, wf) {
        if (strcmp(json_string_value(json_object_get(wf, "name")), name) == 0)
            return wf;
    }
    json_array_foreach(json_object_get(reader_field, "aliases"), j, alias) {
        if (!json_is_string(alias))
            continue;
        json_array_foreach(writer_fields, i, wf) {
            if (strcmp(json_string_value(json_object_get(wf, "name")), json_string_value(alias)) == 0)
                return wf;
        }
    }
    return NULL;
}

static int check_record_fields(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    json_t *writer_fields = json_object_get(w->def, "fields");
    int verdict = 1;
    size_t i;
    json_t *rf;
    json_array_foreach(json_object_get(r->def, "fields"), i, rf) {
        size_t saved = path_push(c, ".", json_string_value(json_object_get(rf, "name")));
        json_t *wf = find_writer_field(writer_fields, rf);
        if (wf) {
            verdict = combine(verdict, check(c, json_object_get(rf, "type"), r->ns,
                                             json_object_get(wf, "type"), w->ns));
        } else if (!json_object_get(rf, "default")) {
            add_reason(c, "field '%s' (reader) has no default and is absent in the writer", c->path);
            verdict = combine(verdict, 0);
        }
        path_pop(c, saved);
        if (verdict < 0 || (verdict == 0 && !c->reasons))
            break;
    }
    return verdict;
}

static int check_record(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    for (size_t i = 0; i < c->depth; i++)
        if (c->in_progress[i][0] == r->def && c->in_progress[i][1] == w->def)
            return 1;
    if (c->depth == MAX_IN_PROGRESS)
        return bl_err_set(c->err, BL_EINVAL, "compat: records nested deeper than %d levels",
                          MAX_IN_PROGRESS);
    c->in_progress[c->depth][0] = r->def;
    c->in_progress[c->depth][1] = w->def;
    c->depth++;
    int verdict = check_record_fields(c, r, w);
    c->depth--;
    return verdict;
}

static int check_enum(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    json_t *reader_symbols = json_object_get(r->def, "symbols");
    int has_default = json_object_get(r->def, "default") != NULL;
    int verdict = 1;
    size_t i, j;
    json_t *ws, *rs;
    json_array_foreach(json_object_get(w->def, "symbols"), i, ws) {
        int known = 0;
        json_array_foreach(reader_symbols, j, rs) known |= json_equal(rs, ws);
        if (known || has_default)
            continue;
        char suffix[PATH_MAX_LEN + 16];
        add_reason(c, "enum %s: writer symbol '%s' unknown to the reader, which has no default%s",
                   r->fullname, json_string_value(ws), where_suffix(c, suffix, sizeof suffix));
        verdict = 0;
        if (!c->reasons)
            break;
    }
    return verdict;
}

static int check_fixed(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    json_int_t rsize = json_integer_value(json_object_get(r->def, "size"));
    json_int_t wsize = json_integer_value(json_object_get(w->def, "size"));
    if (rsize == wsize)
        return 1;
    char suffix[PATH_MAX_LEN + 16];
    add_reason(c, "fixed %s: size %lld (reader) differs from %lld (writer)%s", r->fullname,
               (long long)rsize, (long long)wsize, where_suffix(c, suffix, sizeof suffix));
    return 0;
}

static int check_named(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    if (!names_match(r, w)) {
        char suffix[PATH_MAX_LEN + 16];
        add_reason(c, "%s %s (reader) does not match %s (writer) by name or alias%s",
                   bl_schema_kind_name(r->kind), r->fullname, w->fullname,
                   where_suffix(c, suffix, sizeof suffix));
        return 0;
    }
    if (r->kind == BL_SCHEMA_RECORD)
        return check_record(c, r, w);
    if (r->kind == BL_SCHEMA_ENUM)
        return check_enum(c, r, w);
    return check_fixed(c, r, w);
}

/* Every branch the writer may have written must be readable. */
static int check_writer_union(checker *c, json_t *r, const char *rns, const bl_schema_node *w)
{
    int verdict = 1;
    size_t i;
    json_t *branch;
    json_array_foreach(w->def, i, branch) {
        verdict = combine(verdict, check(c, r, rns, branch, w->ns));
        if (verdict < 0 || (verdict == 0 && !c->reasons))
            break;
    }
    return verdict;
}

/* The branch whose failure explains the most: same kind and, for named
 * types, same name (a record that changed incompatibly inside a union). */
static json_t *closest_branch(checker *c, const bl_schema_node *r, const bl_schema_node *w)
{
    size_t i;
    json_t *branch;
    json_array_foreach(r->def, i, branch) {
        bl_schema_node rb;
        if (bl_schema_names_resolve(c->reader, branch, r->ns, &rb, c->err) != 0)
            return NULL;
        if (rb.kind != w->kind)
            continue;
        if (!rb.fullname || names_match(&rb, w))
            return branch;
    }
    return NULL;
}

/* Some reader branch must read what the (non-union) writer wrote. */
static int check_reader_union(checker *c, const bl_schema_node *r, json_t *w, const char *wns,
                              const bl_schema_node *wn)
{
    bl_compat_reasons *reasons = c->reasons;
    c->reasons = NULL;
    int verdict = 0;
    size_t i;
    json_t *branch;
    json_array_foreach(r->def, i, branch) {
        verdict = check(c, branch, r->ns, w, wns);
        if (verdict != 0)
            break;
    }
    c->reasons = reasons;
    if (verdict != 0 || !reasons)
        return verdict;
    json_t *closest = closest_branch(c, r, wn);
    if (closest)
        return check(c, closest, r->ns, w, wns);
    char buf[PATH_MAX_LEN + 32];
    add_reason(c, "%s: no branch of the reader union can read writer type %s",
               where(c, buf, sizeof buf), describe(wn));
    return 0;
}

static int check(checker *c, json_t *r, const char *rns, json_t *w, const char *wns)
{
    if (++c->steps > MAX_STEPS)
        return bl_err_set(c->err, BL_EINVAL, "compat: schemas too complex to compare (more than %ld steps)",
                          MAX_STEPS);
    bl_schema_node rn, wn;
    if (bl_schema_names_resolve(c->reader, r, rns, &rn, c->err) != 0 ||
        bl_schema_names_resolve(c->writer, w, wns, &wn, c->err) != 0)
        return -1;
    if (wn.kind == BL_SCHEMA_UNION)
        return check_writer_union(c, r, rns, &wn);
    if (rn.kind == BL_SCHEMA_UNION)
        return check_reader_union(c, &rn, w, wns, &wn);
    if (rn.kind == wn.kind) {
        size_t saved;
        int verdict;
        switch (rn.kind) {
        case BL_SCHEMA_RECORD:
        case BL_SCHEMA_ENUM:
        case BL_SCHEMA_FIXED:
            return check_named(c, &rn, &wn);
        case BL_SCHEMA_ARRAY:
        case BL_SCHEMA_MAP: {
            const char *key = rn.kind == BL_SCHEMA_ARRAY ? "items" : "values";
            saved = path_push(c, "", rn.kind == BL_SCHEMA_ARRAY ? "[]" : "{}");
            verdict = check(c, json_object_get(rn.def, key), rn.ns, json_object_get(wn.def, key), wn.ns);
            path_pop(c, saved);
            return verdict;
        }
        default:
            return 1;
        }
    }
    if (is_promotion(rn.kind, wn.kind))
        return 1;
    char buf[PATH_MAX_LEN + 32];
    add_reason(c, "%s: writer type %s cannot be read as %s", where(c, buf, sizeof buf), describe(&wn),
               describe(&rn));
    return 0;
}

static void parsed_free(parsed_schema *p)
{
    bl_schema_names_free(p->names);
    json_decref(p->root);
    *p = (parsed_schema){0};
}

static int parsed_load(parsed_schema *p, const char *text, const char *what, bl_err *err)
{
    *p = (parsed_schema){0};
    p->root = bl_schema_json_parse(text, what, err);
    if (!p->root)
        return bl_err_wrap(err, "compat");
    p->names = bl_schema_names_build(p->root, err);
    if (!p->names) {
        parsed_free(p);
        return bl_err_wrap(err, "compat: %s", what);
    }
    return 0;
}

static int judge(const parsed_schema *reader, const parsed_schema *writer, bl_compat_reasons *reasons,
                 bl_err *err)
{
    checker *c = calloc(1, sizeof *c);
    if (!c)
        return bl_err_set(err, BL_ENOMEM, "compat: out of memory");
    c->reader = reader->names;
    c->writer = writer->names;
    c->reasons = reasons;
    c->err = err;
    int verdict = check(c, reader->root, "", writer->root, "");
    free(c);
    return verdict;
}

int bl_compat_can_read(const char *reader_json, const char *writer_json,
                       bl_compat_reasons *reasons_out, bl_err *err)
{
    parsed_schema reader, writer = {0};
    int verdict = -1;
    if (parsed_load(&reader, reader_json, "reader schema", err) != 0 ||
        parsed_load(&writer, writer_json, "writer schema", err) != 0)
        goto done;
    verdict = judge(&reader, &writer, reasons_out, err);
done:
    parsed_free(&reader);
    parsed_free(&writer);
    return verdict;
}

/* Judges one direction and moves its reasons into out behind a prefix. */
static int judge_into(const parsed_schema *reader, const parsed_schema *writer, const char *prefix,
                      bl_compat_reasons *out, bl_err *err)
{
    bl_compat_reasons found = {0};
    int verdict = judge(reader, writer, out ? &found : NULL, err);
    for (size_t i = 0; out && i < found.count; i++) {
        char *text = NULL;
        if (asprintf(&text, "%s: %s", prefix, found.items[i]) < 0)
            text = NULL;
        reasons_take(out, text);
    }
    if (out)
        out->dropped += found.dropped;
    bl_compat_reasons_free(&found);
    return verdict;
}

int bl_compat_check(bl_compat_mode mode, const char *new_json, const char *const *previous,
                    size_t n, bl_compat_reasons *reasons, bl_err *err)
{
    int backward = mode == BL_COMPAT_BACKWARD || mode == BL_COMPAT_BACKWARD_TRANSITIVE ||
                   mode == BL_COMPAT_FULL || mode == BL_COMPAT_FULL_TRANSITIVE;
    int forward = mode == BL_COMPAT_FORWARD || mode == BL_COMPAT_FORWARD_TRANSITIVE ||
                  mode == BL_COMPAT_FULL || mode == BL_COMPAT_FULL_TRANSITIVE;
    int transitive = mode == BL_COMPAT_BACKWARD_TRANSITIVE || mode == BL_COMPAT_FORWARD_TRANSITIVE ||
                     mode == BL_COMPAT_FULL_TRANSITIVE;
    parsed_schema fresh;
    if (parsed_load(&fresh, new_json, "new schema", err) != 0)
        return -1;
    int verdict = 1;
    for (size_t i = transitive ? 0 : (n ? n - 1 : 0); i < n && (backward || forward); i++) {
        parsed_schema old;
        char what[64], prefix[96];
        snprintf(what, sizeof what, "previous #%zu of %zu", i + 1, n);
        if (parsed_load(&old, previous[i], what, err) != 0) {
            verdict = -1;
            break;
        }
        if (backward) {
            snprintf(prefix, sizeof prefix, "new schema cannot read %s", what);
            verdict = combine(verdict, judge_into(&fresh, &old, prefix, reasons, err));
        }
        if (forward && verdict >= 0) {
            snprintf(prefix, sizeof prefix, "%s cannot read the new schema", what);
            verdict = combine(verdict, judge_into(&old, &fresh, prefix, reasons, err));
        }
        parsed_free(&old);
        if (verdict < 0)
            break;
    }
    parsed_free(&fresh);
    return verdict;
}
