/* Paths of the expression language: walking them (every source and every
 * condition's field goes through here, the integration mapping's lookups
 * too), writing and deleting at a target, and conditions of the event-filter
 * form turned into expressions. */
#include "connectors/transform/expr_internal.h"

#include "consumers/event_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t len)
{
    if (len == 0 || len > 9)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* One step of a walk that is not a wildcard; borrowed result or NULL. */
static const json_t *step(const json_t *node, const tx_seg *seg)
{
    switch (seg->kind) {
    case TX_SEG_NAME:
        if (json_is_object(node))
            return json_object_get(node, seg->name);
        if (json_is_array(node) && all_digits(seg->name, strlen(seg->name)))
            return json_array_get(node, (size_t)strtoul(seg->name, NULL, 10));
        return NULL;
    case TX_SEG_KEY:
        return json_is_object(node) ? json_object_get(node, seg->name) : NULL;
    case TX_SEG_INDEX: {
        if (!json_is_array(node))
            return NULL;
        long size = (long)json_array_size(node), i = seg->index < 0 ? size + seg->index : seg->index;
        return i >= 0 && i < size ? json_array_get(node, (size_t)i) : NULL;
    }
    case TX_SEG_WILD:
        break;
    }
    return NULL;
}

static int gather(json_t *list, const json_t *v, bl_err *err)
{
    if (json_array_size(list) >= BL_TX_VALUE_ITEMS_MAX)
        return bl_err_set(err, BL_EINVAL, "path: reaches more than %d values", BL_TX_VALUE_ITEMS_MAX);
    return json_array_append(list, (json_t *)v) == 0 ? 0 : bl_err_set(err, BL_ENOMEM, "out of memory");
}

/* Every child of v (array elements, object values) into list. */
static int gather_children(json_t *list, const json_t *v, bl_err *err)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (gather(list, json_array_get(v, i), err) != 0)
                return -1;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            if (gather(list, child, err) != 0)
                return -1;
        }
    }
    return 0;
}

/* True when a segment at or after from is a wildcard. */
static bool has_wildcard(const tx_node *path, size_t from)
{
    for (size_t s = from; s < path->n_segs; s++)
        if (path->segs[s].kind == TX_SEG_WILD)
            return true;
    return false;
}

/* A wildcard path that met nothing still gives an array: an empty one. */
static int empty_list(json_t **out, bool *owned, bl_err *err)
{
    if (!(*out = json_array()))
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    *owned = true;
    return 0;
}

int bl_tx_path_walk(const tx_node *path, const json_t *base, json_t **out, bool *owned, bl_err *err)
{
    const json_t *cur = base;
    json_t *list = NULL;
    *out = NULL;
    *owned = false;
    for (size_t s = 0; s < path->n_segs; s++) {
        const tx_seg *seg = &path->segs[s];
        if (!list) {
            if (seg->kind != TX_SEG_WILD) {
                if (!(cur = step(cur, seg)))
                    return has_wildcard(path, s) ? empty_list(out, owned, err) : 0;
                continue;
            }
            if (!(list = json_array()))
                return bl_err_set(err, BL_ENOMEM, "out of memory");
            if (gather_children(list, cur, err) != 0)
                goto fail;
            continue;
        }
        json_t *next = json_array();
        if (!next)
            goto oom;
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *item = json_array_get(list, i);
            int rc = 0;
            if (seg->kind == TX_SEG_WILD) {
                rc = gather_children(next, item, err);
            } else {
                const json_t *v = step(item, seg);
                rc = v ? gather(next, v, err) : 0;
            }
            if (rc != 0) {
                json_decref(next);
                goto fail;
            }
        }
        json_decref(list);
        list = next;
    }
    if (list) {
        *out = list;
        *owned = true;
    } else {
        *out = (json_t *)cur;
    }
    return 0;
oom:
    bl_err_set(err, BL_ENOMEM, "out of memory");
fail:
    json_decref(list);
    return -1;
}

const json_t *bl_tx_path_lookup(const json_t *root, const char *path, size_t len)
{
    const json_t *node = root;
    size_t i = 0;
    while (node && i < len) {
        const char *dot = memchr(path + i, '.', len - i);
        size_t seg_len = dot ? (size_t)(dot - (path + i)) : len - i;
        if (seg_len == 0 || seg_len > BL_EVENT_FIELD_PATH_MAX)
            return NULL;
        char name[BL_EVENT_FIELD_PATH_MAX + 1];
        memcpy(name, path + i, seg_len);
        name[seg_len] = '\0';
        if (strlen(name) != seg_len)
            return NULL;
        tx_seg seg = {.kind = TX_SEG_NAME, .name = name};
        node = step(node, &seg);
        i += seg_len + (dot ? 1 : 0);
        if (dot && i == len)
            break; /* "a." reads as "a", like bl_event_field_lookup */
    }
    return node;
}

