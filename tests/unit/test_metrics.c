#include "core/metrics.h"
#include "tests/support/test.h"

#include <math.h>
#include <pthread.h>

static void registry_renders_exact_prometheus_text(void)
{
    bl_err err;
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    /* Registered out of name order: rendering sorts families by name. */
    bl_metric *req = bl_metrics_counter(m, "busline_test_requests_total", "HTTP requests served",
                                        (const char *const[]){"method", "code", NULL}, &err);
    bl_metric *backlog = bl_metrics_gauge(m, "busline_test_backlog_events", "events waiting",
                                          NULL, &err);
    const double buckets[] = {0.125, 0.5, 1};
    bl_metric *dur = bl_metrics_histogram(m, "busline_test_duration_seconds", "call duration",
                                          NULL, buckets, 3, &err);
    REQUIRE(req && backlog && dur);

    bl_counter *post500 = bl_metric_counter(req, (const char *const[]){"POST", "500", NULL}, &err);
    bl_counter *get200 = bl_metric_counter(req, (const char *const[]){"GET", "200", NULL}, &err);
    REQUIRE(post500 && get200);
    bl_counter_inc(post500);
    bl_counter_add(get200, 3);
    bl_counter_add(get200, -5); /* ignored: counters only grow */
    CHECK(bl_metric_counter(req, (const char *const[]){"GET", "200", NULL}, &err) == get200);

    bl_gauge *g = bl_metric_gauge(backlog, NULL, &err);
    REQUIRE(g);
    bl_gauge_set(g, 10);
    bl_gauge_add(g, -2.5);
    CHECK(bl_gauge_value(g) == 7.5);

    bl_histogram *h = bl_metric_histogram(dur, NULL, &err);
    REQUIRE(h);
    bl_histogram_observe(h, 0.0625);
    bl_histogram_observe(h, 0.125); /* on a bound: counts in le="0.125" */
    bl_histogram_observe(h, 0.25);
    bl_histogram_observe(h, 2);

    char *text = bl_metrics_render(m, &err);
    REQUIRE(text);
    CHECK_EQ_STR(text,
                 "# HELP busline_test_backlog_events events waiting\n"
                 "# TYPE busline_test_backlog_events gauge\n"
                 "busline_test_backlog_events 7.5\n"
                 "# HELP busline_test_duration_seconds call duration\n"
                 "# TYPE busline_test_duration_seconds histogram\n"
                 "busline_test_duration_seconds_bucket{le=\"0.125\"} 2\n"
                 "busline_test_duration_seconds_bucket{le=\"0.5\"} 3\n"
                 "busline_test_duration_seconds_bucket{le=\"1\"} 3\n"
                 "busline_test_duration_seconds_bucket{le=\"+Inf\"} 4\n"
                 "busline_test_duration_seconds_sum 2.4375\n"
                 "busline_test_duration_seconds_count 4\n"
                 "# HELP busline_test_requests_total HTTP requests served\n"
                 "# TYPE busline_test_requests_total counter\n"
                 "busline_test_requests_total{method=\"GET\",code=\"200\"} 3\n"
                 "busline_test_requests_total{method=\"POST\",code=\"500\"} 1\n");
    free(text);
    bl_metrics_free(m);
}

static void labeled_histogram_renders_cumulative_buckets_per_child(void)
{
    bl_err err;
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    bl_metric *f = bl_metrics_histogram(m, "busline_test_latency_seconds", "latency",
                                        (const char *const[]){"endpoint", NULL}, NULL, 0, &err);
    REQUIRE(f);
    bl_histogram *h = bl_metric_histogram(f, (const char *const[]){"ep1", NULL}, &err);
    REQUIRE(h);
    bl_histogram_observe(h, 0.003);
    bl_histogram_observe(h, 0.7);
    bl_histogram_observe(h, 30);
    char *text = bl_metrics_render(m, &err);
    REQUIRE(text);
    CHECK(strstr(text, "busline_test_latency_seconds_bucket{endpoint=\"ep1\",le=\"0.005\"} 1\n"
                       "busline_test_latency_seconds_bucket{endpoint=\"ep1\",le=\"0.01\"} 1\n") != NULL);
    CHECK(strstr(text, "{endpoint=\"ep1\",le=\"0.5\"} 1\n"
                       "busline_test_latency_seconds_bucket{endpoint=\"ep1\",le=\"1\"} 2\n") != NULL);
    CHECK(strstr(text, "{endpoint=\"ep1\",le=\"10\"} 2\n"
                       "busline_test_latency_seconds_bucket{endpoint=\"ep1\",le=\"+Inf\"} 3\n"
                       "busline_test_latency_seconds_sum{endpoint=\"ep1\"} 30.703\n"
                       "busline_test_latency_seconds_count{endpoint=\"ep1\"} 3\n") != NULL);
    free(text);
    bl_metrics_free(m);
}

static void help_and_label_values_are_escaped(void)
{
    bl_err err;
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    bl_metric *f = bl_metrics_counter(m, "busline_test_paths_total", "per path\nback\\slash \"q\"",
                                      (const char *const[]){"path", NULL}, &err);
    REQUIRE(f);
    bl_counter *c = bl_metric_counter(f, (const char *const[]){"a\\b\"c\nd", NULL}, &err);
    REQUIRE(c);
    bl_counter_add(c, 0.1);
    /* A labeled family with no child yet is left out entirely. */
    REQUIRE(bl_metrics_gauge(m, "busline_test_unused", "x", (const char *const[]){"k", NULL}, &err));
    char *text = bl_metrics_render(m, &err);
    REQUIRE(text);
    CHECK_EQ_STR(text, "# HELP busline_test_paths_total per path\\nback\\\\slash \"q\"\n"
                       "# TYPE busline_test_paths_total counter\n"
                       "busline_test_paths_total{path=\"a\\\\b\\\"c\\nd\"} 0.1\n");
    free(text);
    bl_metrics_free(m);
}

