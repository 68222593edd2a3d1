/* Structured logs: one JSON object per line on stdout,
 * {"ts","level","role","msg", ...fields}. Fields carry ids, never secrets. */
#ifndef BUSLINE_CORE_LOG_H
#define BUSLINE_CORE_LOG_H

#include <stdint.h>

typedef enum bl_log_level {
    BL_LOG_DEBUG = 0,
    BL_LOG_INFO = 1,
    BL_LOG_WARN = 2,
    BL_LOG_ERROR = 3,
} bl_log_level;

typedef enum bl_field_kind { BL_FIELD_END = 0, BL_FIELD_STR, BL_FIELD_INT } bl_field_kind;

/* One extra key of a log line; build them with BL_FS / BL_FI. */
typedef struct bl_field {
    bl_field_kind kind;
    const char *key;
    const char *s;
    int64_t i;
} bl_field;

#define BL_FS(k, v) ((bl_field){BL_FIELD_STR, (k), (v), 0})
#define BL_FI(k, v) ((bl_field){BL_FIELD_INT, (k), NULL, (int64_t)(v)})

/* Sets the role name written on every line (borrowed; must outlive logging)
 * and the lowest level written. Safe to call again. */
void bl_log_init(const char *role, bl_log_level min_level);

/* Parses "debug|info|warn|error"; returns 0 and sets *out, or -1. */
int bl_log_level_parse(const char *s, bl_log_level *out);

/* Writes one line if level passes; fields is an array ended by a zeroed
 * entry (or NULL). Thread-safe: each line is written whole. */
void bl_log_write(bl_log_level level, const char *msg, const bl_field *fields);

#define BL_LOG_(lvl, msg, ...) bl_log_write((lvl), (msg), (const bl_field[]){__VA_ARGS__ __VA_OPT__(,) (bl_field){0}})
#define bl_log_debug(msg, ...) BL_LOG_(BL_LOG_DEBUG, msg, __VA_ARGS__)
#define bl_log_info(msg, ...) BL_LOG_(BL_LOG_INFO, msg, __VA_ARGS__)
#define bl_log_warn(msg, ...) BL_LOG_(BL_LOG_WARN, msg, __VA_ARGS__)
#define bl_log_error(msg, ...) BL_LOG_(BL_LOG_ERROR, msg, __VA_ARGS__)

#endif
