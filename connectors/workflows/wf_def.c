/* A workflow definition checked and compiled (see wf_def.h); the graph
 * checks are wf_graph.c. */
#include "connectors/workflows/wf_def.h"
#include "connectors/workflows/wf_internal.h"
#include "core/field_problems.h"
#include "core/cron.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *bl_wf_step_type_name(bl_wf_step_type t)
{
    static const char *const names[] = {"integration", "transformation", "condition", "delay"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= BL_WF_STEP_ID_MAX &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* An integer field of obj in lo..hi into *out (def when absent). */
static void int_field(const json_t *obj, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out,
                      const char *where, json_t *problems)
{
    const json_t *v = json_object_get(obj, name);
    *out = def;
    if (!v)
        return;
    char field[160];
    snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", name);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        bl_field_problem(problems, field, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
        return;
    }
    *out = json_integer_value(v);
}

static void parse_retry(const json_t *rp, const bl_wf_retry *dflt, bl_wf_retry *out, const char *where,
                        json_t *problems)
{
    *out = *dflt;
    if (!rp)
        return;
    if (!json_is_object(rp)) {
        bl_field_problem(problems, where, "must be an object {maxAttempts, backoffStrategy, baseDelay, maxDelay}");
        return;
    }
    int64_t attempts, base, max;
    int_field(rp, "maxAttempts", 1, 10, dflt->max_attempts, &attempts, where, problems);
    int_field(rp, "baseDelay", 0, 3600000, dflt->base_ms, &base, where, problems);
    int_field(rp, "maxDelay", 0, 86400000, dflt->max_ms, &max, where, problems);
    out->max_attempts = (int)attempts;
    out->base_ms = base;
    out->max_ms = max < base ? base : max;
    const json_t *s = json_object_get(rp, "backoffStrategy");
    const char *name = json_string_value(s);
    if (!s)
        return;
    char field[160];
    snprintf(field, sizeof field, "%s.backoffStrategy", where);
    if (name && strcmp(name, "fixed") == 0)
        out->strategy = BL_WF_BACKOFF_FIXED;
    else if (name && strcmp(name, "linear") == 0)
        out->strategy = BL_WF_BACKOFF_LINEAR;
    else if (name && strcmp(name, "exponential") == 0)
        out->strategy = BL_WF_BACKOFF_EXPONENTIAL;
    else
        bl_field_problem(problems, field, "must be \"fixed\", \"linear\" or \"exponential\"");
}

int64_t bl_wf_retry_backoff_ms(const bl_wf_retry *r, int failed)
{
    int64_t d = r->base_ms;
    if (r->strategy == BL_WF_BACKOFF_LINEAR)
        d = r->base_ms * (failed < 1 ? 1 : failed);
    else if (r->strategy == BL_WF_BACKOFF_EXPONENTIAL)
        for (int i = 1; i < failed && d < r->max_ms; i++)
            d *= 2;
    return d > r->max_ms ? r->max_ms : d;
}

/* A schedule trigger's config {cron, timezone}. */
static void parse_schedule(bl_wf_def *d, const json_t *cfg, json_t *problems)
{
    const json_t *tzj = json_object_get(cfg, "timezone");
    const char *cron = json_string_value(json_object_get(cfg, "cron"));
    const char *tz = tzj ? json_string_value(tzj) : "UTC";
    bl_err err = {0};
    if (!cron) {
        bl_field_problem(problems, "trigger.config.cron", "required: a five-field cron expression (\"0 9 * * MON-FRI\")");
    } else if (!tz || !bl_tz_name_ok(tz)) {
        bl_field_problem(problems, "trigger.config.timezone", "not an IANA time zone (\"Europe/Paris\"; default UTC)");
    } else if (bl_cron_parse(cron, tz, &d->schedule, &err) != 0) {
        bl_field_problem(problems, "trigger.config.cron", "%s", err.msg);
    } else if (bl_cron_next(&d->schedule, (int64_t)time(NULL)) < 0) {
        bl_field_problem(problems, "trigger.config.cron", "\"%s\" never fires in the next five years", cron);
    }
}

static void parse_trigger(bl_wf_def *d, const json_t *trigger, json_t *problems)
{
    const char *type = json_string_value(json_object_get(trigger, "type"));
    if (!json_is_object(trigger) || !type) {
        bl_field_problem(problems, "trigger", "required: {\"type\": \"event\" | \"schedule\" | \"webhook\" | \"api-call\", \"config\"}");
        return;
    }
    const json_t *cfg = json_object_get(trigger, "config");
    if (strcmp(type, "schedule") == 0) {
        d->trigger_type = BL_WF_TRIGGER_SCHEDULE;
        parse_schedule(d, cfg, problems);
        return;
    }
    if (strcmp(type, "webhook") == 0 || strcmp(type, "api-call") == 0) {
        d->trigger_type = type[0] == 'w' ? BL_WF_TRIGGER_WEBHOOK : BL_WF_TRIGGER_API_CALL;
        if (cfg && !json_is_object(cfg))
            bl_field_problem(problems, "trigger.config", "an object when given (this trigger needs no settings)");
        return;
    }
    if (strcmp(type, "event") != 0) {
        bl_field_problem(problems, "trigger.type", "\"%s\" is not a trigger type (event, schedule, webhook, api-call)",
                         type);
        return;
    }
    d->trigger_type = BL_WF_TRIGGER_EVENT;
    const char *pattern = json_string_value(json_object_get(cfg, "eventType"));
    bl_err err = {0};
    if (!pattern || bl_event_type_pattern_check(pattern, &err) != 0)
        bl_field_problem(problems, "trigger.config.eventType", "required: an event type pattern (\"risk.escalated\", "
                      "\"risk.*\", \"*\")%s%s", err.msg[0] ? ": " : "", err.msg);
    else
        snprintf(d->trigger_event, sizeof d->trigger_event, "%s", pattern);
    bl_err_clear(&err);
    if (!(d->trigger_filter = bl_event_filter_new(json_object_get(cfg, "conditions"), &err)))
        bl_field_problem(problems, "trigger.config.conditions", "%s", err.msg);
}

/* Reports each failed test case of step i's transformation. */
static void report_tests(const bl_wf_step *s, size_t i, json_t *problems)
{
    json_t *failures = NULL;
    int n = bl_transform_run_tests(s->transform, &failures);
    char field[96];
    snprintf(field, sizeof field, "steps[%zu].config.testCases", i);
    if (n < 0)
        bl_field_problem(problems, field, "out of memory running the test cases");
    size_t k;
    json_t *f;
    json_array_foreach(failures, k, f)
    {
        char text[512];
        bl_transform_failure_text(f, text, sizeof text);
        bl_field_problem(problems, field, "%s", text);
    }
    json_decref(failures);
}

static void compile_integration(bl_wf_step *s, const json_t *cfg, size_t i, const bl_wf_env *env, json_t *problems)
{
    char field[64];
    snprintf(field, sizeof field, "steps[%zu].config", i);
    json_t *c = json_deep_copy(cfg);
    if (c && s->timeout_ms > 0 && !json_object_get(c, "timeout"))
        json_object_set_new(c, "timeout", json_integer(s->timeout_ms > 120000 ? 120000 : s->timeout_ms));
    bl_call_compile_opts co = {.allow = env->allow, .catalog = env->catalog,
                               .organization_id = env->organization_id, .actor = "workflow"};
    bl_err err = {0};
    if (!c || !(s->call = bl_call_compile(c, &co, &err)))
        bl_field_problem(problems, field, "%s", c ? err.msg : "out of memory");
    json_decref(c);
}

static void compile_config(bl_wf_step *s, const json_t *cfg, size_t i, const bl_wf_env *env, json_t *problems)
{
    char field[64];
    snprintf(field, sizeof field, "steps[%zu].config", i);
    bl_err err = {0};
    switch (s->type) {
    case BL_WF_INTEGRATION:
        compile_integration(s, cfg, i, env, problems);
        break;
    case BL_WF_TRANSFORMATION:
        if (!(s->transform = bl_transform_compile(cfg, &err)))
            bl_field_problem(problems, field, "%s", err.msg);
        else if (env->run_tests)
            report_tests(s, i, problems);
        break;
    case BL_WF_CONDITION: {
        const char *src = json_string_value(json_object_get(cfg, "expression"));
        char ef[80];
        snprintf(ef, sizeof ef, "%s.expression", field);
        if (!src)
            bl_field_problem(problems, ef, "required: an expression giving true or false ($.input.data.severity == 'critical')");
        else if (!(s->expr = bl_tx_expr_compile(src, &err)))
            bl_field_problem(problems, ef, "%s", err.msg);
        s->on_true = json_string_value(json_object_get(cfg, "onTrue"));
        s->on_false = json_string_value(json_object_get(cfg, "onFalse"));
        break;
    }
    case BL_WF_DELAY: {
        const json_t *dur = json_object_get(cfg, "duration");
        char df[80];
        snprintf(df, sizeof df, "%s.duration", field);
        if (!json_is_integer(dur) || json_integer_value(dur) < 1 || json_integer_value(dur) > BL_WF_DELAY_MAX_MS)
            bl_field_problem(problems, df, "required: milliseconds from 1 to %lld (30 days)", BL_WF_DELAY_MAX_MS);
        else
            s->delay_ms = json_integer_value(dur);
        break;
    }
    }
}

static int step_type_of(const char *t)
{
    static const char *const names[] = {"integration", "transformation", "condition", "delay"};
    for (int i = 0; t && i < 4; i++)
        if (strcmp(t, names[i]) == 0)
            return i;
    return -1;
}

static void parse_step(bl_wf_def *d, size_t i, const json_t *js, const bl_wf_retry *dflt, const bl_wf_env *env,
                       json_t *problems)
{
    static const char *const known[] = {"id", "name", "type", "config", "onSuccess", "onError", "timeout",
                                        "retryPolicy", NULL};
    bl_wf_step *s = &d->steps[i];
    char where[48], field[96];
    snprintf(where, sizeof where, "steps[%zu]", i);
    if (!json_is_object(js)) {
        bl_field_problem(problems, where, "must be an object {id, name, type, config, onSuccess, onError, timeout}");
        return;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)js, key, v)
    {
        bool ok = false;
        for (size_t k = 0; known[k] && !ok; k++)
            ok = strcmp(key, known[k]) == 0;
        if (!ok) {
            snprintf(field, sizeof field, "%s.%s", where, key);
            bl_field_problem(problems, field, "unknown field");
        }
    }
    const char *id = json_string_value(json_object_get(js, "id"));
    snprintf(field, sizeof field, "%s.id", where);
    if (!id_ok(id))
        bl_field_problem(problems, field, "required: 1..%d of [A-Za-z0-9_.-]", BL_WF_STEP_ID_MAX);
    else
        snprintf(s->id, sizeof s->id, "%s", id);
    for (size_t k = 0; id && k < i; k++)
        if (strcmp(d->steps[k].id, id) == 0)
            bl_field_problem(problems, field, "\"%s\" is also the id of steps[%zu]", id, k);
    const char *type = json_string_value(json_object_get(js, "type"));
    int t = step_type_of(type);
    snprintf(field, sizeof field, "%s.type", where);
    if (type && strcmp(type, "parallel") == 0) {
        bl_field_problem(problems, field, "\"parallel\" steps are not built yet");
        return;
    }
    if (t < 0) {
        bl_field_problem(problems, field, "required: integration, transformation, condition or delay");
        return;
    }
    s->type = (bl_wf_step_type)t;
    s->on_success = json_string_value(json_object_get(js, "onSuccess"));
    s->on_error = json_string_value(json_object_get(js, "onError"));
    int_field(js, "timeout", 1, BL_WF_DELAY_MAX_MS, 0, &s->timeout_ms, where, problems);
    snprintf(field, sizeof field, "%s.retryPolicy", where);
    parse_retry(json_object_get(js, "retryPolicy"), dflt, &s->retry, field, problems);
    const json_t *cfg = json_object_get(js, "config");
    snprintf(field, sizeof field, "%s.config", where);
    if (!json_is_object(cfg)) {
        bl_field_problem(problems, field, "required: an object");
        return;
    }
    compile_config(s, cfg, i, env, problems);
}

