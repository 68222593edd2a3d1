/* k8s/ and Dockerfile: every overlay renders with `kubectl kustomize` and
 * validates against the Kubernetes, KEDA and Strimzi schemas plus busline's
 * policy (tests/k8s/validate.js: probes, limits, PDBs, security contexts,
 * a KafkaTopic per catalog topic, KEDA max replicas <= partitions); the
 * Dockerfile passes a small lint. Needs kubectl, node and `npm ci` in
 * tests/k8s. */
#include "core/log.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char src[1024];
static char topics_file[] = "/tmp/busline_k8s_topics_XXXXXX";

/* Runs cmd through sh; returns the exit code, output (stdout+stderr) in out. */
static int run(const char *cmd, char *out, size_t len)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t got = fread(out, 1, len - 1, f);
    out[got] = '\0';
    while (fgetc(f) != EOF) /* drain what did not fit */
        ;
    int status = pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void setup(void)
{
    const char *dir = getenv("BUSLINE_SOURCE_DIR");
    snprintf(src, sizeof src, "%s", dir ? dir : BUSLINE_SOURCE_DIR);
    const char *bin = getenv("BUSLINE_BIN");
    REQUIRE(bin != NULL);
    int fd = mkstemp(topics_file);
    REQUIRE(fd >= 0);
    close(fd);
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "'%s' topics list --schemas-dir '%s/schemas' > '%s' 2>&1", bin, src, topics_file);
    REQUIRE(run(cmd, out, sizeof out) == 0);
    char check[2048];
    snprintf(check, sizeof check, "command -v kubectl && command -v node && test -d '%s/tests/k8s/node_modules'", src);
    if (run(check, out, sizeof out) != 0)
        fprintf(stderr, "  needs kubectl, node and `npm ci` in tests/k8s (scripts/setup)\n");
}

/* Renders overlay, pipes it through sed_expr (may be NULL) and validates.
 * A failed render reaches the validator as no input, which it refuses. */
static int validate_overlay(const char *overlay, const char *sed_expr, char *out, size_t len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "kubectl kustomize '%s/k8s/overlays/%s' 2>/dev/null | sed -e '%s' | "
             "node '%s/tests/k8s/validate.js' '%s' 2>&1",
             src, overlay, sed_expr ? sed_expr : "", src, topics_file);
    return run(cmd, out, len);
}

static void every_overlay_renders_and_validates(void)
{
    static char out[65536];
    const char *overlays[] = {"dev", "prod"};
    for (size_t i = 0; i < sizeof overlays / sizeof overlays[0]; i++) {
        int rc = validate_overlay(overlays[i], NULL, out, sizeof out);
        if (rc != 0 || strncmp(out, "ok: ", 4) != 0)
            fprintf(stderr, "  overlay %s:\n%s\n", overlays[i], out);
        CHECK_EQ_INT(rc, 0);
        CHECK(strncmp(out, "ok: ", 4) == 0);
    }
}

static void validator_rejects_broken_manifests(void)
{
    static char out[65536];
    /* A Deployment without readiness on /readyz, a bad field type, and KEDA
     * allowed past the partitions of commands.pmo: each must be reported. */
    CHECK_EQ_INT(validate_overlay("dev", "s#path: /readyz#path: /ready#", out, sizeof out), 1);
    CHECK(strstr(out, "no readiness probe on /readyz") != NULL);
    CHECK_EQ_INT(validate_overlay("prod", "s/revisionHistoryLimit: 5/revisionHistoryLimit: five/", out, sizeof out), 1);
    CHECK(strstr(out, "revisionHistoryLimit must be integer") != NULL);
    CHECK_EQ_INT(validate_overlay("prod", "s/maxReplicaCount: 3/maxReplicaCount: 4/", out, sizeof out), 1);
    CHECK(strstr(out, "maxReplicaCount 4 > 3 partitions of commands.pmo") != NULL);
    CHECK_EQ_INT(validate_overlay("dev", "/readOnlyRootFilesystem/d", out, sizeof out), 1);
    CHECK(strstr(out, "readOnlyRootFilesystem is not true") != NULL);
}

/* hadolint is not packaged in Debian: the rules that matter here. */
static void dockerfile_is_multistage_nonroot_and_pinned(void)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/Dockerfile", src);
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char line[1024], run_cmd[8192] = "";
    int froms = 0, untagged = 0, apt_uncleaned = 0, user_ok = 0, entrypoint_ok = 0;
    int continued = 0;
    while (fgets(line, sizeof line, f)) {
        if (!continued && strncmp(line, "RUN ", 4) == 0)
            run_cmd[0] = '\0';
        if (continued || strncmp(line, "RUN ", 4) == 0)
            strncat(run_cmd, line, sizeof run_cmd - strlen(run_cmd) - 1);
        size_t n = strlen(line);
        continued = n >= 2 && line[n - 2] == '\\';
        if (!continued && run_cmd[0]) {
            if (strstr(run_cmd, "apt-get install") && !strstr(run_cmd, "rm -rf /var/lib/apt/lists/*"))
                apt_uncleaned++;
            if (strstr(run_cmd, "apt-get install") && !strstr(run_cmd, "--no-install-recommends"))
                apt_uncleaned++;
            run_cmd[0] = '\0';
        }
        if (strncmp(line, "FROM ", 5) == 0) {
            froms++;
            char image[256] = "";
            sscanf(line + 5, "%255s", image);
            if (!strchr(image, ':') || strstr(image, ":latest"))
                untagged++;
        }
        if (strncmp(line, "USER ", 5) == 0) {
            unsigned uid = 0;
            char rest[64] = "";
            user_ok = sscanf(line + 5, "%u%63s", &uid, rest) >= 1 && uid != 0 && (rest[0] == '\0' || rest[0] == ':');
        }
        if (strncmp(line, "ENTRYPOINT", 10) == 0)
            entrypoint_ok = strstr(line, "[\"busline\"]") != NULL;
    }
    fclose(f);
    CHECK(froms >= 2);
    CHECK_EQ_INT(untagged, 0);
    CHECK_EQ_INT(apt_uncleaned, 0);
    CHECK(user_ok); /* the last USER wins: numeric, not root */
    CHECK(entrypoint_ok);
}

int main(void)
{
    bl_log_init("test", BL_LOG_ERROR);
    setup();
    BL_RUN(every_overlay_renders_and_validates);
    BL_RUN(validator_rejects_broken_manifests);
    BL_RUN(dockerfile_is_multistage_nonroot_and_pinned);
    unlink(topics_file);
    return bl_test_summary();
}
