/* The parsers of a definition's parts (api/custom/def_parse.c), used by
 * api/custom/def.c. Each checks its part into d and adds what is wrong to
 * problems (see bl_custom_problem); returns 0, or -1 after a problem. */
#ifndef BUSLINE_API_CUSTOM_DEF_PARTS_H
#define BUSLINE_API_CUSTOM_DEF_PARTS_H

#include "api/custom/custom.h"

int bl_custom_parse_path(bl_custom_def *d, const char *path, json_t *problems);
int bl_custom_parse_auth(bl_custom_def *d, const json_t *auth, const bl_custom_env *env, json_t *problems);
int bl_custom_parse_rate(bl_custom_def *d, const json_t *rate, json_t *problems);
int bl_custom_parse_cache(bl_custom_def *d, const json_t *cache, const bl_custom_env *env, json_t *problems);
int bl_custom_parse_workflow(bl_custom_def *d, const json_t *wf, json_t *problems);

/* "1.2.3" into parts. Returns 0 or -1 (not semver MAJOR.MINOR.PATCH). */
int bl_custom_parse_version(const char *v, int parts[3]);

/* The version a save of row id gets (api/custom/store.c; also the
 * workflows' store): asked when above every saved one, the latest saved
 * one's next patch when asked is NULL or current. top_sql selects (major,
 * minor, patch) of the latest saved version of $1. Returns 0 with out, or
 * -1 with err (BL_EINVAL naming the version). */
int bl_custom_next_version(PGconn *conn, const char *top_sql, const char *id, const char *current,
                           const char *asked, char *out, size_t len, bl_err *err);

#endif
