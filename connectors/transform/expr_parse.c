/* The expression language's tx_parser: text to the tree of expr_internal.h.
 * Recursive descent, lowest precedence first:
 *   cond   := or ('?' cond ':' cond)?
 *   or     := and ('||' and)*
 *   and    := eq ('&&' eq)*
 *   eq     := rel (('==' | '!=') rel)*
 *   rel    := add (('<' | '<=' | '>' | '>=' | 'in' | 'contains') add)*
 *   add    := mul (('+' | '-') mul)*
 *   mul    := unary (('*' | '/' | '%') unary)*
 *   unary  := ('!' | '-') unary | primary
 *   primary:= number | string | true | false | null | '[' list? ']'
 *           | name '(' list? ')' | path | '(' cond ')'
 *   path   := ('$' | '@') ('.' name | '[' (int | string | '*') ']')*
 * Depth is bounded (BL_TX_EXPR_DEPTH_MAX), so hostile text cannot exhaust
 * the stack. */
#include "connectors/transform/expr_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


static const char *const fn_names[] = {"length", "lower",  "upper", "concat", "coalesce", "round", "exists",
                                       "now",    "sum",    "min",   "max",    "string",   "number"};
#define FN_COUNT (sizeof fn_names / sizeof fn_names[0])

/* Arity per function: least, most (-1: any). */
static const int fn_arity[FN_COUNT][2] = {{1, 1}, {1, 1}, {1, 1}, {1, -1}, {1, -1}, {1, 2}, {1, 1},
                                          {0, 0}, {1, 1}, {1, 1}, {1, 1},  {1, 1},  {1, 1}};

const char *bl_tx_fn_name(tx_fn fn)
{
    return (size_t)fn < FN_COUNT ? fn_names[fn] : "?";
}

tx_node *bl_tx_node_new(tx_node_kind kind, size_t pos)
{
    tx_node *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->pos = pos;
    }
    return n;
}

void bl_tx_node_free(tx_node *n)
{
    if (!n)
        return;
    json_decref(n->lit);
    bl_tx_node_free(n->a);
    bl_tx_node_free(n->b);
    bl_tx_node_free(n->c);
    for (size_t i = 0; i < n->n_args; i++)
        bl_tx_node_free(n->args[i]);
    free(n->args);
    for (size_t i = 0; i < n->n_segs; i++)
        free(n->segs[i].name);
    free(n->segs);
    free(n);
}

