/* The process's one reading of time: monotonic and wall-clock milliseconds,
 * and absolute deadlines for pthread_cond_timedwait. */
#ifndef BUSLINE_CORE_CLOCK_H
#define BUSLINE_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC: for intervals and timeouts, never for
 * timestamps another process reads. */
int64_t bl_clock_mono_ms(void);

/* Microseconds on CLOCK_MONOTONIC: for durations finer than a millisecond
 * (a request's handling time). */
int64_t bl_clock_mono_us(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME): for timestamps stored,
 * sent or compared with other hosts. */
int64_t bl_clock_wall_ms(void);

/* The absolute time ms milliseconds from now on clock (CLOCK_REALTIME for a
 * default condition variable, CLOCK_MONOTONIC for one set to it); a negative
 * ms counts as 0. Returns the deadline by value. */
struct timespec bl_clock_deadline_after_ms(clockid_t clock, int64_t ms);

#endif
