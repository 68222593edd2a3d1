/* Declarative settings: tables in, validated typed values out. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const log_level_words[] = {"debug", "info", "warn", "error", NULL};
static const char *const postgres_schemes[] = {"postgresql", "postgres", NULL};

const bl_setting bl_config_common[] = {
    {.name = BL_CFG_KAFKA_BROKERS, .env = "BUSLINE_KAFKA_BROKERS", .flag = "kafka-brokers",
     .type = BL_SETTING_STRING, .def = "127.0.0.1:9092",
     .help = "Kafka bootstrap servers, host:port[,host:port...]"},
    {.name = BL_CFG_PG_URL, .env = "BUSLINE_PG_URL", .flag = "pg-url", .type = BL_SETTING_URL,
     .def = "postgresql://busline:busline@127.0.0.1:5433/busline",
     .help = "PostgreSQL connection URL", .secret = true, .choices = postgres_schemes},
    {.name = BL_CFG_LOG_LEVEL, .env = "BUSLINE_LOG_LEVEL", .flag = "log-level",
     .type = BL_SETTING_ENUM, .def = "info", .help = "lowest log level written",
     .choices = log_level_words},
    {.name = BL_CFG_METRICS_PORT, .env = "BUSLINE_METRICS_PORT", .flag = "metrics-port",
     .type = BL_SETTING_INT, .def = "9464", .min = 1, .max = 65535,
     .help = "port serving /metrics, /healthz and /readyz"},
    {0},
};

typedef enum value_source { SRC_UNSET = 0, SRC_DEFAULT, SRC_ENV, SRC_FLAG } value_source;

static const char *const source_names[] = {"unset", "default", "env", "flag"};

typedef struct value {
    const bl_setting *s;
    value_source src;
    char *text; /* owned copy of the accepted text */
    int64_t num;
    bool flag_on;
} value;

struct bl_config {
    value *values;
    size_t n, cap;
    char **args;
    int nargs;
};

bl_config *bl_config_new(void)
{
    return calloc(1, sizeof(bl_config));
}

static void values_reset(bl_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->values[i].text);
        cfg->values[i].text = NULL;
        cfg->values[i].src = SRC_UNSET;
        cfg->values[i].num = 0;
        cfg->values[i].flag_on = false;
    }
    free(cfg->args);
    cfg->args = NULL;
    cfg->nargs = 0;
}

void bl_config_free(bl_config *cfg)
{
    if (!cfg)
        return;
    values_reset(cfg);
    free(cfg->values);
    free(cfg);
}

/* ---- parsing one value ---- */

int bl_config_parse_duration(const char *text, int64_t *ms)
{
    static const struct {
        const char *suffix;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 60 * 60 * 1000}, {"d", 24 * 60 * 60 * 1000}};
    const char *p = text;
    if (!p || !isdigit((unsigned char)*p))
        return -1;
    int64_t n = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) == 0) {
            if (n > INT64_MAX / units[i].ms)
                return -1;
            *ms = n * units[i].ms;
            return 0;
        }
    }
    return -1;
}

/* Writes ms in the largest unit that states it exactly: 3600000 -> "1h". */
static void format_duration(int64_t ms, char *out, size_t len)
{
    if (ms != 0 && ms % 86400000 == 0)
        snprintf(out, len, "%" PRId64 "d", ms / 86400000);
    else if (ms != 0 && ms % 3600000 == 0)
        snprintf(out, len, "%" PRId64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(out, len, "%" PRId64 "m", ms / 60000);
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(out, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, len, "%" PRId64 "ms", ms);
}

static void format_bound(const bl_setting *s, int64_t v, char *out, size_t len)
{
    if (s->type == BL_SETTING_DURATION)
        format_duration(v, out, len);
    else
        snprintf(out, len, "%" PRId64, v);
}

static void join_choices(const char *const *choices, const char *sep, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; choices && choices[i]; i++) {
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", i ? sep : "", choices[i]);
    }
}