static void skip_space(tx_parser *p)
{
    while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* True (and consumes it) when the text at i is op; words must end there. */
static bool take(tx_parser *p, const char *op)
{
    skip_space(p);
    size_t n = strlen(op);
    if (p->i + n > p->len || memcmp(p->s + p->i, op, n) != 0)
        return false;
    if (bl_tx_is_name_start(op[0]) && p->i + n < p->len && bl_tx_is_name_char(p->s[p->i + n]))
        return false;
    /* "<" is not the start of "<=", "!" not of "!=", "=" never stands alone */
    if (n == 1 && (op[0] == '<' || op[0] == '>' || op[0] == '!') && p->i + 1 < p->len && p->s[p->i + 1] == '=')
        return false;
    p->i += n;
    return true;
}

static tx_node *parse_cond(tx_parser *p);

static tx_node *binary(tx_node_kind kind, int op, size_t pos, tx_node *a, tx_node *b, tx_parser *p)
{
    tx_node *n = (a && b) ? bl_tx_node_new(kind, pos) : NULL;
    if (!n) {
        if (a && b)
            bl_err_set(p->err, BL_ENOMEM, "out of memory");
        bl_tx_node_free(a);
        bl_tx_node_free(b);
        return NULL;
    }
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static bool enter(tx_parser *p)
{
    if (++p->depth > BL_TX_EXPR_DEPTH_MAX) {
        bl_err_set(p->err, BL_EINVAL, "at offset %zu: nested deeper than %d", p->i, BL_TX_EXPR_DEPTH_MAX);
        return false;
    }
    return true;
}

static int add_seg(tx_parser *p, tx_node *n, tx_seg seg)
{
    if (n->n_segs >= BL_TX_PATH_SEGMENTS_MAX) {
        free(seg.name);
        return bl_err_set(p->err, BL_EINVAL, "at offset %zu: path longer than %d segments", p->i,
                          BL_TX_PATH_SEGMENTS_MAX);
    }
    tx_seg *segs = realloc(n->segs, (n->n_segs + 1) * sizeof *segs);
    if (!segs) {
        free(seg.name);
        return bl_err_set(p->err, BL_ENOMEM, "out of memory");
    }
    n->segs = segs;
    n->segs[n->n_segs++] = seg;
    return 0;
}

static tx_node *parse_path(tx_parser *p)
{
    tx_node *n = bl_tx_node_new(TX_PATH, p->i);
    if (!n) {
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    n->from_current = p->s[p->i] == '@';
    p->i++;
    for (;;) {
        /* no spaces inside a path: "$.a .b" is an error, not a path */
        if (p->i < p->len && p->s[p->i] == '.') {
            size_t start = ++p->i;
            if (p->i < p->len && p->s[p->i] == '*') {
                p->i++;
                if (add_seg(p, n, (tx_seg){.kind = TX_SEG_WILD}) != 0)
                    goto fail;
                continue;
            }
            while (p->i < p->len && bl_tx_is_name_char(p->s[p->i]))
                p->i++;
            if (p->i == start) {
                bl_tx_parse_fail(p, p->i, "expected a field name after '.'");
                goto fail;
            }
            char *name = strndup(p->s + start, p->i - start);
            if (!name || add_seg(p, n, (tx_seg){.kind = TX_SEG_NAME, .name = name}) != 0) {
                if (!name)
                    bl_err_set(p->err, BL_ENOMEM, "out of memory");
                goto fail;
            }
        } else if (p->i < p->len && p->s[p->i] == '[') {
            p->i++;
            skip_space(p);
            tx_seg seg = {0};
            if (p->i < p->len && p->s[p->i] == '*') {
                seg.kind = TX_SEG_WILD;
                p->i++;
            } else if (p->i < p->len && (p->s[p->i] == '\'' || p->s[p->i] == '"')) {
                size_t len = 0, at = p->i;
                seg.kind = TX_SEG_KEY;
                if (!(seg.name = bl_tx_scan_string(p, &len)))
                    goto fail;
                if (strlen(seg.name) != len) {
                    free(seg.name);
                    bl_err_set(p->err, BL_EINVAL, "at offset %zu: a key may not hold NUL", at);
                    goto fail;
                }
            } else {
                size_t start = p->i;
                if (p->i < p->len && p->s[p->i] == '-')
                    p->i++;
                size_t digits = p->i;
                while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
                    p->i++;
                if (p->i == digits || p->i - digits > 9) {
                    bl_tx_parse_fail(p, start, "expected an index (at most 9 digits), a quoted key or '*' in '[ ]'");
                    goto fail;
                }
                seg.kind = TX_SEG_INDEX;
                seg.index = strtol(p->s + start, NULL, 10);
            }
            skip_space(p);
            if (p->i >= p->len || p->s[p->i] != ']') {
                free(seg.name);
                bl_tx_parse_fail(p, p->i, "expected ']'");
                goto fail;
            }
            p->i++;
            if (add_seg(p, n, seg) != 0)
                goto fail;
        } else {
            break;
        }
    }
    return n;
fail:
    bl_tx_node_free(n);
    return NULL;
}

/* '(' or '[' list ')' / ']': fills n->args. */
static int parse_list(tx_parser *p, tx_node *n, char close)
{
    skip_space(p);
    if (p->i < p->len && p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    for (;;) {
        if (n->n_args >= BL_TX_VALUE_ITEMS_MAX)
            return bl_err_set(p->err, BL_EINVAL, "at offset %zu: more than %d items", p->i, BL_TX_VALUE_ITEMS_MAX);
        tx_node *item = parse_cond(p);
        if (!item)
            return -1;
        tx_node **args = realloc(n->args, (n->n_args + 1) * sizeof *args);
        if (!args) {
            bl_tx_node_free(item);
            return bl_err_set(p->err, BL_ENOMEM, "out of memory");
        }
        n->args = args;
        n->args[n->n_args++] = item;
        skip_space(p);
        if (p->i < p->len && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->len && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        return bl_tx_parse_fail(p, p->i, close == ')' ? "expected ',' or ')'" : "expected ',' or ']'");
    }
}

static tx_node *literal(tx_parser *p, size_t pos, json_t *v)
{
    tx_node *n = v ? bl_tx_node_new(TX_LIT, pos) : NULL;
    if (!n) {
        json_decref(v);
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    n->lit = v;
    return n;
}

static tx_node *parse_call(tx_parser *p, size_t start, size_t name_len)
{
    size_t f = 0;
    while (f < FN_COUNT && !(strlen(fn_names[f]) == name_len && memcmp(fn_names[f], p->s + start, name_len) == 0))
        f++;
    if (f == FN_COUNT) {
        bl_err_set(p->err, BL_EINVAL,
                   "at offset %zu: unknown function \"%.*s\" (length, lower, upper, concat, coalesce, round, exists, "
                   "now, sum, min, max, string, number)",
                   start, (int)(name_len > 40 ? 40 : name_len), p->s + start);
        return NULL;
    }
    tx_node *n = bl_tx_node_new(TX_CALL, start);
    if (!n) {
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    n->fn = (tx_fn)f;
    p->i++; /* '(' */
    if (parse_list(p, n, ')') != 0) {
        bl_tx_node_free(n);
        return NULL;
    }
    int least = fn_arity[f][0], most = fn_arity[f][1];
    if ((int)n->n_args < least || (most >= 0 && (int)n->n_args > most)) {
        if (most < 0)
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: %s() takes at least %d argument%s, %zu given", start,
                       fn_names[f], least, least == 1 ? "" : "s", n->n_args);
        else if (least == most)
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: %s() takes %d argument%s, %zu given", start, fn_names[f],
                       least, least == 1 ? "" : "s", n->n_args);
        else
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: %s() takes %d to %d arguments, %zu given", start,
                       fn_names[f], least, most, n->n_args);
        bl_tx_node_free(n);
        return NULL;
    }
    if (f == TX_FN_EXISTS && n->args[0]->kind != TX_PATH) {
        bl_err_set(p->err, BL_EINVAL, "at offset %zu: exists() takes a path ($... or @...)", n->args[0]->pos);
        bl_tx_node_free(n);
        return NULL;
    }
    return n;
}

static tx_node *parse_primary(tx_parser *p)
{
    skip_space(p);
    if (p->i >= p->len) {
        bl_tx_parse_fail(p, p->i, "expected a value");
        return NULL;
    }
    size_t start = p->i;
    char c = p->s[p->i];
    if (c >= '0' && c <= '9')
        return bl_tx_scan_number(p);
    if (c == '\'' || c == '"') {
        size_t len = 0;
        char *text = bl_tx_scan_string(p, &len);
        if (!text)
            return NULL;
        json_t *v = json_stringn(text, len);
        free(text);
        if (!v) {
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: the string is not valid UTF-8", start);
            return NULL;
        }
        return literal(p, start, v);
    }
    if (c == '$' || c == '@')
        return parse_path(p);
    if (c == '(') {
        p->i++;
        tx_node *n = parse_cond(p);
        if (!n)
            return NULL;
        skip_space(p);
        if (p->i >= p->len || p->s[p->i] != ')') {
            bl_tx_parse_fail(p, p->i, "expected ')'");
            bl_tx_node_free(n);
            return NULL;
        }
        p->i++;
        return n;
    }
    if (c == '[') {
        tx_node *n = bl_tx_node_new(TX_ARRAY, start);
        if (!n) {
            bl_err_set(p->err, BL_ENOMEM, "out of memory");
            return NULL;
        }
        p->i++;
        if (parse_list(p, n, ']') != 0) {
            bl_tx_node_free(n);
            return NULL;
        }
        return n;
    }
    if (bl_tx_is_name_start(c)) {
        size_t i = p->i;
        while (i < p->len && bl_tx_is_name_char(p->s[i]))
            i++;
        size_t len = i - start;
        if (len == 4 && memcmp(p->s + start, "true", 4) == 0) {
            p->i = i;
            return literal(p, start, json_true());
        }
        if (len == 5 && memcmp(p->s + start, "false", 5) == 0) {
            p->i = i;
            return literal(p, start, json_false());
        }
        if (len == 4 && memcmp(p->s + start, "null", 4) == 0) {
            p->i = i;
            return literal(p, start, json_null());
        }
        size_t j = i;
        while (j < p->len && (p->s[j] == ' ' || p->s[j] == '\t'))
            j++;
        if (j < p->len && p->s[j] == '(') {
            p->i = j;
            return parse_call(p, start, len);
        }
        bl_err_set(p->err, BL_EINVAL,
                   "at offset %zu: unknown name \"%.*s\" (paths start with $ or @, text is quoted)", start,
                   (int)(len > 40 ? 40 : len), p->s + start);
        return NULL;
    }
    bl_tx_parse_fail(p, start, "expected a value");
    return NULL;
}

static tx_node *parse_unary(tx_parser *p)
{
    if (!enter(p))
        return NULL;
    skip_space(p);
    size_t pos = p->i;
    tx_node *n = NULL;
    if (take(p, "!") || take(p, "-")) {
        tx_node_kind kind = p->s[pos] == '!' ? TX_NOT : TX_NEG;
        tx_node *a = parse_unary(p);
        if (a && !(n = bl_tx_node_new(kind, pos))) {
            bl_err_set(p->err, BL_ENOMEM, "out of memory");
            bl_tx_node_free(a);
        } else if (n) {
            n->a = a;
        }
    } else {
        n = parse_primary(p);
    }
    p->depth--;
    return n;
}

typedef struct op_text {
    const char *text;
    int op;
} op_text;

/* One left-associative precedence level over next with the given operators. */
static tx_node *parse_level(tx_parser *p, tx_node *(*next)(tx_parser *), const op_text *ops, tx_node_kind kind)
{
    if (!enter(p))
        return NULL;
    tx_node *left = next(p);
    while (left) {
        skip_space(p);
        size_t pos = p->i;
        const op_text *hit = NULL;
        for (const op_text *o = ops; o->text && !hit; o++)
            if (take(p, o->text))
                hit = o;
        if (!hit)
            break;
        if (p->depth >= BL_TX_EXPR_DEPTH_MAX) {
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: nested deeper than %d", pos, BL_TX_EXPR_DEPTH_MAX);
            bl_tx_node_free(left);
            left = NULL;
            break;
        }
        p->depth++; /* a chain of operators deepens the tree as nesting does */
        tx_node *right = next(p);
        if (!right) {
            bl_tx_node_free(left);
            left = NULL;
            break;
        }
        left = binary(kind, hit->op, pos, left, right, p);
    }
    return left;
}

static tx_node *parse_mul(tx_parser *p)
{
    static const op_text ops[] = {{"*", TX_MUL}, {"/", TX_DIV}, {"%", TX_MOD}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_unary, ops, TX_BINARY);
    p->depth = depth;
    return n;
}

static tx_node *parse_add(tx_parser *p)
{
    static const op_text ops[] = {{"+", TX_ADD}, {"-", TX_SUB}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_mul, ops, TX_BINARY);
    p->depth = depth;
    return n;
}

static tx_node *parse_rel(tx_parser *p)
{
    static const op_text ops[] = {{"<=", TX_LE}, {">=", TX_GE},        {"<", TX_LT}, {">", TX_GT},
                                  {"in", TX_IN}, {"contains", TX_CONTAINS}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_add, ops, TX_BINARY);
    p->depth = depth;
    return n;
}

static tx_node *parse_eq(tx_parser *p)
{
    static const op_text ops[] = {{"==", TX_EQ}, {"!=", TX_NE}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_rel, ops, TX_BINARY);
    p->depth = depth;
    return n;
}

static tx_node *parse_and(tx_parser *p)
{
    static const op_text ops[] = {{"&&", 0}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_eq, ops, TX_AND);
    p->depth = depth;
    return n;
}

static tx_node *parse_or(tx_parser *p)
{
    static const op_text ops[] = {{"||", 0}, {NULL, 0}};
    int depth = p->depth;
    tx_node *n = parse_level(p, parse_and, ops, TX_OR);
    p->depth = depth;
    return n;
}

static tx_node *parse_cond(tx_parser *p)
{
    if (!enter(p))
        return NULL;
    int depth = p->depth;
    tx_node *n = parse_or(p);
    skip_space(p);
    size_t pos = p->i;
    if (n && take(p, "?")) {
        tx_node *yes = parse_cond(p), *no = NULL;
        skip_space(p);
        if (yes && !take(p, ":"))
            bl_tx_parse_fail(p, p->i, "expected ':' of '?'");
        else if (yes)
            no = parse_cond(p);
        tx_node *c = no ? bl_tx_node_new(TX_COND, pos) : NULL;
        if (!c) {
            if (no)
                bl_err_set(p->err, BL_ENOMEM, "out of memory");
            bl_tx_node_free(n);
            bl_tx_node_free(yes);
            bl_tx_node_free(no);
            n = NULL;
        } else {
            c->a = n;
            c->b = yes;
            c->c = no;
            n = c;
        }
    }
    p->depth = depth - 1;
    return n;
}

bl_tx_expr *bl_tx_expr_compile(const char *src, bl_err *err)
{
    if (!src) {
        bl_err_set(err, BL_EINVAL, "expression: missing");
        return NULL;
    }
    size_t len = strlen(src);
    if (len > BL_TX_EXPR_MAX) {
        bl_err_set(err, BL_EINVAL, "expression longer than %d bytes", BL_TX_EXPR_MAX);
        return NULL;
    }
    tx_parser p = {.s = src, .len = len, .err = err};
    tx_node *root = parse_cond(&p);
    if (!root)
        return NULL;
    skip_space(&p);
    if (p.i < p.len) {
        bl_tx_parse_fail(&p, p.i, "expected an operator or the end");
        bl_tx_node_free(root);
        return NULL;
    }
    bl_tx_expr *e = calloc(1, sizeof *e);
    if (!e || !(e->source = strdup(src))) {
        free(e);
        bl_tx_node_free(root);
        bl_err_set(err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    e->root = root;
    return e;
}

void bl_tx_expr_free(bl_tx_expr *e)
{
    if (!e)
        return;
    bl_tx_node_free(e->root);
    free(e->source);
    free(e);
}

const char *bl_tx_expr_source(const bl_tx_expr *e)
{
    return e && e->source ? e->source : "";
}

bool bl_tx_expr_is_path(const bl_tx_expr *e)
{
    return e && e->root && e->root->kind == TX_PATH;
}
