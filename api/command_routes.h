/* How a command type of the schema catalog becomes an HTTP route, so the
 * set of command routes comes from the schemas: "<entity>.<verb>" maps to
 *   create            POST   /v1/<entities>
 *   update            PUT    /v1/<entities>/:id
 *   delete            DELETE /v1/<entities>/:id
 *   generate          POST   /v1/<entities>/generate    (creates, like create)
 *   resolve, approve,
 *   reject            PUT    /v1/<entities>/:id/<verb>
 *   any other verb    POST   /v1/<entities>/:id/<verb with '_' as '-'>
 * with entities the English plural (risk -> risks, company -> companies). */
#ifndef BUSLINE_API_COMMAND_ROUTES_H
#define BUSLINE_API_COMMAND_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#define BL_API_PATTERN_MAX 160

typedef struct bl_api_command_route {
    const char *method;                /* static string */
    char pattern[BL_API_PATTERN_MAX];  /* "/v1/risks/:id/resolve" */
    char collection[64];               /* "risks" */
    bool has_id;                       /* the path names the aggregate (:id) */
} bl_api_command_route;

/* Maps command type (e.g. "risk.resolve") into out. Returns 0, or -1 for a
 * type without "<entity>.<verb>" shape or names too long. */
int bl_api_command_route_of(const char *type, bl_api_command_route *out);

#endif
