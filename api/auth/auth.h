/* Who a request runs as: the permission levels, the plans and the caller
 * (an API key or a logged-in user) that the server's checks fill and the
 * key, session and route code read. Types only, with their text names, so
 * that auth code needs nothing of the server. */
#ifndef BUSLINE_API_AUTH_H
#define BUSLINE_API_AUTH_H

#include <stdint.h>

#define BL_API_ID_MAX 40 /* a uuid's text + NUL, with room */

/* Access levels, ordered: a higher level includes the lower ones. */
typedef enum bl_api_perm {
    BL_API_PERM_NONE = 0,
    BL_API_PERM_READ = 1,  /* GET */
    BL_API_PERM_WRITE = 2, /* GET, POST, PUT, PATCH */
    BL_API_PERM_ADMIN = 3, /* everything, incl. DELETE and key/webhook management */
} bl_api_perm;

typedef enum bl_api_plan {
    BL_API_PLAN_DEMO = 0, /* read-only, no keys or webhooks */
    BL_API_PLAN_PRO,
    BL_API_PLAN_ENTERPRISE,
} bl_api_plan;

/* "read" / "write" / "admin" -> level; NONE for anything else. */
bl_api_perm bl_api_perm_parse(const char *text);
const char *bl_api_perm_name(bl_api_perm p);
/* "demo" / "pro" / "enterprise"; returns 0 and sets *out, or -1. */
int bl_api_plan_parse(const char *text, bl_api_plan *out);
const char *bl_api_plan_name(bl_api_plan p);

/* Who is calling: an API key (key_id set) or a logged-in user (user_id set). */
typedef struct bl_api_auth {
    char org_id[BL_API_ID_MAX];
    char key_id[BL_API_ID_MAX];  /* "" for a user */
    char user_id[BL_API_ID_MAX]; /* "" for a key */
    bl_api_perm perm;
    bl_api_plan plan;
    /* the key's limits per window (0 = none); users get the default hourly */
    int64_t rate_per_minute, rate_per_hour, rate_per_day, rate_per_month;
    char session_id[BL_API_ID_MAX]; /* a user's session (refresh family, the token's "sid"); "" otherwise */
} bl_api_auth;

#endif
