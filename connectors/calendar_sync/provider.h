/* The calendar a sync run reads and writes, behind one interface so Google
 * Calendar and Microsoft Graph look the same to the run (run.h): list the
 * changes since a cursor page by page, insert, patch and delete an item,
 * each answer carrying the item's version (ETag / changeKey).
 *
 * Items cross the interface as normalized JSON objects:
 *   {"id", "version", "cancelled": bool, "title", "description", "location",
 *    "starts_at": ms, "ends_at": ms, "timezone", "private": bool,
 *    "updated_at": ms, "organizer": {"email","name"},
 *    "attendees": [{"email","name"}], "reminder_minutes": [int...],
 *    "color_id", "busline_event_id", "busline_integration_id",
 *    "category_color", "importance", "show_as",
 *    "online_meeting": {"allow_anonymous", "record_automatically",
 *                       "allow_transcription": bool (absent: unset)}}
 * (the last four only on what goes out: the Outlook and Teams settings of
 * a Microsoft integration; Google has no such fields and ignores them)
 * (absent keys: unknown or none). Errors come back in err->code with the
 * codes of connectors/oauth/oauth.h (BL_OAUTH_E_PERMISSION,
 * BL_OAUTH_E_RATE, BL_OAUTH_E_CREDENTIALS, BL_OAUTH_E_CONNECTION, ...) plus
 * the two below. */
#ifndef BUSLINE_CONNECTORS_CALENDAR_SYNC_PROVIDER_H
#define BUSLINE_CONNECTORS_CALENDAR_SYNC_PROVIDER_H

#include "core/err.h"

#include <jansson.h>

enum bl_calsync_code {
    BL_CALSYNC_E_CURSOR_GONE = 7101, /* the cursor expired: list everything again (a 410) */
    BL_CALSYNC_E_NOT_FOUND,          /* the item is not there (404) */
    BL_CALSYNC_E_EXISTS,             /* an insert with this id was already made (409) */
    BL_CALSYNC_E_INVALID,            /* the provider refused the item (400) */
};

#define BL_CALSYNC_CURSOR_MAX 2048
#define BL_CALSYNC_VERSION_MAX 128
#define BL_CALSYNC_ID_MAX 1100

/* One page of changes. items: a new array the caller frees with
 * bl_calsync_page_clear. next_page: "" on the last page, where next_cursor
 * holds the cursor of the next incremental read. */
typedef struct bl_calsync_page {
    json_t *items;
    char next_page[BL_CALSYNC_CURSOR_MAX];
    char next_cursor[BL_CALSYNC_CURSOR_MAX];
} bl_calsync_page;

void bl_calsync_page_clear(bl_calsync_page *p);

typedef struct bl_calsync_provider bl_calsync_provider;

struct bl_calsync_provider {
    const char *name; /* "google_calendar", "microsoft_365" */
    void *self;
    /* One page of the changes of calendar since cursor ("" = everything
     * there is, without deleted items), continuing page_token ("" = the
     * first page). Returns 0, or -1 with err (BL_CALSYNC_E_CURSOR_GONE). */
    int (*list_page)(void *self, const char *calendar, const char *cursor, const char *page_token,
                     bl_calsync_page *out, bl_err *err);
    /* Inserts item (normalized; its "id" is the client-chosen id when set)
     * and writes the stored item's id and version. Returns 0 or -1 with err
     * (BL_CALSYNC_E_EXISTS when that id was already inserted). */
    int (*insert)(void *self, const char *calendar, const json_t *item, char id_out[BL_CALSYNC_ID_MAX],
                  char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err);
    /* The stored item id (normalized, a new reference), or NULL with err
     * (BL_CALSYNC_E_NOT_FOUND). */
    json_t *(*get)(void *self, const char *calendar, const char *id, bl_err *err);
    /* Changes item id to item's fields; writes the new version. Returns 0
     * or -1 with err (BL_CALSYNC_E_NOT_FOUND when it is gone). */
    int (*patch)(void *self, const char *calendar, const char *id, const json_t *item,
                 char version_out[BL_CALSYNC_VERSION_MAX], bl_err *err);
    /* Deletes item id. Returns 1 when it was removed now, 0 when it was
     * already gone, -1 with err. */
    int (*remove)(void *self, const char *calendar, const char *id, bl_err *err);
    void (*free)(void *self);
};

/* Frees p and its state; accepts NULL. */
void bl_calsync_provider_free(bl_calsync_provider *p);

#endif
