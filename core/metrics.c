/* Metrics registry: a lock guards the family and child lists (registration,
 * child lookup, rendering); values are C11 atomics updated without it. */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double bl_metrics_default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};
const size_t bl_metrics_default_bucket_count =
    sizeof bl_metrics_default_buckets / sizeof bl_metrics_default_buckets[0];

#define MAX_LABELS 16
#define MAX_BUCKETS 64

typedef enum metric_kind { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

/* Doubles live in atomics as their bit patterns, since C11 has no atomic
 * floating-point add; updates are compare-and-swap loops. */
struct bl_counter {
    _Atomic uint64_t bits;
};
struct bl_gauge {
    _Atomic uint64_t bits;
};
struct bl_histogram {
    const double *bounds;     /* the family's upper bounds, without +Inf */
    size_t nbounds;
    _Atomic uint64_t sum_bits;
    _Atomic uint64_t *counts; /* per bucket, not cumulative; [nbounds] is +Inf */
};

typedef struct metric_child {
    struct metric_child *next; /* sorted by label values */
    char **values;
    union {
        struct bl_counter counter;
        struct bl_gauge gauge;
        struct bl_histogram histogram;
    } as;
} metric_child;

struct bl_metric {
    bl_metrics *registry;
    struct bl_metric *next; /* sorted by name */
    metric_kind kind;
    char *name, *help;
    char **labels;
    size_t nlabels;
    double *bounds;
    size_t nbounds;
    metric_child *children;
};

struct bl_metrics {
    pthread_mutex_t lock;
    bl_metric *families;
};

static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_double(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(bits, &old, double_bits(bits_double(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- lifecycle ---- */

bl_metrics *bl_metrics_new(void)
{
    bl_metrics *m = calloc(1, sizeof *m);
    if (m && pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void free_strings(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static void child_free(const bl_metric *f, metric_child *c)
{
    if (!c)
        return;
    free_strings(c->values, f->nlabels);
    if (f->kind == KIND_HISTOGRAM)
        free(c->as.histogram.counts);
    free(c);
}

static void family_free(bl_metric *f)
{
    if (!f)
        return;
    for (metric_child *c = f->children, *next; c; c = next) {
        next = c->next;
        child_free(f, c);
    }
    free(f->name);
    free(f->help);
    free_strings(f->labels, f->nlabels);
    free(f->bounds);
    free(f);
}

void bl_metrics_free(bl_metrics *m)
{
    if (!m)
        return;
    for (bl_metric *f = m->families, *next; f; f = next) {
        next = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* ---- registration ---- */

static bool name_valid(const char *s, bool colon_ok)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (colon_ok && c == ':')))
            return false;
    }
    return true;
}

static char **copy_strings(const char *const *src, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        out[i] = strdup(src[i]);
        if (!out[i]) {
            free_strings(out, i);
            return NULL;
        }
    }
    return out;
}

static metric_child *child_new(const bl_metric *f, const char *const *values)
{
    metric_child *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->values = copy_strings(values, f->nlabels);
    if (!c->values)
        goto fail;
    if (f->kind == KIND_HISTOGRAM) {
        struct bl_histogram *h = &c->as.histogram;
        h->bounds = f->bounds;
        h->nbounds = f->nbounds;
        h->counts = malloc((f->nbounds + 1) * sizeof *h->counts);
        if (!h->counts)
            goto fail;
        for (size_t i = 0; i <= f->nbounds; i++)
            atomic_init(&h->counts[i], 0);
        atomic_init(&h->sum_bits, double_bits(0.0));
    } else {
        atomic_init(&c->as.counter.bits, double_bits(0.0));
    }
    return c;
fail:
    child_free(f, c);
    return NULL;
}

static int check_family(const char *name, const char *const *labels, metric_kind kind,
                        const double *buckets, size_t nbuckets, size_t *nlabels, bl_err *err)
{
    if (!name_valid(name, true))
        return bl_err_set(err, BL_EINVAL,
                          "metrics: name \"%s\" does not match [a-zA-Z_:][a-zA-Z0-9_:]*",
                          name ? name : "");
    size_t n = 0;
    for (; labels && labels[n]; n++) {
        const char *l = labels[n];
        if (!name_valid(l, false) || strncmp(l, "__", 2) == 0)
            return bl_err_set(err, BL_EINVAL,
                              "metrics: %s: label name \"%s\" does not match "
                              "[a-zA-Z_][a-zA-Z0-9_]* (without leading __)",
                              name, l);
        if (kind == KIND_HISTOGRAM && strcmp(l, "le") == 0)
            return bl_err_set(err, BL_EINVAL, "metrics: %s: label \"le\" is reserved", name);
        for (size_t j = 0; j < n; j++)
            if (strcmp(labels[j], l) == 0)
                return bl_err_set(err, BL_EINVAL, "metrics: %s: label \"%s\" repeated", name, l);
    }
    if (n > MAX_LABELS)
        return bl_err_set(err, BL_EINVAL, "metrics: %s: more than %d labels", name, MAX_LABELS);
    if (nbuckets > MAX_BUCKETS)
        return bl_err_set(err, BL_EINVAL, "metrics: %s: more than %d buckets", name, MAX_BUCKETS);
    for (size_t i = 0; i < nbuckets; i++) {
        if (isnan(buckets[i]) || (isinf(buckets[i]) && !(buckets[i] > 0 && i + 1 == nbuckets)) ||
            (i > 0 && !(buckets[i] > buckets[i - 1])))
            return bl_err_set(err, BL_EINVAL,
                              "metrics: %s: buckets must be finite and strictly increasing",
                              name);
    }
    *nlabels = n;
    return 0;
}

static bl_metric *register_family(bl_metrics *m, metric_kind kind, const char *name,
                                  const char *help, const char *const *labels,
                                  const double *buckets, size_t nbuckets, bl_err *err)
{
    size_t nlabels = 0;
    if (check_family(name, labels, kind, buckets, nbuckets, &nlabels, err) != 0)
        return NULL;
    if (nbuckets && isinf(buckets[nbuckets - 1]))
        nbuckets--; /* +Inf is always implied */

    bl_metric *f = calloc(1, sizeof *f);
    if (!f)
        goto nomem;
    f->registry = m;
    f->kind = kind;
    f->nlabels = nlabels;
    f->nbounds = nbuckets;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    f->labels = copy_strings(labels, nlabels);
    f->bounds = malloc((nbuckets ? nbuckets : 1) * sizeof *f->bounds);
    if (!f->name || !f->help || !f->labels || !f->bounds)
        goto nomem;
    if (nbuckets)
        memcpy(f->bounds, buckets, nbuckets * sizeof *f->bounds);
    if (nlabels == 0 && !(f->children = child_new(f, NULL)))
        goto nomem;

    pthread_mutex_lock(&m->lock);
    bl_metric **at = &m->families;
    while (*at && strcmp((*at)->name, name) < 0)
        at = &(*at)->next;
    if (*at && strcmp((*at)->name, name) == 0) {
        pthread_mutex_unlock(&m->lock);
        family_free(f);
        bl_err_set(err, BL_ECONFLICT, "metrics: %s already registered", name);
        return NULL;
    }
    f->next = *at;
    *at = f;
    pthread_mutex_unlock(&m->lock);
    return f;
nomem:
    family_free(f);
    bl_err_set(err, BL_ENOMEM, "metrics: %s: out of memory", name);
    return NULL;
}

bl_metric *bl_metrics_counter(bl_metrics *m, const char *name, const char *help,
                              const char *const *label_names, bl_err *err)
{
    return register_family(m, KIND_COUNTER, name, help, label_names, NULL, 0, err);
}

bl_metric *bl_metrics_gauge(bl_metrics *m, const char *name, const char *help,
                            const char *const *label_names, bl_err *err)
{
    return register_family(m, KIND_GAUGE, name, help, label_names, NULL, 0, err);
}

bl_metric *bl_metrics_histogram(bl_metrics *m, const char *name, const char *help,
                                const char *const *label_names, const double *buckets,
                                size_t nbuckets, bl_err *err)
{
    if (!buckets) {
        buckets = bl_metrics_default_buckets;
        nbuckets = bl_metrics_default_bucket_count;
    }
    return register_family(m, KIND_HISTOGRAM, name, help, label_names, buckets, nbuckets, err);
}

/* ---- children ---- */

static int compare_values(char *const *a, const char *const *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

static metric_child *child_lookup(bl_metric *f, metric_kind kind, const char *const *values,
                                  bl_err *err)
{
    if (f->kind != kind) {
        bl_err_set(err, BL_EINVAL, "metrics: %s is a %s, not a %s", f->name, kind_names[f->kind],
                   kind_names[kind]);
        return NULL;
    }
    size_t n = 0;
    while (values && values[n] && n <= f->nlabels)
        n++;
    if (n != f->nlabels) {
        bl_err_set(err, BL_EINVAL, "metrics: %s: %zu label values given, %zu expected", f->name,
                   n, f->nlabels);
        return NULL;
    }
    if (f->nlabels == 0)
        return f->children; /* created at registration, never changes */

    bl_metrics *m = f->registry;
    pthread_mutex_lock(&m->lock);
    metric_child **at = &f->children;
    int cmp = 1;
    while (*at && (cmp = compare_values((*at)->values, values, n)) < 0)
        at = &(*at)->next;
    metric_child *c = *at;
    if (!c || cmp != 0) {
        c = child_new(f, values);
        if (c) {
            c->next = *at;
            *at = c;
        } else {
            bl_err_set(err, BL_ENOMEM, "metrics: %s: out of memory", f->name);
        }
    }
    pthread_mutex_unlock(&m->lock);
    return c;
}

bl_counter *bl_metric_counter(bl_metric *f, const char *const *label_values, bl_err *err)
{
    metric_child *c = child_lookup(f, KIND_COUNTER, label_values, err);
    return c ? &c->as.counter : NULL;
}

bl_gauge *bl_metric_gauge(bl_metric *f, const char *const *label_values, bl_err *err)
{
    metric_child *c = child_lookup(f, KIND_GAUGE, label_values, err);
    return c ? &c->as.gauge : NULL;
}

bl_histogram *bl_metric_histogram(bl_metric *f, const char *const *label_values, bl_err *err)
{
    metric_child *c = child_lookup(f, KIND_HISTOGRAM, label_values, err);
    return c ? &c->as.histogram : NULL;
}

/* ---- hot path ---- */

void bl_counter_inc(bl_counter *c)
{
    atomic_add_double(&c->bits, 1.0);
}

void bl_counter_add(bl_counter *c, double v)
{
    if (v > 0)
        atomic_add_double(&c->bits, v);
}

void bl_gauge_set(bl_gauge *g, double v)
{
    atomic_store_explicit(&g->bits, double_bits(v), memory_order_relaxed);
}

void bl_gauge_add(bl_gauge *g, double v)
{
    atomic_add_double(&g->bits, v);
}

void bl_histogram_observe(bl_histogram *h, double v)
{
    if (isnan(v))
        return;
    size_t i = 0;
    while (i < h->nbounds && v > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_add_double(&h->sum_bits, v);
}

double bl_counter_value(const bl_counter *c)
{
    return bits_double(atomic_load_explicit(&((bl_counter *)c)->bits, memory_order_relaxed));
}

double bl_gauge_value(const bl_gauge *g)
{
    return bits_double(atomic_load_explicit(&((bl_gauge *)g)->bits, memory_order_relaxed));
}

/* ---- rendering ---- */

static void put_double(FILE *out, double v)
{
    if (isnan(v)) {
        fputs("NaN", out);
    } else if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", out);
    } else {
        /* The shortest of %.15g / %.17g that reads back as the same double. */
        char buf[32];
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
        fputs(buf, out);
    }
}

/* HELP text escapes backslash and newline; label values also the quote. */
static void put_escaped(FILE *out, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else if (quote && *s == '"')
            fputs("\\\"", out);
        else
            fputc(*s, out);
    }
}

/* Writes name+suffix{labels[,le="..."]} followed by a space. */
static void put_series(FILE *out, const bl_metric *f, const metric_child *c, const char *suffix,
                       const double *le)
{
    fprintf(out, "%s%s", f->name, suffix);
    if (f->nlabels || le) {
        fputc('{', out);
        for (size_t i = 0; i < f->nlabels; i++) {
            fprintf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
            put_escaped(out, c->values[i], true);
            fputc('"', out);
        }
        if (le) {
            fprintf(out, "%sle=\"", f->nlabels ? "," : "");
            put_double(out, *le);
            fputc('"', out);
        }
        fputc('}', out);
    }
    fputc(' ', out);
}

static void render_histogram(FILE *out, const bl_metric *f, const metric_child *c)
{
    const struct bl_histogram *h = &c->as.histogram;
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cumulative += atomic_load_explicit(&((struct bl_histogram *)h)->counts[i],
                                           memory_order_relaxed);
        double le = i < h->nbounds ? h->bounds[i] : INFINITY;
        put_series(out, f, c, "_bucket", &le);
        fprintf(out, "%llu\n", (unsigned long long)cumulative);
    }
    put_series(out, f, c, "_sum", NULL);
    put_double(out, bits_double(atomic_load_explicit(&((struct bl_histogram *)h)->sum_bits,
                                                     memory_order_relaxed)));
    fputc('\n', out);
    /* _count is the +Inf bucket, so the two always agree in one scrape. */
    put_series(out, f, c, "_count", NULL);
    fprintf(out, "%llu\n", (unsigned long long)cumulative);
}

char *bl_metrics_render(bl_metrics *m, bl_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        bl_err_set(err, BL_ENOMEM, "metrics: render: out of memory");
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    for (const bl_metric *f = m->families; f; f = f->next) {
        if (!f->children)
            continue;
        fprintf(out, "# HELP %s ", f->name);
        put_escaped(out, f->help, false);
        fprintf(out, "\n# TYPE %s %s\n", f->name, kind_names[f->kind]);
        for (const metric_child *c = f->children; c; c = c->next) {
            if (f->kind == KIND_HISTOGRAM) {
                render_histogram(out, f, c);
            } else {
                put_series(out, f, c, "", NULL);
                put_double(out, f->kind == KIND_COUNTER ? bl_counter_value(&c->as.counter)
                                                        : bl_gauge_value(&c->as.gauge));
                fputc('\n', out);
            }
        }
    }
    pthread_mutex_unlock(&m->lock);
    if (fclose(out) != 0) {
        free(text);
        bl_err_set(err, BL_ENOMEM, "metrics: render: out of memory");
        return NULL;
    }
    return text;
}
