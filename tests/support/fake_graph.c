/* A fake Microsoft Graph v1.0 calendar: events create (transactionId
 * honoured: a repeated POST answers the event it made), update and delete
 * under /users/{id}, /me and /me/calendars/{id}, bearer auth; each change
 * is recorded for the delta queries of fake_graph_calendar.c, and a
 * create with isOnlineMeeting makes a Teams meeting. */
#include "tests/support/fake_saas.h"

#include <stdio.h>
#include <string.h>

json_t *bl_fake_graph_error(int status, const char *message)
{
    const char *code = status == 401   ? "InvalidAuthenticationToken"
                       : status == 429 ? "ApplicationThrottled"
                       : status == 404 ? "ErrorItemNotFound"
                                       : "ErrorInvalidRequest";
    const char *m = message ? message : status == 401 ? "Access token has expired or is not yet valid." : "Bad request";
    return json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s}}}", "error", "code", code, "message", m, "innerError", "date",
                     "2026-01-01T00:00:00", "request-id", "00000000-0000-0000-0000-000000000001",
                     "client-request-id", "00000000-0000-0000-0000-000000000002");
}

static int one_of(const char *v, const char *const *list)
{
    for (size_t i = 0; v && list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return 1;
    return 0;
}

/* dateTimeTimeZone: a dateTime without offset and a timeZone. */
static const char *time_problem(const json_t *t)
{
    const char *dt = json_string_value(json_object_get(t, "dateTime"));
    if (!dt || strlen(dt) < 19 || dt[10] != 'T' || strchr(dt + 19, 'Z') || strchr(dt + 19, '+') ||
        strchr(dt + 19, '-'))
        return "start/end dateTime must be a date-time without an offset";
    if (!json_string_value(json_object_get(t, "timeZone")))
        return "start/end need a timeZone";
    return NULL;
}

static const char *event_problem(const json_t *b, int create)
{
    static const char *const att_types[] = {"required", "optional", "resource", NULL};
    static const char *const providers[] = {"teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown", NULL};
    static const char *const imp[] = {"low", "normal", "high", NULL};
    static const char *const show[] = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown", NULL};
    static const char *const ctypes[] = {"text", "html", "HTML", "Text", NULL};
    const json_t *v, *a;
    const char *why;
    size_t i;
    if (!json_is_object(b))
        return "the body must be an event";
    if (create && (!json_string_value(json_object_get(b, "subject")) || !json_object_get(b, "start") ||
                   !json_object_get(b, "end")))
        return "subject, start and end are required";
    if ((v = json_object_get(b, "start")) && (why = time_problem(v)))
        return why;
    if ((v = json_object_get(b, "end")) && (why = time_problem(v)))
        return why;
    if ((v = json_object_get(b, "body")) &&
        (!one_of(json_string_value(json_object_get(v, "contentType")), ctypes) ||
         !json_is_string(json_object_get(v, "content"))))
        return "body must be {contentType: text|html, content}";
    if ((v = json_object_get(b, "location")) && !json_is_string(json_object_get(v, "displayName")))
        return "location must be {displayName}";
    if ((v = json_object_get(b, "attendees"))) {
        json_array_foreach(v, i, a) {
            if (!strchr(json_string_value(json_object_get(json_object_get(a, "emailAddress"), "address")) ?: "", '@') ||
                !one_of(json_string_value(json_object_get(a, "type")), att_types))
                return "attendees must be [{emailAddress: {address, name}, type}]";
        }
    }
    if ((v = json_object_get(b, "isOnlineMeeting")) && !json_is_boolean(v))
        return "isOnlineMeeting must be a boolean";
    if ((v = json_object_get(b, "onlineMeetingProvider")) && !one_of(json_string_value(v), providers))
        return "onlineMeetingProvider is not a provider";
    if ((v = json_object_get(b, "categories")) && !json_is_array(v))
        return "categories must be an array of strings";
    if ((v = json_object_get(b, "importance")) && !one_of(json_string_value(v), imp))
        return "importance must be low, normal or high";
    if ((v = json_object_get(b, "showAs")) && !one_of(json_string_value(v), show))
        return "showAs is not a freeBusyStatus";
    static const char *const sens[] = {"normal", "personal", "private", "confidential", NULL};
    if ((v = json_object_get(b, "sensitivity")) && !one_of(json_string_value(v), sens))
        return "sensitivity must be normal, personal, private or confidential";
    if ((v = json_object_get(b, "isReminderOn")) && !json_is_boolean(v))
        return "isReminderOn must be a boolean";
    if ((v = json_object_get(b, "reminderMinutesBeforeStart")) && !json_is_integer(v))
        return "reminderMinutesBeforeStart must be an integer";
    if ((v = json_object_get(b, "transactionId")) && (!create || !json_is_string(v)))
        return create ? "transactionId must be a string" : "transactionId cannot be changed once set";
    static const char *const read_only[] = {"id", "changeKey", "createdDateTime", "lastModifiedDateTime",
                                            "onlineMeeting", NULL};
    for (i = 0; read_only[i]; i++)
        if (json_object_get(b, read_only[i]))
            return "a read-only property was given";
    return NULL;
}

static int checks(bl_fake_saas *f, const bl_http_request *req, bl_http_response *resp, int create)
{
    const char *why;
    if (!bl_fake_saas_content_type_is(req, "application/json"))
        return bl_fake_saas_refuse(f, resp, "Content-Type must be application/json"), -1;
    if ((why = event_problem(f->last_body, create)))
        return bl_fake_saas_refuse(f, resp, why), -1;
    return 0;
}

static void answer_error(bl_http_response *resp, int status, const char *m)
{
    json_t *b = bl_fake_graph_error(status, m);
    bl_http_response_json(resp, status, b);
    json_decref(b);
}

static int event_create(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    if (!bl_fake_saas_begin(f, req, resp) && checks(f, req, resp, 1) == 0) {
        const char *txn = json_string_value(json_object_get(f->last_body, "transactionId"));
        const char *key;
        json_t *ev, *same = NULL;
        json_object_foreach(f->objects, key, ev)
            if (txn && strcmp(json_string_value(json_object_get(ev, "transactionId")) ?: "", txn) == 0)
                same = ev;
        if (!same) {
            char id[64];
            snprintf(id, sizeof id, "AAMkAGI2TG93AAA%ld", f->next_id++);
            same = json_deep_copy(f->last_body);
            json_object_set_new(same, "id", json_string(id));
            json_object_set_new(same, "webLink", json_string("https://outlook.office365.com/owa/?itemid=x"));
            json_object_set_new(same, "isCancelled", json_false());
            json_object_set_new(same, "organizer", json_pack("{s:{s:s, s:s}}", "emailAddress", "address",
                                                             "me@contoso.example", "name", "Me"));
            json_object_set(same, "originalStartTimeZone",
                            json_object_get(json_object_get(same, "start"), "timeZone"));
            if (json_is_true(json_object_get(same, "isOnlineMeeting"))) {
                char mid[64], url[128];
                long n = f->next_id++;
                snprintf(mid, sizeof mid, "MSpkYzE3NjA0%ld", n);
                snprintf(url, sizeof url, "https://teams.microsoft.com/l/meetup-join/19%%3ameeting_%ld", n);
                json_object_set_new(same, "onlineMeeting", json_pack("{s:s}", "joinUrl", url));
                if (!f->graph_meetings)
                    f->graph_meetings = json_object();
                json_object_set_new(f->graph_meetings, mid,
                                    json_pack("{s:s, s:s, s:O, s:b, s:b, s:{s:s}}", "id", mid, "joinWebUrl", url,
                                              "subject", json_object_get(same, "subject"), "recordAutomatically", 0,
                                              "allowTranscription", 1, "lobbyBypassSettings", "scope",
                                              "organization"));
            }
            json_object_set_new(f->objects, id, same);
            bl_fake_graph_touch(f, bl_http_request_param(req, "calendar") ?: "primary", same);
            f->creates++;
        }
        bl_http_response_json(resp, 201, same);
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_update(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    json_t *ev = json_object_get(f->objects, bl_http_request_param(req, "event"));
    if (!bl_fake_saas_begin(f, req, resp) && checks(f, req, resp, 0) == 0) {
        if (!ev) {
            answer_error(resp, 404, "The specified object was not found in the store.");
        } else {
            json_object_update(ev, f->last_body);
            bl_fake_graph_touch(f, NULL, ev);
            bl_http_response_json(resp, 200, ev);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int event_delete(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    bl_fake_saas *f = ctx;
    pthread_mutex_lock(&f->lock);
    const char *id = bl_http_request_param(req, "event");
    if (!bl_fake_saas_begin(f, req, resp)) {
        if (!json_object_get(f->objects, id)) {
            answer_error(resp, 404, "The specified object was not found in the store.");
        } else {
            bl_fake_graph_tombstone(f, id);
            bl_http_response_status(resp, 204);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return 0;
}

int bl_fake_graph_routes(bl_fake_saas *f, bl_err *err)
{
    static const char *const owners[] = {"/users/:user", "/me", "/me/calendars/:calendar"};
    for (size_t i = 0; i < 3; i++) {
        char one[64], all[64];
        snprintf(all, sizeof all, "%s/events", owners[i]);
        snprintf(one, sizeof one, "%s/events/:event", owners[i]);
        if (bl_http_server_route(f->server, "POST", all, event_create, f, err) != 0 ||
            bl_http_server_route(f->server, "PATCH", one, event_update, f, err) != 0 ||
            bl_http_server_route(f->server, "DELETE", one, event_delete, f, err) != 0)
            return -1;
    }
    return bl_fake_graph_calendar_routes(f, err);
}
