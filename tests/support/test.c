#include "tests/support/test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int bl_test_failures;
int bl_test_current_failed;
static int passed;

void bl_test_run(const char *name, void (*fn)(void))
{
    bl_test_current_failed = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fn();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (bl_test_current_failed) {
        bl_test_failures++;
        fprintf(stderr, "not ok  %s (%.0f ms)\n", name, ms);
    } else {
        passed++;
        fprintf(stderr, "ok      %s (%.0f ms)\n", name, ms);
    }
}

int bl_test_summary(void)
{
    fprintf(stderr, "%d passed, %d failed\n", passed, bl_test_failures);
    return bl_test_failures ? 1 : 0;
}

const char *bl_test_kafka_brokers(void)
{
    const char *v = getenv("BUSLINE_KAFKA_BROKERS");
    return v && *v ? v : "127.0.0.1:9092";
}

const char *bl_test_pg_url(void)
{
    const char *v = getenv("BUSLINE_PG_URL");
    return v && *v ? v : "postgresql://busline:busline@127.0.0.1:5433/busline";
}

void bl_test_unique_name(char *buf, size_t len, const char *prefix)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, len, "%s_%ld_%u_%lx", prefix, (long)getpid(), counter++,
             (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 8)) & 0xffffffUL);
}

void bl_test_capture_stdout(void (*fn)(void *ctx), void *ctx, char *out, size_t len)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    int saved = dup(1);
    dup2(fileno(tmp), 1);
    fn(ctx);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, len - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

int bl_test_run_busline(const char *env, const char *args, char *out, size_t len)
{
    const char *bin = getenv("BUSLINE_BIN");
    out[0] = '\0';
    if (!bin)
        return -1;
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "BUSLINE_KAFKA_BROKERS='%s' BUSLINE_LOG_LEVEL=error %s '%s' %s 2>&1",
                     bl_test_kafka_brokers(), env ? env : "", bin, args);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t got = fread(out, 1, len - 1, p);
    out[got] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