/* The text of the first n segments of path ("$.a['b'][0]"), for messages. */
static void path_text(const tx_node *path, size_t n, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "%c", path->from_current ? '@' : '$');
    for (size_t s = 0; s < n && o < cap; s++) {
        const tx_seg *seg = &path->segs[s];
        int w = 0;
        if (seg->kind == TX_SEG_NAME)
            w = snprintf(out + o, cap - o, ".%s", seg->name);
        else if (seg->kind == TX_SEG_KEY)
            w = snprintf(out + o, cap - o, "['%s']", seg->name);
        else if (seg->kind == TX_SEG_INDEX)
            w = snprintf(out + o, cap - o, "[%ld]", seg->index);
        else
            w = snprintf(out + o, cap - o, "[*]");
        o += w > 0 ? (size_t)w : 0;
    }
}

int bl_tx_target_check(const bl_tx_expr *target, bl_err *err)
{
    if (!bl_tx_expr_is_path(target))
        return bl_err_set(err, BL_EINVAL, "target: a path ($.a.b) is required");
    const tx_node *p = target->root;
    if (p->from_current)
        return bl_err_set(err, BL_EINVAL, "target: starts at $, not @");
    for (size_t s = 0; s < p->n_segs; s++)
        if (p->segs[s].kind == TX_SEG_WILD)
            return bl_err_set(err, BL_EINVAL, "target: a wildcard [*] names no single place");
    return 0;
}

/* The array index seg names in arr for writing: 0..size (size appends), or -1. */
static long write_index(const json_t *arr, const tx_seg *seg)
{
    long size = (long)json_array_size(arr), i = -1;
    if (seg->kind == TX_SEG_INDEX)
        i = seg->index < 0 ? size + seg->index : seg->index;
    else if (seg->kind == TX_SEG_NAME && all_digits(seg->name, strlen(seg->name)))
        i = strtol(seg->name, NULL, 10);
    return i >= 0 && i <= size ? i : -1;
}

int bl_tx_path_set(const bl_tx_expr *target, json_t **doc, json_t *value, bl_err *err)
{
    char where[256];
    if (!value)
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    if (bl_tx_target_check(target, err) != 0) {
        json_decref(value);
        return -1;
    }
    const tx_node *p = target->root;
    if (p->n_segs == 0) {
        json_decref(*doc);
        *doc = value;
        return 0;
    }
    if (!*doc || json_is_null(*doc)) {
        json_decref(*doc);
        if (!(*doc = p->segs[0].kind == TX_SEG_INDEX ? json_array() : json_object())) {
            json_decref(value);
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        }
    }
    json_t *node = *doc;
    for (size_t s = 0; s < p->n_segs; s++) {
        const tx_seg *seg = &p->segs[s];
        bool last = s + 1 == p->n_segs;
        json_t *child = NULL;
        if (json_is_object(node) && seg->kind != TX_SEG_INDEX) {
            if (last)
                return json_object_set_new(node, seg->name, value) == 0 ? 0 : bl_err_set(err, BL_ENOMEM, "out of memory");
            child = json_object_get(node, seg->name);
            if (!child || json_is_null(child)) {
                child = p->segs[s + 1].kind == TX_SEG_INDEX ? json_array() : json_object();
                if (!child || json_object_set_new(node, seg->name, child) != 0) {
                    json_decref(value);
                    return bl_err_set(err, BL_ENOMEM, "out of memory");
                }
            }
        } else if (json_is_array(node) && seg->kind != TX_SEG_KEY) {
            long i = write_index(node, seg);
            if (i < 0) {
                path_text(p, s + 1, where, sizeof where);
                json_decref(value);
                return bl_err_set(err, BL_EINVAL, "target %s: index out of range (the array has %zu items)", where,
                                  json_array_size(node));
            }
            bool append = (size_t)i == json_array_size(node);
            if (last) {
                int rc = append ? json_array_append_new(node, value) : json_array_set_new(node, (size_t)i, value);
                return rc == 0 ? 0 : bl_err_set(err, BL_ENOMEM, "out of memory");
            }
            child = append ? NULL : json_array_get(node, (size_t)i);
            if (!child || json_is_null(child)) {
                child = p->segs[s + 1].kind == TX_SEG_INDEX ? json_array() : json_object();
                int rc = !child ? -1 : append ? json_array_append_new(node, child) : json_array_set_new(node, (size_t)i, child);
                if (rc != 0) {
                    json_decref(value);
                    return bl_err_set(err, BL_ENOMEM, "out of memory");
                }
            }
        } else {
            path_text(p, s, where, sizeof where);
            const char *is = json_is_array(node) ? "an array" : json_is_object(node) ? "an object" : "a scalar";
            json_decref(value);
            return bl_err_set(err, BL_EINVAL, "target: %s is %s, so it has no %s", where, is,
                              seg->kind == TX_SEG_KEY || !json_is_array(node) ? "fields" : "index");
        }
        node = child;
    }
    json_decref(value);
    return 0;
}

