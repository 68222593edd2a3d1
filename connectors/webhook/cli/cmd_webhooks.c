/* busline webhooks: sign a body the way deliveries are signed, verify a
 * received webhook, or make a new signing secret (tools for endpoint owners
 * and tests; they touch neither Kafka nor PostgreSQL); the endpoint
 * management actions live in cmd_endpoints.c. */
#include "connectors/webhook/cli/cmd_webhooks.h"

#include "connectors/webhook/cli/cmd_endpoints.h"
#include "connectors/webhook/cli/cmd_replay_jobs.h"
#include "connectors/webhook/cli/cmd_roles.h"
#include "connectors/webhook/cli/cmd_sink.h"

#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/policy/signature_v1a.h"
#include "core/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BODY_FILE_MAX (16 * 1024 * 1024)
#define HEADER_VALUE_MAX 1024

static const bl_setting sign_settings[] = {
    {.name = "secret", .env = "BUSLINE_WEBHOOK_SECRET", .flag = "secret", .type = BL_SETTING_STRING,
     .required = true, .secret = true,
     .help = "signing secret: whsec_<base64> signs v1 (HMAC-SHA256), whsk_<base64> v1a (ed25519)"},
    {.name = "previous_secret", .env = "BUSLINE_WEBHOOK_PREVIOUS_SECRET", .flag = "previous-secret",
     .type = BL_SETTING_STRING, .secret = true,
     .help = "old secret (of the same kind) still in its rotation overlap: also signs"},
    {.name = "id", .flag = "id", .type = BL_SETTING_STRING, .required = true,
     .help = "message id (webhook-id)"},
    {.name = "timestamp", .flag = "timestamp", .type = BL_SETTING_INT, .min = 0, .max = INT64_MAX,
     .help = "unix seconds (webhook-timestamp); default now"},
    {.name = "body", .flag = "body", .type = BL_SETTING_STRING, .required = true,
     .help = "file holding the exact body bytes ('-' for stdin)"},
    {.name = "legacy", .flag = "legacy", .type = BL_SETTING_BOOL, .def = "false",
     .help = "also print the legacy X-Signature header"},
    {0},
};

static const bl_setting verify_settings[] = {
    {.name = "secret", .env = "BUSLINE_WEBHOOK_SECRET", .flag = "secret", .type = BL_SETTING_STRING,
     .required = true, .secret = true,
     .help = "the endpoint's secret whsec_<base64> (checks v1), or its public key whpk_<base64> (checks v1a)"},
    {.name = "body", .flag = "body", .type = BL_SETTING_STRING, .required = true,
     .help = "file holding the exact body bytes received ('-' for stdin)"},
    {.name = "headers", .flag = "headers", .type = BL_SETTING_STRING,
     .help = "file of 'Name: value' lines (e.g. the output of webhooks sign)"},
    {.name = "id", .flag = "id", .type = BL_SETTING_STRING, .help = "webhook-id (beats --headers)"},
    {.name = "timestamp", .flag = "timestamp", .type = BL_SETTING_STRING,
     .help = "webhook-timestamp (beats --headers)"},
    {.name = "signature", .flag = "signature", .type = BL_SETTING_STRING,
     .help = "webhook-signature (beats --headers)"},
    {.name = "x_signature", .flag = "x-signature", .type = BL_SETTING_STRING,
     .help = "legacy X-Signature (beats --headers)"},
    {.name = "tolerance", .flag = "tolerance", .type = BL_SETTING_DURATION, .def = "5m", .min = 0,
     .max = 366LL * 24 * 3600 * 1000, .help = "accepted clock difference for webhook-timestamp"},
    {.name = "now", .flag = "now", .type = BL_SETTING_INT, .min = 0, .max = INT64_MAX,
     .help = "unix seconds to check the timestamp against; default now"},
    {0},
};

