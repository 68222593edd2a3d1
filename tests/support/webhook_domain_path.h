/* The webhook path (relay, fan-out, delivery: webhook_e2e.h) on the
 * database of an API fixture, with one more fan-out over a domain service's
 * events topic (e.g. "<prefix>events.pmo.risk"): what a test needs to see a
 * command sent through the API reach a webhook over HTTP. */
#ifndef BUSLINE_TEST_WEBHOOK_DOMAIN_PATH_H
#define BUSLINE_TEST_WEBHOOK_DOMAIN_PATH_H

#include "tests/support/webhook_e2e.h"

#include <pthread.h>

typedef struct wh_domain_path {
    wh_e2e wh;
    char topic[200];
    bl_webhook_fanout *fanout; /* over topic */
    pthread_t fanout_t;
    int fanout_on, have_topic;
} wh_domain_path;

/* Attaches to pg_url (migrated, borrowed), creates topic and starts every
 * thread. Returns 0, or -1 after printing why (close it either way). */
int wh_domain_path_open(wh_domain_path *p, const char *pg_url, const char *topic);

/* Stops the threads, deletes the topics; the database stays. */
void wh_domain_path_close(wh_domain_path *p);

#endif