int bl_tx_path_delete(const bl_tx_expr *target, json_t *doc, bl_err *err)
{
    if (bl_tx_target_check(target, err) != 0)
        return -1;
    const tx_node *p = target->root;
    if (p->n_segs == 0)
        return bl_err_set(err, BL_EINVAL, "target: $ alone cannot be deleted");
    json_t *node = doc;
    for (size_t s = 0; node && s + 1 < p->n_segs; s++)
        node = (json_t *)step(node, &p->segs[s]);
    const tx_seg *last = &p->segs[p->n_segs - 1];
    if (json_is_object(node) && last->kind != TX_SEG_INDEX) {
        json_object_del(node, last->name);
    } else if (json_is_array(node)) {
        long i = write_index(node, last);
        if (i >= 0 && (size_t)i < json_array_size(node))
            json_array_remove(node, (size_t)i);
    }
    return 0;
}

/* A $ path of the dot path's segments (names as they are: '-' allowed). */
static tx_node *dot_path_node(const char *field, bl_err *err)
{
    tx_node *n = bl_tx_node_new(TX_PATH, 0);
    if (!n)
        goto oom;
    for (const char *p = field; *p;) {
        size_t len = strcspn(p, ".");
        tx_seg *segs = realloc(n->segs, (n->n_segs + 1) * sizeof *segs);
        if (!segs)
            goto oom;
        n->segs = segs;
        n->segs[n->n_segs] = (tx_seg){.kind = TX_SEG_NAME, .name = strndup(p, len)};
        if (!n->segs[n->n_segs++].name)
            goto oom;
        p += len + (p[len] == '.');
    }
    return n;
oom:
    bl_tx_node_free(n);
    bl_err_set(err, BL_ENOMEM, "out of memory");
    return NULL;
}

bl_tx_expr *bl_tx_expr_from_conditions(const json_t *conditions, bl_err *err)
{
    bl_event_filter *check = bl_event_filter_new(conditions, err);
    if (!check)
        return NULL;
    bl_event_filter_free(check);
    bl_tx_expr *e = calloc(1, sizeof *e);
    tx_node *all = bl_tx_node_new(TX_LIT, 0);
    if (!e || !all || !(all->lit = json_true()))
        goto oom;
    size_t i;
    const json_t *c;
    json_array_foreach(conditions, i, c) {
        tx_node *f = bl_tx_node_new(TX_FILTER, 0);
        if (!f)
            goto oom;
        f->op = bl_event_condition_op(json_string_value(json_object_get(c, "operator")));
        f->lit = json_incref(json_object_get(c, "value"));
        if (!(f->a = dot_path_node(json_string_value(json_object_get(c, "field")), err))) {
            bl_tx_node_free(f);
            goto fail;
        }
        if (i == 0) {
            bl_tx_node_free(all);
            all = f;
            continue;
        }
        tx_node *and = bl_tx_node_new(TX_AND, 0);
        if (!and) {
            bl_tx_node_free(f);
            goto oom;
        }
        and->a = all;
        and->b = f;
        all = and;
    }
    e->source = conditions ? json_dumps(conditions, JSON_COMPACT) : strdup("[]");
    if (!e->source)
        goto oom;
    e->root = all;
    return e;
oom:
    bl_err_set(err, BL_ENOMEM, "out of memory");
fail:
    bl_tx_node_free(all);
    free(e);
    return NULL;
}
