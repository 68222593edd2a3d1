/* Endpoint health recorded by a background thread (see outcome_reporter.h). */
#include "connectors/webhook/workers/outcome_reporter.h"

#include "connectors/webhook/policy/signature.h"
#include "consumers/event_filter.h"

#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CAPACITY 65536
#define BATCH_MAX 1024

/* A message.attempt.* event waiting to be published (rare: kept apart so a report stays small). */
typedef struct attempt_note {
    const char *type;
    char message_id[BL_WEBHOOK_MSG_ID_MAX + 1], event_type[BL_EVENT_TYPE_MAX + 1], error[256];
    int attempts, status_code;
} attempt_note;

typedef struct report {
    char id[BL_WEBHOOK_ID_MAX + 1];
    bl_outcome_report what;
    attempt_note *note; /* BL_REPORT_ATTEMPT_EVENT: owned */
} report;

struct bl_outcome_reporter {
    bl_webhook_store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done_cond;
    report *ring;
    size_t cap, head, count;
    uint64_t pushed, recorded; /* under lock: flush waits for recorded >= pushed */
    int quit;
    int64_t disabled, dropped;
};

static void record_batch(bl_outcome_reporter *r, report *batch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool repeat = false;
        /* a success right after one for the same endpoint changes nothing */
        if (batch[i].what == BL_REPORT_SUCCESS) {
            for (size_t j = i; j-- > 0;) {
                if (strcmp(batch[j].id, batch[i].id) == 0) {
                    repeat = batch[j].what == BL_REPORT_SUCCESS;
                    break;
                }
            }
        }
        if (repeat)
            continue;
        bl_err err = {0};
        if (batch[i].what == BL_REPORT_ATTEMPT_EVENT) {
            attempt_note *n = batch[i].note;
            bl_webhook_attempt_info a = {.message_id = n->message_id, .event_type = n->event_type,
                                         .attempts = n->attempts, .status_code = n->status_code, .error = n->error};
            if (bl_webhook_store_attempt_event(r->store, batch[i].id, n->type, &a, &err) != 0 && err.code != BL_ENOTFOUND)
                bl_log_warn("webhook: cannot publish an attempt event", BL_FS("endpoint_id", batch[i].id),
                            BL_FS("type", n->type), BL_FS("error", err.msg));
            free(n);
            continue;
        }
        bool disabled = false;
        int rc;
        if (batch[i].what == BL_REPORT_GONE)
            rc = bl_webhook_store_disable(r->store, batch[i].id, "the endpoint answered 410 Gone", &err);
        else
            rc = bl_webhook_store_record_outcome(r->store, batch[i].id, batch[i].what == BL_REPORT_SUCCESS,
                                                 &disabled, &err);
        if (rc != 0 && err.code != BL_ENOTFOUND)
            bl_log_warn("webhook health: cannot record an outcome", BL_FS("endpoint_id", batch[i].id),
                        BL_FS("error", err.msg));
        if (rc == 0 && (disabled || batch[i].what == BL_REPORT_GONE)) {
            pthread_mutex_lock(&r->lock);
            r->disabled++;
            pthread_mutex_unlock(&r->lock);
        }
    }
}

static void *reporter_main(void *arg)
{
    bl_outcome_reporter *r = arg;
    report *batch = malloc(BATCH_MAX * sizeof *batch);
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->count == 0 && !r->quit)
            pthread_cond_wait(&r->wake, &r->lock);
        if (r->count == 0 && r->quit)
            break;
        size_t n = 0;
        while (r->count > 0 && n < BATCH_MAX && batch) {
            batch[n++] = r->ring[r->head];
            r->head = (r->head + 1) % r->cap;
            r->count--;
        }
        pthread_mutex_unlock(&r->lock);
        if (batch)
            record_batch(r, batch, n);
        pthread_mutex_lock(&r->lock);
        if (!batch) { /* out of memory: drop what is queued rather than spin */
            r->dropped += (int64_t)r->count;
            n = r->count;
            for (; r->count > 0; r->count--, r->head = (r->head + 1) % r->cap)
                free(r->ring[r->head].note);
        }
        r->recorded += n;
        pthread_cond_broadcast(&r->done_cond);
    }
    pthread_mutex_unlock(&r->lock);
    free(batch);
    return NULL;
}