static void parse_top(const json_t *def, json_t *problems)
{
    static const char *const known[] = {"id", "name", "description", "version", "isActive", "trigger", "steps",
                                        "errorHandling", "notifications", "createdAt", "updatedAt", NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)def, key, v)
    {
        bool ok = false;
        for (size_t k = 0; known[k] && !ok; k++)
            ok = strcmp(key, known[k]) == 0;
        if (!ok)
            bl_field_problem(problems, key, "unknown field");
    }
    const char *name = json_string_value(json_object_get(def, "name"));
    if (!name || !*name || strlen(name) > 200)
        bl_field_problem(problems, "name", "required: 1..200 characters");
    const json_t *desc = json_object_get(def, "description");
    if (desc && !json_is_string(desc) && !json_is_null(desc))
        bl_field_problem(problems, "description", "must be text");
    const json_t *active = json_object_get(def, "isActive");
    if (active && !json_is_boolean(active))
        bl_field_problem(problems, "isActive", "must be true or false");
    const json_t *version = json_object_get(def, "version");
    int a, b, c;
    char tail;
    if (version && (!json_is_string(version) ||
                    sscanf(json_string_value(version), "%d.%d.%d%c", &a, &b, &c, &tail) != 3 || a < 0 || b < 0 || c < 0))
        bl_field_problem(problems, "version", "must be semver (1.0.0)");
    const json_t *notes = json_object_get(def, "notifications");
    if (notes && (!json_is_array(notes) || json_array_size(notes) > 0))
        bl_field_problem(problems, "notifications", "notifications are not built yet: give [] or leave it out");
}

