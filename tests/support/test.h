/* A small test harness: each test file is one executable with a main that
 * calls BL_RUN(test_fn) for each behaviour; a failed check reports file, line
 * and the expression, and the executable exits non-zero. */
#ifndef BUSLINE_TEST_H
#define BUSLINE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int bl_test_failures;
extern int bl_test_current_failed;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    bl_test_current_failed = 1; } } while (0)

/* Stops the current test (returns from it) when cond is false. */
#define REQUIRE(cond) do { if (!(cond)) { \
    fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    bl_test_current_failed = 1; return; } } while (0)

#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); if (a_ != b_) { \
    fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, #a, #b, a_, b_); \
    bl_test_current_failed = 1; } } while (0)

#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
    fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__, #a, #b, \
            a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    bl_test_current_failed = 1; } } while (0)

/* Runs one test function and reports it by name. */
#define BL_RUN(fn) bl_test_run(#fn, fn)

void bl_test_run(const char *name, void (*fn)(void));

/* Prints "N passed, N failed" and returns the process exit code. */
int bl_test_summary(void);

/* The test-only environment: Kafka brokers and Postgres URL as scripts/test
 * exports them (BUSLINE_KAFKA_BROKERS, BUSLINE_PG_URL), with the local
 * defaults. Borrowed strings. */
const char *bl_test_kafka_brokers(void);
const char *bl_test_pg_url(void);

/* Fills buf with "<prefix>_<pid>_<counter>_<random>" so each run gets fresh
 * topics, groups and databases. */
void bl_test_unique_name(char *buf, size_t len, const char *prefix);

/* Runs fn(ctx) with stdout pointed at a temp file and copies what it printed
 * (cut to len - 1 bytes) into out, NUL-terminated. */
void bl_test_capture_stdout(void (*fn)(void *ctx), void *ctx, char *out, size_t len);

/* Runs "$BUSLINE_BIN args" through the shell with BUSLINE_KAFKA_BROKERS set
 * to the test brokers, BUSLINE_LOG_LEVEL=error, then env (more "NAME=value"
 * words, which win; may be NULL); stdout and stderr go into out (cut to
 * len - 1 bytes). Returns the exit status, or -1 when it did not run. */
int bl_test_run_busline(const char *env, const char *args, char *out, size_t len);

#endif
