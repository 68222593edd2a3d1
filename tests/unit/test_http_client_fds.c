/* bl_http_client_run_fds returns when an extra fd becomes readable, and
 * waits the whole time when none does. */
#include "core/http_client.h"
#include "core/clock.h"
#include "tests/support/test.h"

#include <time.h>
#include <unistd.h>

static void readable_extra_fd_ends_the_wait(void)
{
    bl_err err = {0};
    bl_http_client *c = bl_http_client_new(NULL, &err);
    REQUIRE(c != NULL);
    int p[2];
    REQUIRE(pipe(p) == 0);
    REQUIRE(write(p[1], "x", 1) == 1);
    int64_t t0 = bl_clock_mono_ms();
    CHECK_EQ_INT(bl_http_client_run_fds(c, 10000, &p[0], 1, &err), 0);
    /* the wait ended because of the fd, not the 10 s timeout */
    CHECK(bl_clock_mono_ms() - t0 < 9000);
    close(p[0]);
    close(p[1]);
    bl_http_client_free(c);
}

static void idle_extra_fd_lets_the_timeout_run(void)
{
    bl_err err = {0};
    bl_http_client *c = bl_http_client_new(NULL, &err);
    REQUIRE(c != NULL);
    int p[2];
    REQUIRE(pipe(p) == 0);
    int64_t t0 = bl_clock_mono_ms();
    CHECK_EQ_INT(bl_http_client_run_fds(c, 200, &p[0], 1, &err), 0);
    CHECK(bl_clock_mono_ms() - t0 >= 190);
    close(p[0]);
    close(p[1]);
    bl_http_client_free(c);
}

static void too_many_fds_are_refused(void)
{
    bl_err err = {0};
    bl_http_client *c = bl_http_client_new(NULL, &err);
    REQUIRE(c != NULL);
    int fds[17] = {0};
    CHECK_EQ_INT(bl_http_client_run_fds(c, 0, fds, 17, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    bl_http_client_free(c);
}

int main(void)
{
    BL_RUN(readable_extra_fd_ends_the_wait);
    BL_RUN(idle_extra_fd_lets_the_timeout_run);
    BL_RUN(too_many_fds_are_refused);
    return bl_test_summary();
}