bl_wf_def *bl_wf_def_compile(const json_t *def, const bl_wf_env *env, json_t *problems)
{
    if (!json_is_object(def)) {
        bl_field_problem(problems, "", "a workflow is a JSON object");
        return NULL;
    }
    bl_wf_def *d = calloc(1, sizeof *d);
    if (!d) {
        bl_field_problem(problems, "", "out of memory");
        return NULL;
    }
    d->json = json_incref((json_t *)def);
    parse_top(def, problems);
    parse_trigger(d, json_object_get(def, "trigger"), problems);
    bl_wf_retry dflt = {.max_attempts = 1, .strategy = BL_WF_BACKOFF_EXPONENTIAL, .base_ms = 1000, .max_ms = 60000};
    const json_t *eh = json_object_get(def, "errorHandling");
    if (eh && !json_is_object(eh))
        bl_field_problem(problems, "errorHandling", "must be an object {retryPolicy}");
    bl_wf_retry base = dflt;
    parse_retry(json_object_get(eh, "retryPolicy"), &dflt, &base, "errorHandling.retryPolicy", problems);
    const json_t *steps = json_object_get(def, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0 || json_array_size(steps) > BL_WF_STEPS_MAX) {
        bl_field_problem(problems, "steps", "required: 1..%d steps", BL_WF_STEPS_MAX);
    } else {
        d->n_steps = json_array_size(steps);
        for (size_t i = 0; i < d->n_steps; i++)
            parse_step(d, i, json_array_get(steps, i), &base, env, problems);
        bool ids = true;
        for (size_t i = 0; i < d->n_steps; i++)
            ids = ids && d->steps[i].id[0];
        if (ids) /* the graph is checked even when a step's config has problems */
            bl_wf_graph_check(d, problems);
    }
    if (json_object_size(problems) != 0) {
        bl_wf_def_free(d);
        return NULL;
    }
    return d;
}

void bl_wf_def_free(bl_wf_def *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < BL_WF_STEPS_MAX; i++) {
        bl_transform_free(d->steps[i].transform);
        bl_tx_expr_free(d->steps[i].expr);
        bl_call_free(d->steps[i].call);
    }
    bl_event_filter_free(d->trigger_filter);
    json_decref(d->json);
    free(d);
}

const bl_wf_step *bl_wf_def_step(const bl_wf_def *d, const char *id)
{
    for (size_t i = 0; d && id && i < d->n_steps; i++)
        if (strcmp(d->steps[i].id, id) == 0)
            return &d->steps[i];
    return NULL;
}
