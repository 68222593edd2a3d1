/* busline webhooks sign / verify, run as the real binary. */
#include "tests/support/test.h"

#include <sys/wait.h>
#include <unistd.h>

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static char dir[64];

static const char *bin(void)
{
    const char *b = getenv("BUSLINE_BIN");
    return b ? b : "./busline";
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Runs `busline webhooks <args>` in dir; copies stdout into out and returns the exit code. */
static int run(const char *args, char *out, size_t out_len)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && %s webhooks %s 2>stderr.txt", dir, bin(), args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, out_len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void read_stderr(char *out, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (f) {
        size_t n = fread(out, 1, len - 1, f);
        out[n] = '\0';
        fclose(f);
    }
}

static void sign_prints_the_spec_headers(void)
{
    write_file("body.json", "{\"test\": 2432232314}");
    char out[1024];
    CHECK_EQ_INT(run("sign --secret " SECRET " --id msg_p5jXN8AQM9LWM0D4loKWxJek --timestamp 1614265330 "
                     "--body body.json --legacy > headers.txt && cat headers.txt", out, sizeof out), 0);
    CHECK(strstr(out, "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n") != NULL);
    CHECK(strstr(out, "webhook-timestamp: 1614265330\n") != NULL);
    CHECK(strstr(out, "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n") != NULL);
    CHECK(strstr(out, "X-Signature: sha256=") != NULL);
}

static void verify_accepts_what_sign_printed(void)
{
    char out[1024];
    CHECK_EQ_INT(run("verify --secret " SECRET " --headers headers.txt --body body.json --now 1614265400",
                     out, sizeof out), 0);
    CHECK(strstr(out, "ok: webhook-signature valid") != NULL);
    CHECK(strstr(out, "ok: X-Signature valid") != NULL);
}

static void verify_says_which_check_failed(void)
{
    char out[1024], err[1024];
    write_file("tampered.json", "{\"test\": 2432232315}");
    CHECK_EQ_INT(run("verify --secret " SECRET " --headers headers.txt --body tampered.json --now 1614265400",
                     out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "signature mismatch") != NULL);
    CHECK_EQ_INT(run("verify --secret " SECRET " --headers headers.txt --body body.json --now 1614275400",
                     out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "timestamp too old") != NULL);
    CHECK_EQ_INT(run("verify --secret " SECRET " --body body.json --x-signature sha256=00", out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "X-Signature is not") != NULL);
    CHECK_EQ_INT(run("verify --secret " SECRET " --body body.json --now 1614265400 --id msg_1", out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "missing header webhook-timestamp") != NULL);
}

static void bad_input_is_a_usage_error(void)
{
    char out[1024], err[1024];
    CHECK_EQ_INT(run("sign --id x --body body.json", out, sizeof out), 2);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "missing required setting secret") != NULL);
    CHECK_EQ_INT(run("sign --secret whsec_short --id x --body body.json", out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "webhook secret") != NULL);
    CHECK_EQ_INT(run("frobnicate", out, sizeof out), 2);
    CHECK_EQ_INT(run("new-secret", out, sizeof out), 0);
    CHECK(strncmp(out, "whsec_", 6) == 0);
}

/* new-key prints a whsk_/whpk_ pair; sign with the whsk_ key, verify with the
 * whpk_ one; a tampered body or another pair's public key fails. */
static void v1a_signs_with_whsk_and_verifies_with_whpk(void)
{
    char out[1024], other[1024], err[1024];
    REQUIRE(run("new-key", out, sizeof out) == 0);
    char sk[128], pk[128];
    REQUIRE(sscanf(out, "%127s %127s", sk, pk) == 2);
    CHECK(strncmp(sk, "whsk_", 5) == 0 && strncmp(pk, "whpk_", 5) == 0);
    REQUIRE(run("new-key", other, sizeof other) == 0);
    char other_pk[128];
    REQUIRE(sscanf(other, "%*s %127s", other_pk) == 1);
    write_file("body.json", "{\"test\": 2432232314}");
    char args[512];
    snprintf(args, sizeof args, "sign --secret %s --id msg_1 --timestamp 1614265330 --body body.json "
             "> v1a_headers.txt && cat v1a_headers.txt", sk);
    REQUIRE(run(args, out, sizeof out) == 0);
    CHECK(strstr(out, "webhook-signature: v1a,") != NULL);
    snprintf(args, sizeof args, "verify --secret %s --headers v1a_headers.txt --body body.json --now 1614265330", pk);
    CHECK_EQ_INT(run(args, out, sizeof out), 0);
    CHECK(strstr(out, "ok: webhook-signature valid") != NULL);
    snprintf(args, sizeof args, "verify --secret %s --headers v1a_headers.txt --body body.json --now 1614265330",
             other_pk);
    CHECK_EQ_INT(run(args, out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "signature mismatch") != NULL);
    write_file("forged.json", "{\"test\": 1}");
    snprintf(args, sizeof args, "verify --secret %s --headers v1a_headers.txt --body forged.json --now 1614265330",
             pk);
    CHECK_EQ_INT(run(args, out, sizeof out), 1);
    /* a public key cannot sign */
    snprintf(args, sizeof args, "sign --secret %s --id msg_1 --body body.json", pk);
    CHECK_EQ_INT(run(args, out, sizeof out), 1);
    read_stderr(err, sizeof err);
    CHECK(strstr(err, "cannot sign") != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/bl_cmdwh_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    BL_RUN(sign_prints_the_spec_headers);
    BL_RUN(verify_accepts_what_sign_printed);
    BL_RUN(verify_says_which_check_failed);
    BL_RUN(bad_input_is_a_usage_error);
    BL_RUN(v1a_signs_with_whsk_and_verifies_with_whpk);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return bl_test_summary();
}
