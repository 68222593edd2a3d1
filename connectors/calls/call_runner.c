/* The runner: shared state of every call of the process. */
#include "connectors/calls/call_internal.h"

#include <stdlib.h>
#include <string.h>

struct bl_call_runner {
    bl_call_runner_opts opts;
};

bl_call_runner *bl_call_runner_new(const bl_call_runner_opts *opts, bl_err *err)
{
    bl_call_runner *r = calloc(1, sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "calls: out of memory");
        return NULL;
    }
    if (opts)
        r->opts = *opts;
    return r;
}

void bl_call_runner_free(bl_call_runner *r)
{
    free(r);
}

int bl_call_run(bl_call_runner *r, const bl_call *c, const json_t *input, const char *idempotency_key,
                bl_call_result *out, bl_err *err)
{
    (void)r; (void)c; (void)input; (void)idempotency_key;
    memset(out, 0, sizeof *out);
    return bl_err_set(err, BL_EINVAL, "calls: run not built yet");
}

size_t bl_call_run_batch(bl_call_runner *r, const bl_call *c, const json_t *const *inputs,
                         const char *const *keys, size_t n, bl_call_result *outs, bl_err *err)
{
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        if (bl_call_run(r, c, inputs[i], keys ? keys[i] : NULL, &outs[i], err) == 0)
            ok++;
    return ok;
}

void bl_call_result_clear(bl_call_result *out)
{
    if (!out)
        return;
    json_decref(out->body);
    out->body = NULL;
}

bl_breaker_state bl_call_runner_breaker_state(bl_call_runner *r, const bl_call *c)
{
    (void)r; (void)c;
    return BL_BREAKER_CLOSED;
}

int64_t bl_call_backoff_ms(const bl_call_retry *rp, int attempt)
{
    (void)rp; (void)attempt;
    return 0;
}
