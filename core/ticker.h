/* A background thread that runs one job every period: the API's usage
 * flusher, its request-log writer, the webhook replay poller and any other
 * "do what piled up, every N ms, until stopped" loop. Stopping wakes the
 * thread at once. */
#ifndef BUSLINE_CORE_TICKER_H
#define BUSLINE_CORE_TICKER_H

#include "core/err.h"

typedef struct bl_ticker bl_ticker;

/* When the first run happens. */
typedef enum bl_ticker_first {
    BL_TICKER_AFTER_A_PERIOD, /* a flusher: nothing piled up yet */
    BL_TICKER_AT_ONCE,        /* a poller: work may be waiting already */
} bl_ticker_first;

/* Runs fn(ctx) every period_ms on a thread of its own until bl_ticker_stop,
 * the first run as first says. Returns the ticker, or NULL with err set
 * (what names the job in the message) when the thread cannot start. */
bl_ticker *bl_ticker_start(unsigned period_ms, bl_ticker_first first, void (*fn)(void *ctx), void *ctx,
                           const char *what, bl_err *err);

/* Wakes and joins the thread, then frees the ticker; fn does not run again
 * once this returns (the caller runs a last one itself if it wants). NULL is
 * a no-op. */
void bl_ticker_stop(bl_ticker *t);

#endif
