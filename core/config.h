/* Declarative settings: each role lists its settings in a table; values come
 * from a --flag, else an environment variable, else the default, and are
 * validated by type. Errors name where the bad value came from:
 *   config: --port=70000: must be between 1 and 65535
 *   config: BUSLINE_TIMEOUT=abc: not a duration (e.g. 250ms, 10s, 5m)
 */
#ifndef BUSLINE_CORE_CONFIG_H
#define BUSLINE_CORE_CONFIG_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum bl_setting_type {
    BL_SETTING_STRING = 0,
    BL_SETTING_INT,      /* int64, bounded by min..max */
    BL_SETTING_DURATION, /* "250ms", "10s", "5m", "1h", "30d" -> milliseconds, bounded by min..max */
    BL_SETTING_BOOL,     /* true/false/1/0/yes/no */
    BL_SETTING_ENUM,     /* one of choices */
    BL_SETTING_URL,      /* scheme://rest with the scheme among choices (any when NULL) */
} bl_setting_type;

/* One setting. Tables are arrays ended by a zeroed entry ({0}); they are
 * borrowed by bl_config and must outlive it (static tables are the norm). */
typedef struct bl_setting {
    const char *name;             /* key for the getters, e.g. "kafka_brokers" */
    const char *env;              /* e.g. "BUSLINE_KAFKA_BROKERS"; NULL for none */
    const char *flag;             /* e.g. "kafka-brokers" (used as --kafka-brokers); NULL for none */
    bl_setting_type type;
    const char *def;              /* default as text, parsed like any input; NULL for none */
    const char *help;             /* one line */
    bool required;                /* a value must come from a flag or the environment */
    bool secret;                  /* errors show <redacted> instead of the value */
    int64_t min, max;             /* INT / DURATION (ms) bounds; min == max == 0: unbounded */
    const char *const *choices;   /* ENUM words / URL schemes, NULL-terminated */
} bl_setting;

/* Names of the settings in bl_config_common, for the getters. */
#define BL_CFG_KAFKA_BROKERS "kafka_brokers"
#define BL_CFG_PG_URL "pg_url"
#define BL_CFG_LOG_LEVEL "log_level"
#define BL_CFG_METRICS_PORT "metrics_port"

/* The settings every role shares: Kafka brokers, Postgres URL, log level and
 * the port serving /metrics, /healthz and /readyz. Ended by {0}. */
extern const bl_setting bl_config_common[];

typedef struct bl_config bl_config;

/* Returns an empty config (caller frees with bl_config_free), or NULL when out
 * of memory. */
bl_config *bl_config_new(void);

/* Frees cfg and every value it holds. Accepts NULL. */
void bl_config_free(bl_config *cfg);

/* Adds a table (borrowed, ended by {0}). Checks the table itself: names,
 * flags and env names unique across tables, choices present where needed,
 * defaults valid. Returns 0, or -1 with err filled. */
int bl_config_add(bl_config *cfg, const bl_setting *table, bl_err *err);

#define BL_CONFIG_HELP 1

/* Loads every setting: --flag beats the environment beats the default.
 * argv[0] is the program or subcommand name (shown by --help); flags are
 * "--name value" or "--name=value" (bool flags: bare "--name" means true,
 * other values need "="); "--" ends the flags. Other arguments are kept as
 * positional arguments (bl_config_args). Returns 0; BL_CONFIG_HELP after
 * printing the usage to stdout for --help / -h (the caller exits 0); or -1
 * with err filled. argv is borrowed for the life of cfg. */
int bl_config_load(bl_config *cfg, int argc, char **argv, bl_err *err);

/* The usage text for the loaded tables: one entry per setting with its flag,
 * env name, default and help. Returns a string the caller frees, or NULL. */
char *bl_config_usage(const bl_config *cfg, const char *prog);

/* Positional arguments left after the flags; *count is set. Borrowed from argv. */
char *const *bl_config_args(const bl_config *cfg, int *count);

/* Typed getters, after a successful load. name must be in a table; an unknown
 * name or a getter of the wrong type returns NULL / 0 / false. */
const char *bl_config_str(const bl_config *cfg, const char *name); /* STRING, ENUM, URL; NULL if unset */
int64_t bl_config_int(const bl_config *cfg, const char *name);
int64_t bl_config_duration_ms(const bl_config *cfg, const char *name);
bool bl_config_bool(const bl_config *cfg, const char *name);

/* Where the value came from: "flag", "env", "default" or "unset" (for logs). */
const char *bl_config_source(const bl_config *cfg, const char *name);

/* Parses "250ms", "10s", "5m" or "1h" into milliseconds. Returns 0 or -1. */
int bl_config_parse_duration(const char *text, int64_t *ms);

#endif
