/* A background thread that runs one job every period: the API's usage
 * flusher, its request-log writer and any other "write what piled up, every
 * N ms, until stopped" loop. Stopping wakes the thread at once. */
#ifndef BUSLINE_CORE_TICKER_H
#define BUSLINE_CORE_TICKER_H

#include "core/err.h"

typedef struct bl_ticker bl_ticker;

/* Runs fn(ctx) every period_ms (first after one period) on a thread of its
 * own until bl_ticker_stop. Returns the ticker, or NULL with err set (what
 * names the job in the message) when the thread cannot start. */
bl_ticker *bl_ticker_start(unsigned period_ms, void (*fn)(void *ctx), void *ctx, const char *what, bl_err *err);

/* Wakes and joins the thread, then frees the ticker; fn does not run again
 * once this returns (the caller runs a last one itself if it wants). NULL is
 * a no-op. */
void bl_ticker_stop(bl_ticker *t);

#endif
