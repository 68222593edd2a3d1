#include "chaos_ledger.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int chaos_ledger_init(chaos_ledger *l, size_t n_api, size_t n_outbox)
{
    memset(l, 0, sizeof *l);
    l->n_api = n_api;
    l->n_outbox = n_outbox;
    l->api = calloc(n_api ? n_api : 1, sizeof *l->api);
    l->outbox = calloc(n_outbox ? n_outbox : 1, sizeof *l->outbox);
    return l->api && l->outbox ? 0 : -1;
}

/* The event a body is about, or NULL. */
static chaos_event *event_of(chaos_ledger *l, const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const json_t *data = json_object_get(j, "data");
    const char *risk = json_string_value(json_object_get(data, "risk_id"));
    const char *reason = json_string_value(json_object_get(data, "reason"));
    chaos_event *e = NULL;
    unsigned long i;
    char tail;
    if (risk && sscanf(risk, "R-api-%lu%c", &i, &tail) == 1 && i < l->n_api)
        e = &l->api[i];
    else if (reason && sscanf(reason, "ob-%lu%c", &i, &tail) == 1 && i < l->n_outbox)
        e = &l->outbox[i];
    json_decref(j);
    return e;
}

void chaos_ledger_read(chaos_ledger *l, webhook_sink *sink)
{
    pthread_mutex_lock(&sink->lock);
    for (; l->seen < sink->n; l->seen++) {
        const sink_hit *h = &sink->hits[l->seen];
        if (h->status < 200 || h->status > 299) {
            l->failed_requests++;
            continue;
        }
        bl_err err = {0};
        if (bl_webhook_verify_v1(&l->secret, h->id, h->timestamp, h->signature, h->body, h->body_len, 0, -1,
                                 &err) != BL_WEBHOOK_VERIFY_OK) {
            l->bad_signatures++;
            continue;
        }
        chaos_event *e = event_of(l, h->body, h->body_len);
        if (!e) {
            l->unknown++;
            continue;
        }
        if (e->deliveries++ == 0) {
            e->first_arrival = l->seen;
            e->webhook_id = strdup(h->id);
        } else if (e->webhook_id && strcmp(e->webhook_id, h->id) != 0) {
            e->other_ids++;
        }
    }
    pthread_mutex_unlock(&sink->lock);
}

static size_t missing_in(const chaos_event *ev, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += atomic_load(&ev[i].accepted) && ev[i].deliveries == 0;
    return m;
}

size_t chaos_ledger_missing(const chaos_ledger *l)
{
    return missing_in(l->api, l->n_api) + missing_in(l->outbox, l->n_outbox);
}

void chaos_ledger_print_missing(const chaos_ledger *l, size_t max)
{
    size_t shown = 0, api = missing_in(l->api, l->n_api), outbox = missing_in(l->outbox, l->n_outbox);
    printf("chaos: missing through the API %zu, through the outbox %zu:", api, outbox);
    for (size_t i = 0; i < l->n_api && shown < max; i++)
        if (atomic_load(&l->api[i].accepted) && !l->api[i].deliveries)
            printf(" R-api-%zu", i), shown++;
    for (size_t i = 0; i < l->n_outbox && shown < max; i++)
        if (atomic_load(&l->outbox[i].accepted) && !l->outbox[i].deliveries)
            printf(" ob-%zu (R-ob-%zu)", i, i / 2), shown++;
    printf("\n");
}

size_t chaos_ledger_accepted(const chaos_ledger *l, int outbox)
{
    const chaos_event *ev = outbox ? l->outbox : l->api;
    size_t n = outbox ? l->n_outbox : l->n_api, a = 0;
    for (size_t i = 0; i < n; i++)
        a += atomic_load(&ev[i].accepted) != 0;
    return a;
}

size_t chaos_ledger_duplicates(const chaos_ledger *l, size_t *other)
{
    size_t d = 0;
    *other = 0;
    for (int side = 0; side < 2; side++) {
        const chaos_event *ev = side ? l->outbox : l->api;
        size_t n = side ? l->n_outbox : l->n_api;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].deliveries > 1)
                d += (size_t)(ev[i].deliveries - 1 - ev[i].other_ids);
            *other += (size_t)ev[i].other_ids;
        }
    }
    return d;
}

size_t chaos_ledger_order_violations(const chaos_ledger *l)
{
    size_t v = 0;
    for (size_t i = 0; i + 1 < l->n_outbox; i += 2)
        v += l->outbox[i].deliveries && l->outbox[i + 1].deliveries &&
             l->outbox[i + 1].first_arrival < l->outbox[i].first_arrival;
    return v;
}

void chaos_ledger_free(chaos_ledger *l)
{
    for (size_t i = 0; i < l->n_api; i++)
        free(l->api[i].webhook_id);
    for (size_t i = 0; i < l->n_outbox; i++)
        free(l->outbox[i].webhook_id);
    free(l->api);
    free(l->outbox);
    memset(l, 0, sizeof *l);
}
