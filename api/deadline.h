/* Absolute deadlines for pthread_cond_timedwait, shared by the API's
 * waiting threads (flushers, the command ack wait). */
#ifndef BUSLINE_API_DEADLINE_H
#define BUSLINE_API_DEADLINE_H

#include <time.h>

/* The time ms milliseconds from now on clock (CLOCK_REALTIME for a default
 * condition variable, CLOCK_MONOTONIC for one set to it). */
static inline struct timespec bl_api_deadline_after_ms(clockid_t clock, unsigned ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