static void bad_names_labels_buckets_and_lookups_are_rejected(void)
{
    bl_err err;
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    CHECK(bl_metrics_counter(m, "9lives", "x", NULL, &err) == NULL);
    CHECK_EQ_STR(err.msg, "metrics: name \"9lives\" does not match [a-zA-Z_:][a-zA-Z0-9_:]*");
    CHECK(bl_metrics_counter(m, "has-dash", "x", NULL, &err) == NULL);
    CHECK(bl_metrics_counter(m, "", "x", NULL, &err) == NULL);
    CHECK(bl_metrics_counter(m, "ok:name_total", "x", NULL, &err) != NULL);
    CHECK(bl_metrics_counter(m, "ok:name_total", "x", NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK(bl_metrics_gauge(m, "g1", "x", (const char *const[]){"a:b", NULL}, &err) == NULL);
    CHECK(bl_metrics_gauge(m, "g2", "x", (const char *const[]){"__x", NULL}, &err) == NULL);
    CHECK(bl_metrics_gauge(m, "g3", "x", (const char *const[]){"a", "a", NULL}, &err) == NULL);
    CHECK(bl_metrics_histogram(m, "h1", "x", (const char *const[]){"le", NULL}, NULL, 0, &err) == NULL);
    CHECK_EQ_STR(err.msg, "metrics: h1: label \"le\" is reserved");
    const double down[] = {1, 0.5};
    CHECK(bl_metrics_histogram(m, "h2", "x", NULL, down, 2, &err) == NULL);
    const double with_nan[] = {0.1, NAN};
    CHECK(bl_metrics_histogram(m, "h3", "x", NULL, with_nan, 2, &err) == NULL);
    const double with_inf[] = {0.1, INFINITY};
    CHECK(bl_metrics_histogram(m, "h4", "x", NULL, with_inf, 2, &err) != NULL);

    bl_metric *f = bl_metrics_counter(m, "c_total", "x", (const char *const[]){"a", "b", NULL}, &err);
    REQUIRE(f);
    CHECK(bl_metric_counter(f, (const char *const[]){"only-one", NULL}, &err) == NULL);
    CHECK_EQ_STR(err.msg, "metrics: c_total: 1 label values given, 2 expected");
    CHECK(bl_metric_counter(f, (const char *const[]){"1", "2", "3", NULL}, &err) == NULL);
    CHECK(bl_metric_gauge(f, (const char *const[]){"1", "2", NULL}, &err) == NULL);
    CHECK_EQ_STR(err.msg, "metrics: c_total is a counter, not a gauge");
    bl_metrics_free(m);
}

#define THREADS 4
#define PER_THREAD 100000

typedef struct worker_arg {
    bl_metric *counter_family;
    bl_histogram *histogram;
} worker_arg;

static void *increment_worker(void *p)
{
    worker_arg *a = p;
    bl_err err;
    /* Every thread races to create the same child, then updates it. */
    bl_counter *c = bl_metric_counter(a->counter_family, (const char *const[]){"shared", NULL}, &err);
    if (!c)
        return NULL;
    for (int i = 0; i < PER_THREAD; i++) {
        bl_counter_inc(c);
        bl_histogram_observe(a->histogram, 1.0);
    }
    return c;
}

static void concurrent_increments_sum_exactly(void)
{
    bl_err err;
    bl_metrics *m = bl_metrics_new();
    REQUIRE(m);
    bl_metric *cf = bl_metrics_counter(m, "busline_test_events_total", "events",
                                       (const char *const[]){"kind", NULL}, &err);
    bl_metric *hf = bl_metrics_histogram(m, "busline_test_work_seconds", "work", NULL, NULL, 0, &err);
    REQUIRE(cf && hf);
    worker_arg arg = {cf, bl_metric_histogram(hf, NULL, &err)};
    REQUIRE(arg.histogram);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, increment_worker, &arg) == 0);
    void *child[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], &child[i]);
    for (int i = 1; i < THREADS; i++)
        CHECK(child[i] == child[0]);
    REQUIRE(child[0]);
    CHECK(bl_counter_value(child[0]) == (double)THREADS * PER_THREAD);
    char *text = bl_metrics_render(m, &err);
    REQUIRE(text);
    CHECK(strstr(text, "busline_test_events_total{kind=\"shared\"} 400000\n") != NULL);
    CHECK(strstr(text, "busline_test_work_seconds_count 400000\n") != NULL);
    CHECK(strstr(text, "busline_test_work_seconds_sum 400000\n") != NULL);
    CHECK(strstr(text, "busline_test_work_seconds_bucket{le=\"0.5\"} 0\n") != NULL);
    free(text);
    bl_metrics_free(m);
}

int main(void)
{
    BL_RUN(registry_renders_exact_prometheus_text);
    BL_RUN(labeled_histogram_renders_cumulative_buckets_per_child);
    BL_RUN(help_and_label_values_are_escaped);
    BL_RUN(bad_names_labels_buckets_and_lookups_are_rejected);
    BL_RUN(concurrent_increments_sum_exactly);
    return bl_test_summary();
}
