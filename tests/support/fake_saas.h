/* Local fakes of the SaaS vendors the work-item, calendar and meeting
 * connectors call (Azure DevOps, Google Calendar, Microsoft Graph, Zoom),
 * on 127.0.0.1. Each checks every request the way its vendor's reference
 * specifies (method, path, api-version, auth header form, content type,
 * required fields, body shape); a request that is not per the reference is
 * answered 400 with the vendor's error body and its reason is kept in
 * problem, so tests assert problem stays empty. Successes and errors use the
 * vendor's documented bodies. Tests may queue failures (status, message,
 * Retry-After) answered before the next requests. */
#ifndef BUSLINE_TEST_FAKE_SAAS_H
#define BUSLINE_TEST_FAKE_SAAS_H

#include "core/http_server.h"

#include <jansson.h>
#include <pthread.h>

typedef struct bl_fake_saas bl_fake_saas;

/* The vendor's error body for status and message (new reference). */
typedef json_t *(*bl_fake_error_fn)(int status, const char *message);

struct bl_fake_saas {
    bl_http_server *server;
    pthread_mutex_t lock;
    char base_url[128];        /* http://127.0.0.1:<port> */
    char accepted_auth[512];   /* the whole Authorization value the fake accepts */
    bl_fake_error_fn error_body;
    /* queued failures, answered in order before anything else */
    int fail_status[4];
    char fail_message[4][256];
    char fail_retry_after[4][32];
    int fail_n;
    /* what came */
    int requests;
    int creates;               /* objects created */
    int lose_create_answers;   /* this many next creates are made but answered 502 */
    json_t *objects;           /* id -> the stored object */
    long next_id;
    char problem[1100];        /* first request refused as not per the reference */
    json_t *last_body;         /* the last request's JSON body (or NULL) */
    char last_method[8];
    char last_path[512];
    char last_query[256];
    char last_content_type[128];
    /* Google Calendar's and Graph's sync state (fake_google_calendar.c,
     * fake_graph_calendar.c) */
    json_t *gcal_meta;       /* event id -> {"calendar", "seq"[, "removed"]}: where it lives, its last change */
    long gcal_seq;           /* number of the last change; a sync token names one */
    long gcal_token_floor;   /* tokens naming an older change are expired: 410 */
    int gcal_lists;          /* events.list calls */
    int gcal_hold_at;        /* >0: the request with this number waits until released */
    int gcal_held;           /* a request is waiting */
    pthread_cond_t gcal_cond;
    int graph_deltas;        /* Graph: calendarView/delta calls */
    int graph_page_size;     /* Graph: delta page size without Prefer odata.maxpagesize (0 = 10) */
    json_t *graph_meetings;  /* Graph: online meeting id -> onlineMeeting */
    json_t *zoom_reports;    /* Zoom: meeting id -> the participants report's rows */
    int zoom_report_pages;   /* Zoom: report pages answered */
};

/* Starts the fake of vendor: "azure_devops", "google_calendar", "graph" or
 * "zoom". accepted_auth: the Authorization header value it accepts
 * ("Bearer tok-1", "Basic OnBhdA=="). Returns 0, or -1 (printed). */
int bl_fake_saas_start(bl_fake_saas *f, const char *vendor, const char *accepted_auth);

/* Stops the server and frees everything; accepts a zeroed fake. */
void bl_fake_saas_stop(bl_fake_saas *f);

/* Queues a failure answered to the next request (message NULL = the
 * vendor's usual text; retry_after may be NULL). */
void bl_fake_saas_fail_next(bl_fake_saas *f, int status, const char *message, const char *retry_after);

/* Changes the accepted Authorization value (an expired token). */
void bl_fake_saas_accept(bl_fake_saas *f, const char *accepted_auth);

/* Number of stored objects. */
size_t bl_fake_saas_count(bl_fake_saas *f);

/* ---- for the vendor files ---- */

/* Records the request and answers a queued failure or a refused
 * Authorization (401 with the vendor's body). Returns 1 when answered,
 * 0 to go on. Call with f->lock held. */
int bl_fake_saas_begin(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp);

/* Answers 400 with the vendor's body for why and keeps why in problem
 * (the first one). Returns 0. */
int bl_fake_saas_refuse(bl_fake_saas *f, bl_http_response *resp, const char *why);

/* Whether the request's Content-Type starts with media_type. */
int bl_fake_saas_content_type_is(const bl_http_request *req, const char *media_type);

