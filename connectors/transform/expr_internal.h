/* The parsed form of an expression, shared by the parser, the evaluator and
 * the path helpers of connectors/transform (not for other modules). */
#ifndef BUSLINE_CONNECTORS_TRANSFORM_EXPR_INTERNAL_H
#define BUSLINE_CONNECTORS_TRANSFORM_EXPR_INTERNAL_H

#include "connectors/transform/expr.h"

typedef enum tx_node_kind {
    TX_LIT,    /* lit */
    TX_PATH,   /* from_current, segs */
    TX_ARRAY,  /* args: element expressions */
    TX_NOT,    /* a */
    TX_NEG,    /* a */
    TX_BINARY, /* op, a, b */
    TX_AND,    /* a, b */
    TX_OR,     /* a, b */
    TX_COND,   /* a ? b : c */
    TX_CALL,   /* fn, args */
    TX_FILTER, /* an event-filter condition: a (a path), op (bl_event_condition_op), lit */
} tx_node_kind;

typedef enum tx_binop {
    TX_EQ,
    TX_NE,
    TX_LT,
    TX_LE,
    TX_GT,
    TX_GE,
    TX_IN,
    TX_CONTAINS,
    TX_ADD,
    TX_SUB,
    TX_MUL,
    TX_DIV,
    TX_MOD,
} tx_binop;

typedef enum tx_fn {
    TX_FN_LENGTH,
    TX_FN_LOWER,
    TX_FN_UPPER,
    TX_FN_CONCAT,
    TX_FN_COALESCE,
    TX_FN_ROUND,
    TX_FN_EXISTS,
    TX_FN_NOW,
    TX_FN_SUM,
    TX_FN_MIN,
    TX_FN_MAX,
    TX_FN_STRING,
    TX_FN_NUMBER,
} tx_fn;

typedef enum tx_seg_kind {
    TX_SEG_NAME,  /* .name: an object key, or on an array an index when all digits */
    TX_SEG_KEY,   /* ['key']: an object key only */
    TX_SEG_INDEX, /* [n]: an array index, negative from the end */
    TX_SEG_WILD,  /* [*]: every element of an array (every value of an object) */
} tx_seg_kind;

typedef struct tx_seg {
    tx_seg_kind kind;
    char *name; /* NAME, KEY */
    long index; /* INDEX */
} tx_seg;

typedef struct tx_node tx_node;
struct tx_node {
    tx_node_kind kind;
    size_t pos; /* byte offset in the source */
    json_t *lit;
    int op; /* tx_binop, or an event-filter operator for TX_FILTER */
    tx_fn fn;
    tx_node *a, *b, *c;
    tx_node **args;
    size_t n_args;
    bool from_current; /* @ rather than $ */
    tx_seg *segs;
    size_t n_segs;
};

struct bl_tx_expr {
    char *source;
    tx_node *root;
};

/* Frees a node and its children. Accepts NULL. */
void bl_tx_node_free(tx_node *n);

/* A zeroed node of kind at pos, or NULL when out of memory. */
tx_node *bl_tx_node_new(tx_node_kind kind, size_t pos);

/* The function's name, for messages. */
const char *bl_tx_fn_name(tx_fn fn);

/* "a number", "a string", "a missing value" (v NULL)...: for messages. */
const char *bl_tx_type_name(const json_t *v);

/* Evaluates node n (expr_eval.c): 0 with *out a new reference or NULL
 * (missing), or -1 with err. */
int bl_tx_eval_node(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err);

/* Evaluates a call node (expr_functions.c), as bl_tx_eval_node. */
int bl_tx_eval_call(const tx_node *n, const bl_tx_scope *sc, json_t **out, bl_err *err);

/* Walks a path node from base (borrowed). Without a wildcard: 0 with *out
 * the borrowed value or NULL (missing), *owned false. With one: 0 with *out a
 * new array of every value reached, *owned true. -1 with err past
 * BL_TX_VALUE_ITEMS_MAX. */
int bl_tx_path_walk(const tx_node *path, const json_t *base, json_t **out, bool *owned, bl_err *err);

/* --- the parser's state, shared by expr_parse.c and expr_literal.c --- */

typedef struct tx_parser {
    const char *s;
    size_t len, i;
    int depth;
    bl_err *err;
} tx_parser;

static inline bool bl_tx_is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool bl_tx_is_name_char(char c)
{
    return bl_tx_is_name_start(c) || (c >= '0' && c <= '9');
}

/* Fills p->err with "at offset N: what, found 'c'" (or "found the end");
 * returns -1. */
int bl_tx_parse_fail(tx_parser *p, size_t at, const char *what);

/* Scans the quoted string at p->i (' or "), past its closing quote. Returns
 * its decoded bytes (malloc'd, NUL-terminated, *out_len long), or NULL with
 * p->err. */
char *bl_tx_scan_string(tx_parser *p, size_t *out_len);

/* Scans the number at p->i into a literal node, or NULL with p->err. */
tx_node *bl_tx_scan_number(tx_parser *p);

#endif
