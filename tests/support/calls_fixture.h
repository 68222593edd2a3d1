/* What the connectors/calls tests share: a runner over an allow-list of
 * 127.0.0.0/8 (the local fakes) and compiling a call from JSON text. */
#ifndef BUSLINE_TEST_CALLS_FIXTURE_H
#define BUSLINE_TEST_CALLS_FIXTURE_H

#include "connectors/calls/call.h"
#include "tests/support/fake_service.h"

#include <stdio.h>

extern bl_ssrf_allowlist bl_calls_allow; /* 127.0.0.0/8 */
extern bl_call_runner *bl_calls_runner;  /* over bl_calls_allow */

/* Parses the allow-list and starts the runner. Returns 0, or -1 after
 * printing why. */
int bl_calls_fixture_open(void);

/* Frees the runner. */
void bl_calls_fixture_close(void);

/* Compiles the call config in text for organization "org-1" over the
 * allow-list. Returns the call (bl_call_free), or NULL with err (or after
 * printing that text is not JSON). */
bl_call *bl_calls_compile_text(const char *text, bl_err *err);

/* Compiles a config made from a printf format and its arguments. */
#define BL_CALLS_COMPILE(err, ...)                          \
    ({                                                      \
        char text_[4096];                                   \
        snprintf(text_, sizeof text_, __VA_ARGS__);         \
        bl_calls_compile_text(text_, err);                  \
    })

/* Starts f answering 200 with body and compiles cfg_fmt, whose one %s is
 * f's URL of path. Returns the call, or NULL. */
bl_call *bl_calls_on_fake(fake_service *f, const char *body, const char *path, const char *cfg_fmt, bl_err *err);

#endif
