#include "core/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static int wake_fd = -1;

static void wake(void)
{
    if (wake_fd >= 0) {
        uint64_t one = 1;
        /* Only async-signal-safe calls here; a full counter is fine to ignore. */
        ssize_t r = write(wake_fd, &one, sizeof one);
        (void)r;
    }
}

static void on_stop_signal(int sig)
{
    if (stop_requested) {
        /* A second signal while draining: the operator wants out now. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_requested = 1;
    wake();
}

int bl_signals_install(bl_err *err)
{
    if (wake_fd < 0) {
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd < 0)
            return bl_err_set(err, BL_EIO, "signals: eventfd: %s", strerror(errno));
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return bl_err_set(err, BL_EIO, "signals: sigaction: %s", strerror(errno));
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int bl_signals_stop_requested(void)
{
    return stop_requested != 0;
}

void bl_signals_request_stop(void)
{
    stop_requested = 1;
    wake();
}

int bl_signals_wake_fd(void)
{
    return wake_fd;
}
