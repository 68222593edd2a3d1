/* A thread-safe metrics registry rendered in the Prometheus text exposition
 * format 0.0.4. Families (counter, gauge, histogram) are registered once,
 * optionally with fixed label names; a child per label values is looked up
 * (this may lock) and then updated lock-free with C11 atomics, so hot paths
 * look a child up once and keep the pointer. Children live as long as the
 * registry. */
#ifndef BUSLINE_CORE_METRICS_H
#define BUSLINE_CORE_METRICS_H

#include "core/err.h"

#include <stddef.h>

typedef struct bl_metrics bl_metrics;      /* the registry */
typedef struct bl_metric bl_metric;        /* one family: name, help, type, label names */
typedef struct bl_counter bl_counter;      /* one child of a counter family */
typedef struct bl_gauge bl_gauge;          /* one child of a gauge family */
typedef struct bl_histogram bl_histogram;  /* one child of a histogram family */

/* Latency buckets in seconds, 5 ms .. 10 s (the Prometheus client default). */
extern const double bl_metrics_default_buckets[];
extern const size_t bl_metrics_default_bucket_count;

/* Returns an empty registry (caller frees with bl_metrics_free), or NULL. */
bl_metrics *bl_metrics_new(void);

/* Frees the registry with every family and child. Accepts NULL. No other
 * thread may use the registry or its children any more. */
void bl_metrics_free(bl_metrics *m);

/* Registers a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*; label_names
 * is a NULL-terminated array (or NULL for none) of [a-zA-Z_][a-zA-Z0-9_]* not
 * starting with "__" (and not "le" for histograms). help is copied. Returns
 * the family, owned by m, or NULL with err filled (BL_EINVAL for bad names,
 * BL_ECONFLICT when name is already registered). */
bl_metric *bl_metrics_counter(bl_metrics *m, const char *name, const char *help,
                              const char *const *label_names, bl_err *err);
bl_metric *bl_metrics_gauge(bl_metrics *m, const char *name, const char *help,
                            const char *const *label_names, bl_err *err);

/* Like bl_metrics_counter, with bucket upper bounds (strictly increasing,
 * finite; "+Inf" is always added). buckets NULL uses the default buckets. */
bl_metric *bl_metrics_histogram(bl_metrics *m, const char *name, const char *help,
                                const char *const *label_names, const double *buckets,
                                size_t nbuckets, bl_err *err);

/* The child of family f for label_values (as many as f has label names;
 * NULL when it has none), created on first use. Returns a pointer owned by
 * the registry, or NULL with err filled when f has another type or the
 * number of values is wrong. */
bl_counter *bl_metric_counter(bl_metric *f, const char *const *label_values, bl_err *err);
bl_gauge *bl_metric_gauge(bl_metric *f, const char *const *label_values, bl_err *err);
bl_histogram *bl_metric_histogram(bl_metric *f, const char *const *label_values, bl_err *err);

/* Hot-path updates: lock-free, safe from any thread. */
void bl_counter_inc(bl_counter *c);
void bl_counter_add(bl_counter *c, double v); /* v < 0 or NaN is ignored: counters only grow */
void bl_gauge_set(bl_gauge *g, double v);
void bl_gauge_add(bl_gauge *g, double v);     /* negative v decrements */
void bl_histogram_observe(bl_histogram *h, double v);

/* Reads a child's current value (tests, health checks). */
double bl_counter_value(const bl_counter *c);
double bl_gauge_value(const bl_gauge *g);

/* Renders every family in name order, children in label-value order, as
 * Prometheus text 0.0.4. Families with labels and no children yet are left
 * out. Returns a NUL-terminated string the caller frees, or NULL with err. */
char *bl_metrics_render(bl_metrics *m, bl_err *err);

#endif
