/* The expression language's literals: quoted strings with their escapes and
 * numbers (JSON's syntax), scanned for the parser (expr_parse.c), and the
 * parser's error message. */
#include "connectors/transform/expr_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int bl_tx_parse_fail(tx_parser *p, size_t at, const char *what)
{
    if (at >= p->len)
        return bl_err_set(p->err, BL_EINVAL, "at offset %zu: %s, found the end", at, what);
    return bl_err_set(p->err, BL_EINVAL, "at offset %zu: %s, found '%c'", at, what, p->s[at]);
}

/* A quoted string at p->i (quote ' or "), into a new malloc'd buffer. */
char *bl_tx_scan_string(tx_parser *p, size_t *out_len)
{
    char quote = p->s[p->i];
    size_t start = p->i++;
    char *buf = malloc(p->len - start + 1);
    size_t o = 0;
    if (!buf) {
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    while (p->i < p->len && p->s[p->i] != quote) {
        char c = p->s[p->i];
        if ((unsigned char)c < 0x20) {
            bl_tx_parse_fail(p, p->i, "a control character is not allowed in a string (use \\n, \\t)");
            free(buf);
            return NULL;
        }
        if (c != '\\') {
            buf[o++] = c;
            p->i++;
            continue;
        }
        char e = p->i + 1 < p->len ? p->s[p->i + 1] : '\0';
        const char *map = "n\nt\tr\r\\\\''\"\"//";
        const char *hit = e ? strchr(map, e) : NULL;
        if (hit && (hit - map) % 2 == 0) {
            buf[o++] = hit[1];
            p->i += 2;
        } else if (e == 'u' && p->i + 6 <= p->len && strspn(p->s + p->i + 2, "0123456789abcdefABCDEF") >= 4) {
            char hex[5] = {0};
            memcpy(hex, p->s + p->i + 2, 4);
            unsigned long cp = strtoul(hex, NULL, 16);
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                bl_err_set(p->err, BL_EINVAL, "at offset %zu: \\u%s is not allowed (no NUL, no surrogates)", p->i, hex);
                free(buf);
                return NULL;
            }
            if (cp < 0x80) {
                buf[o++] = (char)cp;
            } else if (cp < 0x800) {
                buf[o++] = (char)(0xC0 | (cp >> 6));
                buf[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                buf[o++] = (char)(0xE0 | (cp >> 12));
                buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                buf[o++] = (char)(0x80 | (cp & 0x3F));
            }
            p->i += 6;
        } else {
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: unknown escape in a string (\\n \\t \\r \\\\ \\' \\\" \\/ \\uXXXX)",
                       p->i);
            free(buf);
            return NULL;
        }
    }
    if (p->i >= p->len) {
        bl_err_set(p->err, BL_EINVAL, "at offset %zu: unterminated string", start);
        free(buf);
        return NULL;
    }
    p->i++; /* closing quote */
    buf[o] = '\0';
    *out_len = o;
    return buf;
}

tx_node *bl_tx_scan_number(tx_parser *p)
{
    size_t start = p->i, i = p->i;
    bool real = false;
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    if (i < p->len && p->s[i] == '.') {
        real = true;
        i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d) {
            bl_tx_parse_fail(p, i, "expected a digit after '.'");
            return NULL;
        }
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        real = true;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        size_t d = i;
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
        if (i == d) {
            bl_tx_parse_fail(p, i, "expected a digit in the exponent");
            return NULL;
        }
    }
    if (i < p->len && bl_tx_is_name_char(p->s[i])) {
        bl_tx_parse_fail(p, i, "expected an operator after a number");
        return NULL;
    }
    char text[64];
    if (i - start >= sizeof text) {
        bl_err_set(p->err, BL_EINVAL, "at offset %zu: number longer than %zu characters", start, sizeof text - 1);
        return NULL;
    }
    memcpy(text, p->s + start, i - start);
    text[i - start] = '\0';
    p->i = i;
    tx_node *n = bl_tx_node_new(TX_LIT, start);
    if (!n) {
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    if (!real) {
        errno = 0;
        long long v = strtoll(text, NULL, 10);
        if (errno == 0) {
            n->lit = json_integer((json_int_t)v);
        } else {
            real = true;
        }
    }
    if (real) {
        double d = strtod(text, NULL);
        if (!isfinite(d)) {
            bl_tx_node_free(n);
            bl_err_set(p->err, BL_EINVAL, "at offset %zu: number out of range", start);
            return NULL;
        }
        n->lit = json_real(d);
    }
    if (!n->lit) {
        bl_tx_node_free(n);
        bl_err_set(p->err, BL_ENOMEM, "out of memory");
        return NULL;
    }
    return n;
}