/* A copy of stored object id (new), or NULL. */
json_t *bl_fake_saas_object(bl_fake_saas *f, const char *id);
/* Expires every sync or delta token handed out so far (gcal_token_floor). */
void bl_fake_saas_expire_tokens(bl_fake_saas *f);

/* One change of the numbered change list (gcal_meta), for listings in order. */
typedef struct bl_fake_change {
    long seq;
    const char *id;
} bl_fake_change;
/* qsort comparator of bl_fake_change by seq. */
int bl_fake_change_by_seq(const void *a, const void *b);

/* ---- Google Calendar's state, as a user's own edits change it ---- */

/* Creates or replaces (fields merged) event ev (borrowed; "id" required)
 * in calendar, as a person editing the calendar would: a new change number,
 * etag and updated time. Returns 0 or -1. */
int bl_fake_google_put(bl_fake_saas *f, const char *calendar, const json_t *ev);
/* Deletes event id as a person would (status cancelled, a new change). */
int bl_fake_google_cancel(bl_fake_saas *f, const char *id);
/* Expires every sync token handed out so far (the next incremental list is 410). */
void bl_fake_google_expire_tokens(bl_fake_saas *f);
/* A copy of event id (new), or NULL. */
json_t *bl_fake_google_event(bl_fake_saas *f, const char *id);
/* Events of calendar not cancelled. */
size_t bl_fake_google_live(bl_fake_saas *f, const char *calendar);
/* Holds the request numbered n (f->requests after it arrives) until
 * bl_fake_google_release; 0 holds nothing. */
void bl_fake_google_hold(bl_fake_saas *f, int n);
/* Whether a request is being held now. */
int bl_fake_google_holding(bl_fake_saas *f);
/* Lets a held request go (answered 503) and holds nothing more. */
void bl_fake_google_release(bl_fake_saas *f);

/* ---- Microsoft Graph's calendar, as a user's own edits change it ----
 * (events under /me/events or /me/calendars/{id}/events; "primary" is /me) */

/* Creates or replaces (fields merged) event ev (borrowed; "id" required) in
 * calendar: a new change, changeKey and lastModifiedDateTime. Returns 0 or -1. */
int bl_fake_graph_put(bl_fake_saas *f, const char *calendar, const json_t *ev);
/* Deletes event id as a person would (delta reports it @removed). Returns 0 or -1. */
int bl_fake_graph_remove(bl_fake_saas *f, const char *id);
/* (bl_fake_saas_expire_tokens makes the next delta read a 410;
 * bl_fake_saas_object copies an event.) */
/* Events of calendar not deleted. */
size_t bl_fake_graph_live(bl_fake_saas *f, const char *calendar);
/* A copy of the online meeting whose joinWebUrl is the event's (new), or NULL. */
json_t *bl_fake_graph_meeting_of(bl_fake_saas *f, const char *event_id);
/* Lock held: a new change of event ev in calendar (changeKey, times, sequence). */
void bl_fake_graph_touch(bl_fake_saas *f, const char *calendar, json_t *ev);
/* Lock held: event id deleted (a tombstone for delta). */
void bl_fake_graph_tombstone(bl_fake_saas *f, const char *id);
/* The delta, event get and online meeting routes (fake_graph_calendar.c). */
int bl_fake_graph_calendar_routes(bl_fake_saas *f, bl_err *err);

/* Zoom: the participants report of meeting_id (rows copied: {id, name,
 * user_email, join_time, leave_time, duration (seconds)}); a meeting
 * without one answers 404 code 3001. */
void bl_fake_zoom_set_participants(bl_fake_saas *f, const char *meeting_id, const json_t *rows);

/* The vendor's routes, added by bl_fake_saas_start. */
int bl_fake_azure_devops_routes(bl_fake_saas *f, bl_err *err);
int bl_fake_google_calendar_routes(bl_fake_saas *f, bl_err *err);
int bl_fake_graph_routes(bl_fake_saas *f, bl_err *err);
int bl_fake_zoom_routes(bl_fake_saas *f, bl_err *err);

json_t *bl_fake_azure_devops_error(int status, const char *message);
json_t *bl_fake_google_error(int status, const char *message);
json_t *bl_fake_graph_error(int status, const char *message);
json_t *bl_fake_zoom_error(int status, const char *message);

#endif