static bool parse_int(const char *text, int64_t *out)
{
    if (!*text || isspace((unsigned char)*text))
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes"}, *const no[] = {"false", "0", "no"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(text, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(text, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

/* scheme://rest with an RFC 3986 scheme and no whitespace or control bytes. */
static bool url_scheme(const char *text, char *scheme, size_t len)
{
    const char *p = text;
    if (!isalpha((unsigned char)*p))
        return false;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (strncmp(p, "://", 3) != 0 || p[3] == '\0' || (size_t)(p - text) >= len)
        return false;
    for (const char *q = p + 3; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return false;
    memcpy(scheme, text, (size_t)(p - text));
    scheme[p - text] = '\0';
    return true;
}

/* Checks text against s; on success fills v (without touching v->src). The
 * origin names the source in errors: "--port", "BUSLINE_PORT", "default of port". */
static int parse_value(const bl_setting *s, const char *text, const char *origin, value *v,
                       bl_err *err)
{
    const char *shown = s->secret ? "<redacted>" : text;
    char a[32], b[32], list[256];
    int64_t num = 0;
    bool on = false;
    switch (s->type) {
    case BL_SETTING_STRING:
        break;
    case BL_SETTING_INT:
    case BL_SETTING_DURATION:
        if (s->type == BL_SETTING_INT && !parse_int(text, &num))
            return bl_err_set(err, BL_EINVAL, "config: %s=%s: not an integer", origin, shown);
        if (s->type == BL_SETTING_DURATION && bl_config_parse_duration(text, &num) != 0)
            return bl_err_set(err, BL_EINVAL,
                              "config: %s=%s: not a duration (e.g. 250ms, 10s, 5m, 1h, 30d)", origin,
                              shown);
        if ((s->min || s->max) && (num < s->min || num > s->max)) {
            format_bound(s, s->min, a, sizeof a);
            format_bound(s, s->max, b, sizeof b);
            return bl_err_set(err, BL_EINVAL, "config: %s=%s: must be between %s and %s", origin,
                              shown, a, b);
        }
        break;
    case BL_SETTING_BOOL:
        if (!parse_bool(text, &on))
            return bl_err_set(err, BL_EINVAL,
                              "config: %s=%s: not a boolean (true/false/1/0/yes/no)", origin,
                              shown);
        break;
    case BL_SETTING_ENUM: {
        bool found = false;
        for (size_t i = 0; s->choices && s->choices[i]; i++)
            found = found || strcmp(text, s->choices[i]) == 0;
        if (!found) {
            join_choices(s->choices, ", ", list, sizeof list);
            return bl_err_set(err, BL_EINVAL, "config: %s=%s: must be one of %s", origin, shown,
                              list);
        }
        break;
    }
    case BL_SETTING_URL: {
        char scheme[32];
        if (!url_scheme(text, scheme, sizeof scheme))
            return bl_err_set(err, BL_EINVAL, "config: %s=%s: not a URL (expected scheme://...)",
                              origin, shown);
        bool allowed = !s->choices;
        for (size_t i = 0; s->choices && s->choices[i]; i++)
            allowed = allowed || strcasecmp(scheme, s->choices[i]) == 0;
        if (!allowed) {
            join_choices(s->choices, ", ", list, sizeof list);
            return bl_err_set(err, BL_EINVAL, "config: %s=%s: URL scheme must be one of %s",
                              origin, shown, list);
        }
        break;
    }
    default:
        return bl_err_set(err, BL_EINVAL, "config: %s: unknown setting type %d", s->name,
                          (int)s->type);
    }
    if (!v)
        return 0;
    char *copy = strdup(text);
    if (!copy)
        return bl_err_set(err, BL_ENOMEM, "config: out of memory");
    free(v->text);
    v->text = copy;
    v->num = num;
    v->flag_on = on;
    return 0;
}

/* ---- tables ---- */

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

int bl_config_add(bl_config *cfg, const bl_setting *table, bl_err *err)
{
    for (const bl_setting *s = table; s->name; s++) {
        if (same(s->flag, "help"))
            return bl_err_set(err, BL_EINVAL, "config: %s: --help is reserved", s->name);
        for (size_t i = 0; i < cfg->n; i++) {
            const bl_setting *o = cfg->values[i].s;
            if (same(s->name, o->name) || same(s->flag, o->flag) || same(s->env, o->env))
                return bl_err_set(err, BL_EINVAL,
                                  "config: setting %s clashes with %s (same name, flag or env)",
                                  s->name, o->name);
        }
        if (s->type == BL_SETTING_ENUM && !(s->choices && s->choices[0]))
            return bl_err_set(err, BL_EINVAL, "config: %s: enum without choices", s->name);
        if (s->min > s->max)
            return bl_err_set(err, BL_EINVAL, "config: %s: min above max", s->name);
        if (s->def) {
            char origin[96];
            snprintf(origin, sizeof origin, "default of %s", s->name);
            if (parse_value(s, s->def, origin, NULL, err) != 0)
                return -1;
        }
        if (cfg->n == cfg->cap) {
            size_t cap = cfg->cap ? cfg->cap * 2 : 16;
            value *grown = realloc(cfg->values, cap * sizeof *grown);
            if (!grown)
                return bl_err_set(err, BL_ENOMEM, "config: out of memory");
            cfg->values = grown;
            cfg->cap = cap;
        }
        cfg->values[cfg->n++] = (value){.s = s};
    }
    return 0;
}

static value *find_by_flag(bl_config *cfg, const char *flag, size_t len)
{
    for (size_t i = 0; i < cfg->n; i++) {
        const char *f = cfg->values[i].s->flag;
        if (f && strlen(f) == len && strncmp(f, flag, len) == 0)
            return &cfg->values[i];
    }
    return NULL;
}

static const value *find_by_name(const bl_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->n; i++)
        if (strcmp(cfg->values[i].s->name, name) == 0)
            return &cfg->values[i];
    return NULL;
}

/* ---- loading ---- */

static int print_help(const bl_config *cfg, const char *prog, bl_err *err)
{
    char *usage = bl_config_usage(cfg, prog);
    if (!usage)
        return bl_err_set(err, BL_ENOMEM, "config: out of memory");
    fputs(usage, stdout);
    fflush(stdout);
    free(usage);
    return BL_CONFIG_HELP;
}

/* Reads the flags of argv into cfg and collects the positional arguments. */
static int load_flags(bl_config *cfg, int argc, char **argv, bl_err *err)
{
    cfg->args = calloc((size_t)(argc > 0 ? argc : 1), sizeof *cfg->args);
    if (!cfg->args)
        return bl_err_set(err, BL_ENOMEM, "config: out of memory");
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (flags_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
            cfg->args[cfg->nargs++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return print_help(cfg, argc > 0 ? argv[0] : "busline", err);
        if (arg[1] != '-')
            return bl_err_set(err, BL_EINVAL, "config: %s: unknown flag (see --help)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        value *v = find_by_flag(cfg, name, name_len);
        if (!v)
            return bl_err_set(err, BL_EINVAL, "config: --%.*s: unknown flag (see --help)",
                              (int)name_len, name);
        const char *text;
        if (eq)
            text = eq + 1;
        else if (v->s->type == BL_SETTING_BOOL && i + 1 < argc && parse_bool(argv[i + 1], &(bool){false}))
            text = argv[++i]; /* "--flag false" must not read as the switch and a stray word */
        else if (v->s->type == BL_SETTING_BOOL)
            text = "true";
        else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
            text = argv[++i];
        else
            return bl_err_set(err, BL_EINVAL, "config: --%s: missing value", v->s->flag);
        char origin[96];
        snprintf(origin, sizeof origin, "--%s", v->s->flag);
        if (parse_value(v->s, text, origin, v, err) != 0)
            return -1;
        v->src = SRC_FLAG;
    }
    return 0;
}

int bl_config_load(bl_config *cfg, int argc, char **argv, bl_err *err)
{
    values_reset(cfg);
    int rc = load_flags(cfg, argc, argv, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < cfg->n; i++) {
        value *v = &cfg->values[i];
        const bl_setting *s = v->s;
        if (v->src == SRC_FLAG)
            continue;
        /* An empty variable counts as unset: manifests often template
         * "VAR=" for values they do not override. */
        const char *env = s->env ? getenv(s->env) : NULL;
        if (env && *env) {
            if (parse_value(s, env, s->env, v, err) != 0)
                return -1;
            v->src = SRC_ENV;
        } else if (s->required) {
            char flag[96] = "", env_name[96] = "";
            if (s->flag)
                snprintf(flag, sizeof flag, "--%s", s->flag);
            if (s->env)
                snprintf(env_name, sizeof env_name, "%s", s->env);
            return bl_err_set(err, BL_EINVAL, "config: missing required setting %s (set %s%s%s)",
                              s->name, flag, *flag && *env_name ? " or " : "", env_name);
        } else if (s->def) {
            if (parse_value(s, s->def, s->name, v, err) != 0)
                return -1;
            v->src = SRC_DEFAULT;
        }
    }
    return 0;
}

char *const *bl_config_args(const bl_config *cfg, int *count)
{
    *count = cfg->nargs;
    return cfg->args;
}

/* ---- usage ---- */

static void usage_type(const bl_setting *s, char *out, size_t len)
{
    char a[32], b[32], list[200];
    switch (s->type) {
    case BL_SETTING_INT:
    case BL_SETTING_DURATION:
        if (s->min || s->max) {
            format_bound(s, s->min, a, sizeof a);
            format_bound(s, s->max, b, sizeof b);
            snprintf(out, len, "%s %s..%s", s->type == BL_SETTING_INT ? "int" : "duration", a, b);
        } else {
            snprintf(out, len, "%s", s->type == BL_SETTING_INT ? "int" : "duration");
        }
        break;
    case BL_SETTING_BOOL:
        snprintf(out, len, "bool");
        break;
    case BL_SETTING_ENUM:
        join_choices(s->choices, "|", list, sizeof list);
        snprintf(out, len, "%s", list);
        break;
    case BL_SETTING_URL:
        join_choices(s->choices, "|", list, sizeof list);
        snprintf(out, len, s->choices ? "url (%s)" : "url", list);
        break;
    default:
        snprintf(out, len, "string");
    }
}

char *bl_config_usage(const bl_config *cfg, const char *prog)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "usage: %s [flags] [args]\n\nflags (a flag beats its environment variable, "
               "which beats the default):\n",
            prog ? prog : "busline");
    for (size_t i = 0; i < cfg->n; i++) {
        const bl_setting *s = cfg->values[i].s;
        char type[256];
        usage_type(s, type, sizeof type);
        if (s->flag)
            fprintf(f, "  --%s <%s>\n", s->flag, type);
        else
            fprintf(f, "  %s <%s>\n", s->env ? s->env : s->name, type);
        fprintf(f, "        %s\n       ", s->help ? s->help : "");
        if (s->env && s->flag)
            fprintf(f, " env %s;", s->env);
        if (s->required)
            fprintf(f, " required\n");
        else if (s->def)
            fprintf(f, " default %s\n", s->def);
        else
            fprintf(f, " no default\n");
    }
    fprintf(f, "  --help\n        print this help and exit\n");
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- getters ---- */

static const value *typed(const bl_config *cfg, const char *name, bl_setting_type t1,
                          bl_setting_type t2, bl_setting_type t3)
{
    const value *v = find_by_name(cfg, name);
    if (!v || !(v->s->type == t1 || v->s->type == t2 || v->s->type == t3))
        return NULL;
    return v;
}

const char *bl_config_str(const bl_config *cfg, const char *name)
{
    const value *v = typed(cfg, name, BL_SETTING_STRING, BL_SETTING_ENUM, BL_SETTING_URL);
    return v ? v->text : NULL;
}

int64_t bl_config_int(const bl_config *cfg, const char *name)
{
    const value *v = typed(cfg, name, BL_SETTING_INT, BL_SETTING_INT, BL_SETTING_INT);
    return v ? v->num : 0;
}

int64_t bl_config_duration_ms(const bl_config *cfg, const char *name)
{
    const value *v = typed(cfg, name, BL_SETTING_DURATION, BL_SETTING_DURATION, BL_SETTING_DURATION);
    return v ? v->num : 0;
}

bool bl_config_bool(const bl_config *cfg, const char *name)
{
    const value *v = typed(cfg, name, BL_SETTING_BOOL, BL_SETTING_BOOL, BL_SETTING_BOOL);
    return v ? v->flag_on : false;
}

const char *bl_config_source(const bl_config *cfg, const char *name)
{
    const value *v = find_by_name(cfg, name);
    return v ? source_names[v->src] : "unset";
}