bl_outcome_reporter *bl_outcome_reporter_new(bl_webhook_store *store, size_t capacity, bl_err *err)
{
    bl_outcome_reporter *r = calloc(1, sizeof *r);
    if (!r || !(r->ring = calloc(capacity ? capacity : DEFAULT_CAPACITY, sizeof *r->ring))) {
        free(r);
        bl_err_set(err, BL_ENOMEM, "webhook health: out of memory");
        return NULL;
    }
    r->store = store;
    r->cap = capacity ? capacity : DEFAULT_CAPACITY;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_cond_init(&r->done_cond, NULL);
    if (pthread_create(&r->thread, NULL, reporter_main, r) != 0) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->wake);
        pthread_cond_destroy(&r->done_cond);
        free(r->ring);
        free(r);
        bl_err_set(err, BL_ENOMEM, "webhook health: cannot start its thread");
        return NULL;
    }
    return r;
}

void bl_outcome_reporter_free(bl_outcome_reporter *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->quit = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->done_cond);
    free(r->ring);
    free(r);
}

/* Queues one report (note owned: freed when dropped). */
static void push(bl_outcome_reporter *r, const char *endpoint_id, bl_outcome_report what, attempt_note *note)
{
    pthread_mutex_lock(&r->lock);
    if (r->count == r->cap || strlen(endpoint_id) > BL_WEBHOOK_ID_MAX || (what == BL_REPORT_ATTEMPT_EVENT && !note)) {
        r->dropped++;
        free(note);
    } else {
        report *slot = &r->ring[(r->head + r->count) % r->cap];
        strcpy(slot->id, endpoint_id);
        slot->what = what;
        slot->note = note;
        r->count++;
        r->pushed++;
        pthread_cond_signal(&r->wake);
    }
    pthread_mutex_unlock(&r->lock);
}

void bl_outcome_reporter_push(bl_outcome_reporter *r, const char *endpoint_id, bl_outcome_report what)
{
    push(r, endpoint_id, what, NULL);
}

void bl_outcome_reporter_push_attempt(bl_outcome_reporter *r, const char *endpoint_id, const char *type,
                                      const bl_webhook_attempt_info *a)
{
    attempt_note *n = malloc(sizeof *n);
    if (n) {
        n->type = type;
        snprintf(n->message_id, sizeof n->message_id, "%s", a->message_id);
        snprintf(n->event_type, sizeof n->event_type, "%s", a->event_type);
        snprintf(n->error, sizeof n->error, "%s", a->error ? a->error : "");
        n->attempts = a->attempts;
        n->status_code = a->status_code;
    }
    push(r, endpoint_id, BL_REPORT_ATTEMPT_EVENT, n);
}

int bl_outcome_reporter_flush(bl_outcome_reporter *r, int timeout_ms)
{
    struct timespec deadline = bl_clock_deadline_after_ms(CLOCK_REALTIME, timeout_ms);
    pthread_mutex_lock(&r->lock);
    uint64_t want = r->pushed;
    int rc = 0;
    while (r->recorded < want && rc == 0)
        rc = pthread_cond_timedwait(&r->done_cond, &r->lock, &deadline) == ETIMEDOUT ? -1 : 0;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int64_t bl_outcome_reporter_disabled(bl_outcome_reporter *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t v = r->disabled;
    pthread_mutex_unlock(&r->lock);
    return v;
}

int64_t bl_outcome_reporter_dropped(bl_outcome_reporter *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t v = r->dropped;
    pthread_mutex_unlock(&r->lock);
    return v;
}
