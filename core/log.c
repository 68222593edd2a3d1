#include "core/log.h"

#include "core/clock.h"
#include "core/time_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *log_role = "busline";
static bl_log_level log_min = BL_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void bl_log_init(const char *role, bl_log_level min_level)
{
    log_role = role ? role : "busline";
    log_min = min_level;
}

int bl_log_level_parse(const char *s, bl_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, level_names[i]) == 0) {
            *out = (bl_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* A line is assembled in a fixed buffer and written with one fwrite so that
 * lines from different threads never interleave; overlong values are cut. */
typedef struct line_buf {
    char data[4096];
    size_t len;
} line_buf;

static void put_raw(line_buf *b, const char *s, size_t n)
{
    size_t room = sizeof b->data - 2 - b->len; /* keep space for "}\n" */
    if (n > room)
        n = room;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_json_string(line_buf *b, const char *s)
{
    put_raw(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': put_raw(b, "\\\"", 2); break;
        case '\\': put_raw(b, "\\\\", 2); break;
        case '\n': put_raw(b, "\\n", 2); break;
        case '\r': put_raw(b, "\\r", 2); break;
        case '\t': put_raw(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                put_raw(b, esc, 6);
            } else {
                put_raw(b, (const char *)p, 1);
            }
        }
    }
    put_raw(b, "\"", 1);
}

void bl_log_write(bl_log_level level, const char *msg, const bl_field *fields)
{
    if (level < log_min)
        return;
    line_buf b = {.len = 0};
    char when[32];
    bl_rfc3339_format_millis(bl_clock_wall_ms(), when, sizeof when);
    char stamp[128];
    snprintf(stamp, sizeof stamp, "{\"ts\":\"%s\",\"level\":", when);
    put_raw(&b, stamp, strlen(stamp));
    put_json_string(&b, level_names[level]);
    put_raw(&b, ",\"role\":", 8);
    put_json_string(&b, log_role);
    put_raw(&b, ",\"msg\":", 7);
    put_json_string(&b, msg);
    for (const bl_field *f = fields; f && f->kind != BL_FIELD_END; f++) {
        put_raw(&b, ",", 1);
        put_json_string(&b, f->key);
        put_raw(&b, ":", 1);
        if (f->kind == BL_FIELD_INT) {
            char num[32];
            int n = snprintf(num, sizeof num, "%" PRId64, f->i);
            put_raw(&b, num, (size_t)n);
        } else {
            put_json_string(&b, f->s);
        }
    }
    b.data[b.len++] = '}';
    b.data[b.len++] = '\n';
    fwrite(b.data, 1, b.len, stdout);
    fflush(stdout);
}
