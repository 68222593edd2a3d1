/* SIGTERM/SIGINT handling that lets a role finish in-flight work: the first
 * signal asks for a graceful stop, a second one during the drain exits. */
#ifndef BUSLINE_CORE_SIGNALS_H
#define BUSLINE_CORE_SIGNALS_H

#include "core/err.h"

/* Installs the handlers (SIGPIPE is ignored too). Returns 0, or -1 with err. */
int bl_signals_install(bl_err *err);

/* Returns 1 once a stop has been asked for (signal or bl_signals_request_stop). */
int bl_signals_stop_requested(void);

/* Asks for a graceful stop from inside the process (tests, fatal errors). */
void bl_signals_request_stop(void);

/* A file descriptor that becomes readable when a stop is asked for, so poll
 * loops wake at once; -1 before bl_signals_install. Borrowed. */
int bl_signals_wake_fd(void);

#endif
