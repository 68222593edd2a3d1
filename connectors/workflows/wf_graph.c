/* The graph checks of a workflow: every reference names a step, every step
 * is reachable from the first, every cycle holds a delay. */
#include "connectors/workflows/wf_internal.h"
#include "core/field_problems.h"

#include <stdio.h>
#include <string.h>

#define EDGES_MAX 4

/* The steps step i may lead to, by index, into out; returns how many. Unknown
 * names are reported (when problems is non-NULL) and skipped. */
static size_t edges_of(const bl_wf_def *d, size_t i, size_t out[EDGES_MAX], json_t *problems)
{
    const bl_wf_step *s = &d->steps[i];
    const char *names[EDGES_MAX] = {s->on_success, s->on_error, s->on_true, s->on_false};
    static const char *const fields[EDGES_MAX] = {"onSuccess", "onError", "config.onTrue", "config.onFalse"};
    size_t n = 0;
    for (size_t k = 0; k < EDGES_MAX; k++) {
        if (!names[k])
            continue;
        const bl_wf_step *to = bl_wf_def_step(d, names[k]);
        if (!to) {
            if (problems) {
                char field[96];
                snprintf(field, sizeof field, "steps[%zu].%s", i, fields[k]);
                bl_field_problem(problems, field, "no step has the id \"%s\"", names[k]);
            }
            continue;
        }
        out[n++] = (size_t)(to - d->steps);
    }
    return n;
}

/* Depth-first walk over non-delay steps: color 1 = on the path, 2 = done.
 * Returns true when a cycle through non-delay steps is found (its entry in *at). */
static bool cycle_from(const bl_wf_def *d, size_t i, int *color, size_t *at)
{
    color[i] = 1;
    size_t to[EDGES_MAX];
    size_t n = edges_of(d, i, to, NULL);
    for (size_t k = 0; k < n; k++) {
        size_t j = to[k];
        if (d->steps[j].type == BL_WF_DELAY)
            continue;
        if (color[j] == 1) {
            *at = j;
            return true;
        }
        if (color[j] == 0 && cycle_from(d, j, color, at))
            return true;
    }
    color[i] = 2;
    return false;
}

void bl_wf_graph_check(const bl_wf_def *d, json_t *problems)
{
    size_t to[EDGES_MAX];
    for (size_t i = 0; i < d->n_steps; i++)
        edges_of(d, i, to, problems);
    /* reachability from the first step */
    bool seen[BL_WF_STEPS_MAX] = {false};
    size_t stack[BL_WF_STEPS_MAX], top = 0;
    seen[0] = true;
    stack[top++] = 0;
    while (top > 0) {
        size_t i = stack[--top];
        size_t n = edges_of(d, i, to, NULL);
        for (size_t k = 0; k < n; k++)
            if (!seen[to[k]]) {
                seen[to[k]] = true;
                stack[top++] = to[k];
            }
    }
    for (size_t i = 0; i < d->n_steps; i++)
        if (!seen[i]) {
            char field[48];
            snprintf(field, sizeof field, "steps[%zu].id", i);
            bl_field_problem(problems, field, "step \"%s\" is unreachable from the first step \"%s\"", d->steps[i].id,
                          d->steps[0].id);
        }
    /* cycles: the steps other than delays must form no cycle */
    int color[BL_WF_STEPS_MAX] = {0};
    for (size_t i = 0; i < d->n_steps; i++) {
        size_t at = 0;
        if (d->steps[i].type == BL_WF_DELAY || color[i] != 0 || !cycle_from(d, i, color, &at))
            continue;
        char field[48];
        snprintf(field, sizeof field, "steps[%zu].id", at);
        bl_field_problem(problems, field, "step \"%s\" is on a cycle without a delay step: it would loop at once forever",
                      d->steps[at].id);
        return;
    }
}
