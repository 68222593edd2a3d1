/* Zoom API v2 over the OAuth store (zoom_api.h). */
#include "connectors/zoom/zoom_api.h"

#include <stdio.h>
#include <string.h>

#define ZOOM_URL_MAX 3072

/* Zoom's error body {"code", "message"} into msg; the code for err. */
static int classify(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    json_t *j = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m)
        snprintf(msg, cap, "%s (code %lld)", m, (long long)json_integer_value(json_object_get(j, "code")));
    json_decref(j);
    *again = r->status == 429 || r->status >= 500;
    return bl_calsync_status_code(r->status, r->status == 429, false);
}

/* For a create: a 5xx may have made the meeting, so it is not repeated
 * here (the caller looks for it first); a 429 was not carried out. */
static int classify_create(const bl_http_sync_result *r, bool *again, char *msg, size_t cap)
{
    int code = classify(r, again, msg, cap);
    *again = r->status == 429;
    return code;
}

void bl_zoom_api_init(bl_zoom_api *z, bl_oauth_store *store, const char *integration_id, const char *base_url,
                      int max_wait_ms)
{
    bl_calsync_http_init(&z->http, store, integration_id, "zoom", base_url, BL_ZOOM_API_BASE, max_wait_ms, classify);
    bl_calsync_http_init(&z->create, store, integration_id, "zoom", base_url, BL_ZOOM_API_BASE, max_wait_ms,
                         classify_create);
}

json_t *bl_zoom_api_create(const bl_zoom_api *z, const json_t *body, bl_err *err)
{
    char url[ZOOM_URL_MAX];
    snprintf(url, sizeof url, "%s/users/me/meetings", z->http.base);
    json_t *m = bl_calsync_http_call(&z->create, "POST", url, body, err);
    if (m && !json_is_integer(json_object_get(m, "id"))) {
        json_decref(m);
        bl_err_set(err, BL_OAUTH_E_CONNECTION, "zoom POST: the answer has no meeting id");
        return NULL;
    }
    return m;
}

json_t *bl_zoom_api_upcoming(const bl_zoom_api *z, bl_err *err)
{
    char url[ZOOM_URL_MAX];
    snprintf(url, sizeof url, "%s/users/me/meetings?type=upcoming&page_size=300", z->http.base);
    return bl_calsync_http_call(&z->http, "GET", url, NULL, err);
}

/* url of meeting id (digits only: it goes into a path). */
static int meeting_url(const bl_zoom_api *z, const char *id, const char *tail, char *url, size_t cap, bl_err *err)
{
    if (!id || !*id || strspn(id, "0123456789") != strlen(id))
        return bl_err_set(err, BL_EINVAL, "zoom: meeting id '%.40s' is not a number", id ? id : "");
    snprintf(url, cap, "%s/%s/%s%s", z->http.base, tail[0] ? "report/meetings" : "meetings", id, tail);
    return 0;
}

/* PATCH of body to the meeting's url + tail. 0, or -1 with err. */
static int meeting_patch(const bl_zoom_api *z, const char *meeting_id, const char *tail, const json_t *body,
                         bl_err *err)
{
    char url[ZOOM_URL_MAX];
    if (meeting_url(z, meeting_id, "", url, sizeof url, err) != 0)
        return -1;
    size_t n = strlen(url);
    snprintf(url + n, sizeof url - n, "%s", tail);
    json_t *done = bl_calsync_http_call(&z->http, "PATCH", url, body, err);
    json_decref(done);
    return done ? 0 : -1;
}

int bl_zoom_api_update(const bl_zoom_api *z, const char *meeting_id, const json_t *body, bl_err *err)
{
    return meeting_patch(z, meeting_id, "", body, err);
}

int bl_zoom_api_recording_settings(const bl_zoom_api *z, const char *meeting_id, const json_t *body, bl_err *err)
{
    return meeting_patch(z, meeting_id, "/recordings/settings", body, err);
}

int bl_zoom_api_delete(const bl_zoom_api *z, const char *meeting_id, bl_err *err)
{
    char url[ZOOM_URL_MAX];
    if (meeting_url(z, meeting_id, "", url, sizeof url, err) != 0)
        return -1;
    return bl_calsync_http_delete(&z->http, url, err);
}

json_t *bl_zoom_api_report_page(const bl_zoom_api *z, const char *meeting_id, const char *page_token, bl_err *err)
{
    char url[ZOOM_URL_MAX], token[1024];
    if (meeting_url(z, meeting_id, "/participants", url, sizeof url, err) != 0)
        return NULL;
    size_t n = strlen(url);
    snprintf(url + n, sizeof url - n, "?page_size=%d", BL_ZOOM_REPORT_PAGE);
    if (page_token && *page_token) {
        if (bl_calsync_url_escape(page_token, token, sizeof token) != 0) {
            bl_err_set(err, BL_EINVAL, "zoom: next_page_token too long");
            return NULL;
        }
        n = strlen(url);
        snprintf(url + n, sizeof url - n, "&next_page_token=%s", token);
    }
    json_t *page = bl_calsync_http_call(&z->http, "GET", url, NULL, err);
    if (page && !json_is_array(json_object_get(page, "participants"))) {
        json_decref(page);
        bl_err_set(err, BL_OAUTH_E_CONNECTION, "zoom report: the answer has no participants array");
        return NULL;
    }
    return page;
}
