/* --transformation FILE (see cmd_transformation.h). */
#include "connectors/webhook/cli/cmd_transformation.h"

#include "connectors/webhook/policy/transformation.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int bl_cli_transformation_read(const char *path, json_t **out, bl_err *err)
{
    *out = NULL;
    if (!path || strcmp(path, "none") == 0)
        return 0;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return bl_err_set(err, BL_EINVAL, "--transformation: %.200s is not a readable file", path);
    /* a pretty-printed rule may be several times its compact size */
    if (st.st_size > 4 * BL_WEBHOOK_TRANSFORMATION_TEXT_MAX)
        return bl_err_set(err, BL_EINVAL, "--transformation: %.200s is over %d bytes", path,
                          4 * BL_WEBHOOK_TRANSFORMATION_TEXT_MAX);
    json_error_t jerr;
    json_t *rule = json_load_file(path, 0, &jerr);
    if (!rule)
        return bl_err_set(err, BL_EINVAL, "--transformation: %.200s: not JSON (line %d column %d: %s)", path,
                          jerr.line, jerr.column, jerr.text);
    json_t *problems = json_object();
    if (!problems) {
        json_decref(rule);
        return bl_err_set(err, BL_ENOMEM, "out of memory");
    }
    int rc = 0;
    if (bl_webhook_transformation_check(rule, "transformation", problems) != 0) {
        const char *field;
        json_t *msg;
        json_object_foreach(problems, field, msg)
            fprintf(stderr, "%s: %s\n", field, json_string_value(msg));
        rc = bl_err_set(err, BL_EINVAL, "--transformation: %.200s: %zu problem(s), listed above", path,
                        json_object_size(problems));
        json_decref(rule);
    } else {
        *out = rule;
    }
    json_decref(problems);
    return rc;
}
