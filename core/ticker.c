/* The periodic job thread (see ticker.h). */
#include "core/ticker.h"

#include "core/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct bl_ticker {
    unsigned period_ms;
    bl_ticker_first first;
    void (*fn)(void *ctx);
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

static void *tick(void *arg)
{
    bl_ticker *t = arg;
    bool due = t->first == BL_TICKER_AT_ONCE;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        if (due) {
            pthread_mutex_unlock(&t->lock);
            t->fn(t->ctx);
            pthread_mutex_lock(&t->lock);
        }
        /* a spurious wake-up is not a period */
        struct timespec until = bl_clock_deadline_after_ms(CLOCK_REALTIME, t->period_ms);
        while (!t->stopping && pthread_cond_timedwait(&t->wake, &t->lock, &until) != ETIMEDOUT)
            ;
        due = true;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

bl_ticker *bl_ticker_start(unsigned period_ms, bl_ticker_first first, void (*fn)(void *ctx), void *ctx,
                           const char *what, bl_err *err)
{
    bl_ticker *t = calloc(1, sizeof *t);
    if (!t) {
        bl_err_set(err, BL_ENOMEM, "%s: out of memory", what);
        return NULL;
    }
    t->period_ms = period_ms;
    t->first = first;
    t->fn = fn;
    t->ctx = ctx;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, tick, t) != 0) {
        bl_err_set(err, BL_EIO, "%s: cannot start its thread", what);
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void bl_ticker_stop(bl_ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
