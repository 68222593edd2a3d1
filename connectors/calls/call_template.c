/* {placeholders} of a call's URL, headers and bodies, filled from the input
 * of a run; the URL template's check at compile. */
#include "connectors/calls/call_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 128

const json_t *bl_call_input_at(const json_t *input, const char *path, size_t path_len)
{
    if (path_len == 0)
        return NULL;
    const json_t *cur = input;
    size_t i = 0;
    while (cur && i < path_len) {
        size_t j = i;
        while (j < path_len && path[j] != '.')
            j++;
        char part[PATH_MAX_LEN + 1];
        if (j - i == 0 || j - i > PATH_MAX_LEN)
            return NULL;
        memcpy(part, path + i, j - i);
        part[j - i] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, part);
        } else if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(part, &end, 10);
            cur = (*end || !isdigit((unsigned char)part[0])) ? NULL : json_array_get(cur, idx);
        } else {
            return NULL;
        }
        i = j + 1;
    }
    return cur;
}

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_encoded(buf *b, const char *s, size_t n, bool url_encode)
{
    if (!url_encode) {
        put(b, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            put(b, (const char *)&ch, 1);
        } else {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", ch);
            put(b, esc, 3);
        }
    }
}

char *bl_call_fill_text(const char *tmpl, const json_t *input, bool url_encode, bl_err *err)
{
    buf b = {0};
    const char *p = tmpl;
    put(&b, "", 0);
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            put(&b, p, strlen(p));
            break;
        }
        put(&b, p, (size_t)(open - p));
        const char *close = strchr(open + 1, '}');
        if (!close) {
            put(&b, open, strlen(open));
            break;
        }
        size_t n = (size_t)(close - open - 1);
        if (n == 0) { /* "{}" names nothing: kept as it is */
            put(&b, "{}", 2);
            p = close + 1;
            continue;
        }
        const json_t *v = bl_call_input_at(input, open + 1, n);
        if (!v || json_is_null(v) || json_is_object(v) || json_is_array(v)) {
            free(b.p);
            bl_err_set(err, BL_EINVAL, "input: {%.*s} %s", (int)(n > 64 ? 64 : n), open + 1,
                       v && !json_is_null(v) ? "is not a string, number or boolean" : "has no value");
            return NULL;
        }
        if (json_is_string(v)) {
            put_encoded(&b, json_string_value(v), json_string_length(v), url_encode);
        } else {
            char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (t)
                put_encoded(&b, t, strlen(t), url_encode);
            else
                b.oom = true;
            free(t);
        }
        p = close + 1;
    }
    if (b.oom) {
        free(b.p);
        bl_err_set(err, BL_ENOMEM, "input: out of memory");
        return NULL;
    }
    return b.p;
}

json_t *bl_call_fill_json(const json_t *tmpl, const json_t *input, bl_err *err)
{
    if (json_is_string(tmpl)) {
        const char *s = json_string_value(tmpl);
        size_t n = json_string_length(tmpl);
        if (n > 2 && s[0] == '{' && s[n - 1] == '}' && !memchr(s + 1, '{', n - 2) && !memchr(s + 1, '}', n - 2)) {
            const json_t *v = bl_call_input_at(input, s + 1, n - 2);
            if (!v) {
                bl_err_set(err, BL_EINVAL, "input: %.64s has no value", s);
                return NULL;
            }
            return json_deep_copy(v);
        }
        char *t = bl_call_fill_text(s, input, false, err);
        if (!t)
            return NULL;
        json_t *out = json_string(t);
        free(t);
        if (!out)
            bl_err_set(err, BL_EINVAL, "input: a filled value is not UTF-8");
        return out;
    }
    if (json_is_object(tmpl)) {
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)tmpl, k, v) {
            json_t *f = bl_call_fill_json(v, input, err);
            if (!f || json_object_set_new(out, k, f) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(tmpl)) {
        json_t *out = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(tmpl, i, v) {
            json_t *f = bl_call_fill_json(v, input, err);
            if (!f || json_array_append_new(out, f) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(tmpl);
}

int bl_call_check_url_template(const char *tmpl, const bl_ssrf_allowlist *allow, const char *field, bl_err *err)
{
    size_t n = strlen(tmpl);
    if (n > BL_SSRF_URL_MAX)
        return bl_err_set(err, BL_EINVAL, "%s: longer than %d characters", field, BL_SSRF_URL_MAX);
    const char *scheme_end = strstr(tmpl, "://");
    const char *path = scheme_end ? strpbrk(scheme_end + 3, "/?#") : NULL;
    const char *first_brace = strpbrk(tmpl, "{}");
    if (first_brace && (!path || first_brace < path))
        return bl_err_set(err, BL_EINVAL, "%s: placeholders are allowed in the path and query only", field);
    char *probe = malloc(n + 1);
    if (!probe)
        return bl_err_set(err, BL_ENOMEM, "%s: out of memory", field);
    size_t o = 0;
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (tmpl[i] == '{') {
            if (depth++) {
                free(probe);
                return bl_err_set(err, BL_EINVAL, "%s: nested '{'", field);
            }
        } else if (tmpl[i] == '}') {
            if (i > 0 && tmpl[i - 1] == '{') {
                free(probe);
                return bl_err_set(err, BL_EINVAL, "%s: empty placeholder '{}'", field);
            }
            if (!depth--) {
                free(probe);
                return bl_err_set(err, BL_EINVAL, "%s: '}' without '{'", field);
            }
            probe[o++] = 'x';
        } else if (!depth) {
            probe[o++] = tmpl[i];
        }
    }
    probe[o] = '\0';
    if (depth) {
        free(probe);
        return bl_err_set(err, BL_EINVAL, "%s: '{' without '}'", field);
    }
    bl_ssrf_target t;
    int rc = bl_ssrf_check_url(probe, allow, &t, err);
    free(probe);
    return rc == 0 ? 0 : bl_err_wrap(err, "%s", field);
}
