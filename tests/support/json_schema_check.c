/* Runs tests/tools/json_schema_check.py over a file of cases (see json_schema_check.h). */
#include "tests/support/json_schema_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t bl_test_json_schema_check(const json_t *cases, char verdicts[][BL_TEST_VERDICT_MAX], size_t max)
{
    char path[] = "/tmp/busline-jsonschema-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    close(fd);
    if (json_dump_file(cases, path, JSON_COMPACT) != 0) {
        unlink(path);
        return 0;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/tools/json_schema_check.py %s", BUSLINE_SOURCE_DIR, path);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (p) {
        while (n < max && fgets(verdicts[n], BL_TEST_VERDICT_MAX, p)) {
            verdicts[n][strcspn(verdicts[n], "\n")] = '\0';
            n++;
        }
        pclose(p);
    }
    unlink(path);
    return n;
}