/* Reads a whole file (or stdin for "-") of at most BODY_FILE_MAX bytes. */
static char *read_body(const char *path, size_t *len, bl_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        bl_err_set(err, BL_EIO, "body: %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= BODY_FILE_MAX)
            break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int failed = !buf || ferror(f);
    int too_big = buf && n == cap && fgetc(f) != EOF;
    if (f != stdin)
        fclose(f);
    if (failed || too_big) {
        bl_err_set(err, BL_EIO, "body: %s: %s", path,
                   too_big ? "larger than 16 MiB" : buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* One signing key of either kind, parsed by its prefix. */
typedef struct any_key {
    bl_webhook_secret hmac;     /* whsec_ */
    bl_webhook_ed25519_key ed;  /* whsk_ / whpk_ (ed.set) */
} any_key;

static int any_key_parse(const char *text, any_key *k, bl_err *err)
{
    memset(k, 0, sizeof *k);
    if (text && (strncmp(text, BL_WEBHOOK_SIGNING_KEY_PREFIX, strlen(BL_WEBHOOK_SIGNING_KEY_PREFIX)) == 0 ||
                 strncmp(text, BL_WEBHOOK_PUBLIC_KEY_PREFIX, strlen(BL_WEBHOOK_PUBLIC_KEY_PREFIX)) == 0))
        return bl_webhook_ed25519_parse(text, &k->ed, err);
    return bl_webhook_secret_parse(text, &k->hmac, err);
}

static void any_key_wipe(any_key *k)
{
    bl_webhook_secret_wipe(&k->hmac);
    bl_webhook_ed25519_wipe(&k->ed);
}

static int cmd_sign(bl_config *cfg)
{
    bl_err err = {0};
    any_key cur = {0}, prev = {0};
    char *body = NULL;
    size_t body_len = 0;
    int code = 1;
    const char *prev_text = bl_config_str(cfg, "previous_secret");
    if (any_key_parse(bl_config_str(cfg, "secret"), &cur, &err) != 0 ||
        (prev_text && any_key_parse(prev_text, &prev, &err) != 0))
        goto done;
    bool ed = cur.ed.set;
    if (ed && !cur.ed.has_private) {
        bl_err_set(&err, BL_EINVAL, "a whpk_ public key verifies, it cannot sign: give the whsk_ key");
        goto done;
    }
    if (prev_text && prev.ed.set != ed) {
        bl_err_set(&err, BL_EINVAL, "--previous-secret must be of the kind of --secret (whsec_ or whsk_)");
        goto done;
    }
    if (prev_text && ed && !prev.ed.has_private) {
        bl_err_set(&err, BL_EINVAL, "--previous-secret: a whpk_ public key cannot sign");
        goto done;
    }
    if (ed && bl_config_bool(cfg, "legacy")) {
        bl_err_set(&err, BL_EINVAL, "--legacy (X-Signature, HMAC) needs a whsec_ secret");
        goto done;
    }
    if (!(body = read_body(bl_config_str(cfg, "body"), &body_len, &err)))
        goto done;
    const char *id = bl_config_str(cfg, "id");
    int64_t ts = strcmp(bl_config_source(cfg, "timestamp"), "unset") == 0
                     ? (int64_t)time(NULL) : bl_config_int(cfg, "timestamp");
    /* A previous secret given here is by definition still in its overlap. */
    bl_webhook_rotation keys = {.current = &cur.hmac, .previous = prev_text ? &prev.hmac : NULL,
                                .previous_until = INT64_MAX};
    if (ed)
        keys = (bl_webhook_rotation){.scheme = BL_WEBHOOK_SCHEME_V1A, .ed_current = &cur.ed,
                                     .ed_previous = prev_text ? &prev.ed : NULL, .ed_previous_until = INT64_MAX};
    char header[BL_WEBHOOK_SIG_HEADER_MAX], legacy[BL_WEBHOOK_LEGACY_SIG_MAX];
    if (bl_webhook_sign_header(&keys, 0, id, ts, body, body_len, header, sizeof header, &err) != 0)
        goto done;
    if (bl_config_bool(cfg, "legacy") &&
        bl_webhook_sign_legacy(cur.hmac.key, cur.hmac.len, body, body_len, legacy, sizeof legacy, &err) != 0)
        goto done;
    printf("webhook-id: %s\nwebhook-timestamp: %" PRId64 "\nwebhook-signature: %s\n", id, ts, header);
    if (bl_config_bool(cfg, "legacy"))
        printf("X-Signature: %s\n", legacy);
    code = 0;
done:
    if (code != 0)
        fprintf(stderr, "busline webhooks sign: %s\n", err.msg);
    any_key_wipe(&cur);
    any_key_wipe(&prev);
    free(body);
    return code;
}

/* The four headers verify looks at, from --headers and the flags. */
typedef struct received {
    char id[HEADER_VALUE_MAX], timestamp[HEADER_VALUE_MAX];
    char signature[HEADER_VALUE_MAX], x_signature[HEADER_VALUE_MAX];
    bool has_id, has_timestamp, has_signature, has_x_signature;
} received;

static void set_header(char *dst, bool *has, const char *value)
{
    snprintf(dst, HEADER_VALUE_MAX, "%s", value);
    *has = true;
}

/* Reads "Name: value" lines; names case-insensitive, CR LF tolerated, other
 * headers ignored. */
static int read_headers(const char *path, received *r, bl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return bl_err_set(err, BL_EIO, "headers: %s: %s", path, strerror(errno));
    char line[HEADER_VALUE_MAX + 64];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (strcasecmp(line, "webhook-id") == 0)
            set_header(r->id, &r->has_id, value);
        else if (strcasecmp(line, "webhook-timestamp") == 0)
            set_header(r->timestamp, &r->has_timestamp, value);
        else if (strcasecmp(line, "webhook-signature") == 0)
            set_header(r->signature, &r->has_signature, value);
        else if (strcasecmp(line, "x-signature") == 0)
            set_header(r->x_signature, &r->has_x_signature, value);
    }
    fclose(f);
    return 0;
}

static int cmd_verify(bl_config *cfg)
{
    bl_err err = {0};
    any_key secret = {0};
    received r = {0};
    char *body = NULL;
    size_t body_len = 0;
    int code = 2;
    const char *headers = bl_config_str(cfg, "headers");
    if (any_key_parse(bl_config_str(cfg, "secret"), &secret, &err) != 0 ||
        (headers && read_headers(headers, &r, &err) != 0) ||
        !(body = read_body(bl_config_str(cfg, "body"), &body_len, &err))) {
        fprintf(stderr, "busline webhooks verify: %s\n", err.msg);
        goto done;
    }
    const char *flag;
    if ((flag = bl_config_str(cfg, "id")))
        set_header(r.id, &r.has_id, flag);
    if ((flag = bl_config_str(cfg, "timestamp")))
        set_header(r.timestamp, &r.has_timestamp, flag);
    if ((flag = bl_config_str(cfg, "signature")))
        set_header(r.signature, &r.has_signature, flag);
    if ((flag = bl_config_str(cfg, "x_signature")))
        set_header(r.x_signature, &r.has_x_signature, flag);
    int64_t now = strcmp(bl_config_source(cfg, "now"), "unset") == 0 ? (int64_t)time(NULL)
                                                                       : bl_config_int(cfg, "now");
    code = 1;
    /* The Standard Webhooks check runs unless only a legacy header came. */
    if (secret.ed.set && r.has_x_signature) {
        fprintf(stderr, "busline webhooks verify: X-Signature (HMAC) needs the whsec_ secret, not an ed25519 key\n");
        goto done;
    }
    if (r.has_signature || !r.has_x_signature) {
        const char *id = r.has_id ? r.id : NULL, *ts = r.has_timestamp ? r.timestamp : NULL;
        const char *sig = r.has_signature ? r.signature : NULL;
        int64_t tolerance_s = bl_config_duration_ms(cfg, "tolerance") / 1000;
        bl_webhook_verdict v =
            secret.ed.set
                ? bl_webhook_verify_v1a(&secret.ed, id, ts, sig, body, body_len, now, tolerance_s, &err)
                : bl_webhook_verify_v1(&secret.hmac, id, ts, sig, body, body_len, now, tolerance_s, &err);
        if (v != BL_WEBHOOK_VERIFY_OK) {
            fprintf(stderr, "busline webhooks verify: failed (%s): %s\n", bl_webhook_verdict_name(v), err.msg);
            goto done;
        }
        printf("ok: webhook-signature valid\n");
    }
    if (r.has_x_signature) {
        bl_webhook_verdict v = bl_webhook_verify_legacy(&secret.hmac, r.x_signature, body, body_len, &err);
        if (v != BL_WEBHOOK_VERIFY_OK) {
            fprintf(stderr, "busline webhooks verify: failed (%s): %s\n", bl_webhook_verdict_name(v), err.msg);
            goto done;
        }
        printf("ok: X-Signature valid\n");
    }
    code = 0;
done:
    any_key_wipe(&secret);
    free(body);
    return code;
}

static int cmd_new_secret(void)
{
    char text[BL_WEBHOOK_SECRET_TEXT_MAX];
    bl_err err = {0};
    if (bl_webhook_secret_generate(text, sizeof text, &err) != 0) {
        fprintf(stderr, "busline webhooks new-secret: %s\n", err.msg);
        return 1;
    }
    printf("%s\n", text);
    return 0;
}

/* A fresh ed25519 pair: the whsk_ signing key, then its whpk_ public key. */
static int cmd_new_key(void)
{
    bl_webhook_ed25519_key key;
    char sk[BL_WEBHOOK_ED_KEY_TEXT_MAX], pk[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX];
    bl_err err = {0};
    int rc = bl_webhook_ed25519_generate(&key, &err) == 0 &&
                     bl_webhook_ed25519_signing_text(&key, sk, sizeof sk, &err) == 0 &&
                     bl_webhook_ed25519_public_text(&key, pk, sizeof pk, &err) == 0
                 ? 0
                 : 1;
    bl_webhook_ed25519_wipe(&key);
    if (rc != 0)
        fprintf(stderr, "busline webhooks new-key: %s\n", err.msg);
    else
        printf("%s\n%s\n", sk, pk);
    memset(sk, 0, sizeof sk);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: busline webhooks <action> [options]\n\n"
            "actions:\n"
            "  sign        print the webhook-id, webhook-timestamp and webhook-signature headers\n"
            "              for a body: v1 with a whsec_ secret, v1a with a whsk_ key (--legacy\n"
            "              adds X-Signature)\n"
            "  verify      check a received webhook's headers against its body with the whsec_\n"
            "              secret (v1) or the whpk_ public key (v1a); exit 1 and say which check\n"
            "              failed when it does not verify\n"
            "  new-secret  print a fresh whsec_ signing secret\n"
            "  new-key     print a fresh ed25519 pair: the whsk_ signing key, then its whpk_ public key\n"
            "  fanout      run the fan-out: event topics -> one delivery per matching endpoint\n"
            "  deliver     run a delivery worker: deliveries and retry tiers -> endpoints\n"
            "  sink        a local endpoint that prints what it receives and verifies signatures\n");
    bl_cmd_endpoints_usage(out);
    bl_cmd_replay_jobs_usage(out);
    fprintf(out, "\n'busline webhooks <action> --help' lists an action's options.\n");
}

/* Loads table from argv (argv[0] = the action) and runs fn. */
static int run_action(const bl_setting *table, int (*fn)(bl_config *), int argc, char **argv)
{
    bl_err err = {0};
    bl_config *cfg = bl_config_new();
    if (!cfg) {
        fprintf(stderr, "busline webhooks: out of memory\n");
        return 1;
    }
    int code;
    int rc = bl_config_add(cfg, table, &err);
    if (rc == 0)
        rc = bl_config_load(cfg, argc, argv, &err);
    int nargs = 0;
    if (rc == 0)
        bl_config_args(cfg, &nargs);
    if (rc == BL_CONFIG_HELP) {
        code = 0;
    } else if (rc != 0 || nargs > 0) {
        fprintf(stderr, "%s: %s\n", argv[0],
                rc != 0 ? err.msg : "unexpected argument (see --help)");
        code = 2;
    } else {
        code = fn(cfg);
    }
    bl_config_free(cfg);
    return code;
}

int bl_cmd_webhooks(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 || strcmp(action, "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* The action's full name shows in its --help and errors. */
    static char sign_name[] = "busline webhooks sign", verify_name[] = "busline webhooks verify";
    if (strcmp(action, "sign") == 0) {
        argv[1] = sign_name;
        return run_action(sign_settings, cmd_sign, argc - 1, argv + 1);
    }
    if (strcmp(action, "verify") == 0) {
        argv[1] = verify_name;
        return run_action(verify_settings, cmd_verify, argc - 1, argv + 1);
    }
    if (strcmp(action, "new-secret") == 0)
        return cmd_new_secret();
    if (strcmp(action, "new-key") == 0)
        return cmd_new_key();
    static char fanout_name[] = "busline webhooks fanout", deliver_name[] = "busline webhooks deliver",
                sink_name[] = "busline webhooks sink";
    if (strcmp(action, "fanout") == 0) {
        argv[1] = fanout_name;
        return bl_cmd_webhooks_fanout(argc - 1, argv + 1);
    }
    if (strcmp(action, "deliver") == 0) {
        argv[1] = deliver_name;
        return bl_cmd_webhooks_deliver(argc - 1, argv + 1);
    }
    if (strcmp(action, "sink") == 0) {
        argv[1] = sink_name;
        return bl_cmd_webhooks_sink(argc - 1, argv + 1);
    }
    if (bl_cmd_endpoints_knows(action) || bl_cmd_replay_jobs_knows(action)) {
        /* "busline webhooks <action>" for its --help and errors */
        char display[64];
        snprintf(display, sizeof display, "busline webhooks %s", action);
        argv[1] = display;
        return bl_cmd_endpoints_knows(action) ? bl_cmd_endpoints(action, argc - 1, argv + 1)
                                              : bl_cmd_replay_jobs(action, argc - 1, argv + 1);
    }
    fprintf(stderr, "busline webhooks: unknown action '%s'\n\n", action);
    usage(stderr);
    return 2;
}
