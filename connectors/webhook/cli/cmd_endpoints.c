/* Endpoint management actions of `busline webhooks` (see cmd_endpoints.h). */
#include "connectors/webhook/cli/cmd_endpoints.h"
#include "connectors/webhook/cli/cmd_endpoint_settings.h"
#include "connectors/webhook/cli/cmd_endpoint_transport.h"
#include "connectors/webhook/cli/cmd_transformation.h"

#include "connectors/webhook/workers/test_send.h"

#include "connectors/webhook/cli/cmd_replay.h"
#include "connectors/webhook/store/delivery_log.h"
#include "connectors/webhook/store/endpoint_ordering.h"
#include "connectors/webhook/store/endpoint_store.h"
#include "connectors/webhook/workers/payload.h"
#include "connectors/webhook/store/webhook_events.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TYPES BL_WEBHOOK_EVENT_TYPES_MAX
#define TYPES_TEXT_MAX 4096

typedef enum action_needs { NEEDS_NOTHING = 0, NEEDS_ID = 1, NEEDS_KEYS = 2, NEEDS_EVENTS = 4 } action_needs;

typedef struct cli {
    bl_config *cfg;
    const char *id;           /* the positional argument, when the action takes one */
    json_t *header_flags;     /* from --header, or NULL */
    bl_pg_pool *pool;
    bl_keyring *keyring;
    bl_webhook_events *events;
    bl_webhook_store *store;
    bl_ssrf_allowlist allow;
} cli;

typedef int (*action_fn)(cli *c);

static int fail(const char *what, const bl_err *err)
{
    fprintf(stderr, "busline webhooks %s: %s\n", what, err->msg);
    return 1;
}

/* Splits the comma list text into types (pointers into buf). */
static int split_types(const char *text, char *buf, size_t buf_len, const char **types,
                       size_t *n, bl_err *err)
{
    if (strlen(text) >= buf_len)
        return bl_err_set(err, BL_EINVAL, "--events: too long");
    strcpy(buf, text);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ')
            t[--len] = '\0';
        if (!*t)
            continue;
        if (*n == MAX_TYPES)
            return bl_err_set(err, BL_EINVAL, "--events: at most %d", MAX_TYPES);
        types[(*n)++] = t;
    }
    return 0;
}

/* Everything a spec borrows while it is used. */
typedef struct spec_holder {
    const char *types[MAX_TYPES];
    char types_buf[TYPES_TEXT_MAX];
    json_t *conditions, *headers;
    int64_t schedule[BL_WEBHOOK_RETRY_SCHEDULE_MAX];
    bl_cli_tls_pems tls;
    json_t *transformation;
    bl_cli_kafka_flags kafka;
} spec_holder;

/* --retry-schedule "5,300,1800" into h->schedule (or "none": no schedule). */
static int parse_schedule(const char *text, bl_webhook_spec *spec, spec_holder *h, bl_err *err)
{
    spec->retry_schedule_s = NULL;
    spec->retry_schedule_len = 0;
    if (!text || strcmp(text, "none") == 0)
        return 0;
    size_t n = 0;
    for (const char *p = text; *p;) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || v < 1 || v > BL_WEBHOOK_RETRY_DELAY_MAX_S ||
            n == BL_WEBHOOK_RETRY_SCHEDULE_MAX)
            return bl_err_set(err, BL_EINVAL, "--retry-schedule: 1 to %d comma-separated delays of 1 to %d "
                              "seconds, or none", BL_WEBHOOK_RETRY_SCHEDULE_MAX, BL_WEBHOOK_RETRY_DELAY_MAX_S);
        h->schedule[n++] = v;
        p = *end ? end + 1 : end;
    }
    spec->retry_schedule_s = h->schedule;
    spec->retry_schedule_len = n;
    return 0;
}

static void spec_holder_clear(spec_holder *h)
{
    json_decref(h->conditions);
    json_decref(h->headers);
    bl_cli_tls_pems_clear(&h->tls);
    json_decref(h->transformation);
    bl_cli_kafka_flags_clear(&h->kafka);
}

/* Applies the given flags onto spec (create: every flag with its default). */
static int apply_flags(cli *c, bl_webhook_spec *spec, spec_holder *h, bool creating, bl_err *err)
{
    const bl_config *cfg = c->cfg;
    if (creating || bl_cli_setting_given(cfg, "name"))
        spec->name = bl_config_str(cfg, "name");
    if (creating || bl_cli_setting_given(cfg, "url"))
        spec->url = bl_config_str(cfg, "url");
    if (creating || bl_cli_setting_given(cfg, "events")) {
        const char *ev = bl_config_str(cfg, "events");
        if (!ev)
            return bl_err_set(err, BL_EINVAL, "--events is required");
        if (split_types(ev, h->types_buf, sizeof h->types_buf, h->types, &spec->event_type_count,
                        err) != 0)
            return -1;
        spec->event_types = h->types;
    }
    if (bl_cli_setting_given(cfg, "conditions")) {
        if (bl_cli_json_flag("conditions", bl_config_str(cfg, "conditions"), &h->conditions, err) != 0)
            return -1;
        spec->conditions = h->conditions;
    }
    if (bl_cli_setting_given(cfg, "headers")) {
        if (bl_cli_json_flag("headers", bl_config_str(cfg, "headers"), &h->headers, err) != 0)
            return -1;
        spec->headers = h->headers;
    }
    if (c->header_flags) {
        if (!h->headers)
            h->headers = spec->headers ? json_deep_copy(spec->headers) : json_object();
        if (!h->headers || json_object_update(h->headers, c->header_flags) != 0)
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        spec->headers = h->headers;
    }
    if (creating || bl_cli_setting_given(cfg, "legacy_signature"))
        spec->legacy_signature = bl_config_bool(cfg, "legacy_signature");
    if (bl_cli_setting_given(cfg, "hmac_header")) {
        const char *name = bl_config_str(cfg, "hmac_header");
        spec->hmac_header = name && *name ? name : NULL;
    }
    if (bl_cli_setting_given(cfg, "signature_scheme"))
        spec->signature_scheme = bl_webhook_scheme_parse(bl_config_str(cfg, "signature_scheme"));
    if (creating || bl_cli_setting_given(cfg, "strict_order"))
        spec->strict_order = bl_config_bool(cfg, "strict_order");
    if (bl_cli_setting_given(cfg, "ordering") && bl_cli_setting_given(cfg, "strict_order"))
        return bl_err_set(err, BL_EINVAL, "--ordering and --strict-order exclude each other");
    if (bl_cli_setting_given(cfg, "ordering"))
        bl_webhook_ordering_parse(bl_config_str(cfg, "ordering"), &spec->strict_order);
    if (bl_cli_setting_given(cfg, "retry_schedule") && parse_schedule(bl_config_str(cfg, "retry_schedule"), spec, h, err) != 0)
        return -1;
    if (spec->retry_schedule_len && (bl_cli_setting_given(cfg, "max_attempts") || bl_cli_setting_given(cfg, "backoff")))
        return bl_err_set(err, BL_EINVAL, "--retry-schedule and --max-attempts/--backoff exclude each other "
                          "(--retry-schedule none returns to the exponential backoff)");
    if (bl_cli_setting_given(cfg, "max_age"))
        spec->max_age_s = bl_config_int(cfg, "max_age");
    if (creating || bl_cli_setting_given(cfg, "max_attempts"))
        spec->max_attempts = (int)bl_config_int(cfg, "max_attempts");
    if (creating || bl_cli_setting_given(cfg, "backoff"))
        spec->backoff_base_ms = bl_config_duration_ms(cfg, "backoff");
    if (creating || bl_cli_setting_given(cfg, "timeout"))
        spec->timeout_ms = (int)bl_config_duration_ms(cfg, "timeout");
    if (bl_cli_setting_given(cfg, "rate_limit")) {
        const char *text = bl_config_str(cfg, "rate_limit");
        char *end = NULL;
        errno = 0;
        double rate = strtod(text, &end);
        if (errno || end == text || *end)
            return bl_err_set(err, BL_EINVAL, "--rate-limit: not a number of requests per second");
        spec->rate_limit_per_s = rate;
    }
    if (creating || bl_cli_setting_given(cfg, "burst"))
        spec->rate_limit_burst = (int)bl_config_int(cfg, "burst");
    if (bl_cli_setting_given(cfg, "transformation")) {
        if (bl_cli_transformation_read(bl_config_str(cfg, "transformation"), &h->transformation, err) != 0)
            return -1;
        spec->transformation = h->transformation;
    }
    if (bl_cli_tls_apply(cfg, spec, &h->tls, err) != 0)
        return -1;
    return bl_cli_kafka_apply(cfg, spec, &h->kafka, err);
}

static void print_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(j);
}

/* ---- actions ---- */

static int act_create(cli *c)
{
    bl_err err = {0};
    const char *org = bl_config_str(c->cfg, "org");
    if (!org) {
        fprintf(stderr, "busline webhooks create: --org is required\n");
        return 2;
    }
    bl_webhook_spec spec = {0};
    spec_holder h = {0};
    int code = 1;
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    if (apply_flags(c, &spec, &h, true, &err) != 0) {
        code = fail("create", &err);
        goto done;
    }
    bl_webhook_endpoint *e = bl_webhook_store_create(c->store, org, &spec, secret, sizeof secret, &err);
    if (!e) {
        code = fail("create", &err);
        goto done;
    }
    printf("id: %s\nsecret: %s\n", e->id, secret);
    if (e->ed25519_public_key)
        printf("public_key: %s\n", e->ed25519_public_key);
    fprintf(stderr, "keep the secret now: it is stored encrypted and never shown again "
            "(rotate to get a new one)\n");
    memset(secret, 0, sizeof secret);
    bl_webhook_endpoint_free(e);
    code = 0;
done:
    spec_holder_clear(&h);
    return code;
}

static int act_list(cli *c)
{
    bl_err err = {0};
    bl_webhook_endpoint_list list;
    if (bl_webhook_store_list(c->store, bl_config_str(c->cfg, "org"), false, &list, &err) != 0)
        return fail("list", &err);
    for (size_t i = 0; i < list.count; i++) {
        const bl_webhook_endpoint *e = list.items[i];
        printf("%s\t%s\t%s\t%s\t", e->id, e->active ? "active" : "disabled", e->name, e->url);
        for (size_t t = 0; t < e->event_type_count; t++)
            printf("%s%s", t ? "," : "", e->event_types[t]);
        printf("\n");
    }
    bl_webhook_endpoint_list_free(&list);
    return 0;
}

static int act_show(cli *c)
{
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_get(c->store, c->id, &err);
    if (!e)
        return fail("show", &err);
    print_json(bl_webhook_endpoint_to_json(e));
    bl_webhook_endpoint_free(e);
    return 0;
}

static int act_update(cli *c)
{
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_get(c->store, c->id, &err);
    if (!e)
        return fail("update", &err);
    const char *types_buf[MAX_TYPES];
    bl_webhook_spec spec;
    bl_webhook_spec_from_endpoint(e, &spec, types_buf);
    spec_holder h = {0};
    int code = 1;
    if (apply_flags(c, &spec, &h, false, &err) != 0) {
        code = fail("update", &err);
    } else {
        bl_webhook_endpoint *u = bl_webhook_store_update(c->store, c->id, &spec, &err);
        if (u) {
            print_json(bl_webhook_endpoint_to_json(u));
            code = 0;
        } else {
            code = fail("update", &err);
        }
        bl_webhook_endpoint_free(u);
    }
    spec_holder_clear(&h);
    bl_webhook_endpoint_free(e);
    return code;
}

static int act_delete(cli *c)
{
    bl_err err = {0};
    if (bl_webhook_store_delete(c->store, c->id, &err) != 0)
        return fail("delete", &err);
    printf("deleted %s\n", c->id);
    return 0;
}

static int act_enable(cli *c)
{
    bl_err err = {0};
    int64_t since_ms = 0;
    if (bl_cmd_replay_since(c->cfg, &since_ms) != 0)
        return 2;
    if (bl_webhook_store_enable(c->store, c->id, &err) != 0)
        return fail("enable", &err);
    printf("enabled %s\n", c->id);
    return since_ms ? bl_cmd_replay_endpoint(c->cfg, c->pool, c->store, c->id, since_ms) : 0;
}

static int act_replay_requests(cli *c)
{
    return bl_cmd_replay_requests(c->cfg, c->pool, c->store);
}

static int act_disable(cli *c)
{
    bl_err err = {0};
    const char *reason = bl_config_str(c->cfg, "reason");
    if (bl_webhook_store_disable(c->store, c->id, reason ? reason : "disabled by an operator",
                                 &err) != 0)
        return fail("disable", &err);
    printf("disabled %s\n", c->id);
    return 0;
}

static int act_rotate(cli *c)
{
    bl_err err = {0};
    char secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    int64_t overlap = bl_config_duration_ms(c->cfg, "overlap");
    if (bl_webhook_store_rotate(c->store, c->id, overlap > 0 ? overlap : -1, secret, sizeof secret,
                                &err) != 0)
        return fail("rotate", &err);
    printf("secret: %s\n", secret);
    bl_webhook_endpoint *e = bl_webhook_store_get(c->store, c->id, &err);
    if (e && e->ed25519_public_key)
        printf("public_key: %s\n", e->ed25519_public_key);
    bl_webhook_endpoint_free(e);
    fprintf(stderr, "the old secret keeps signing for %lld s; keep the new one now: it is never "
            "shown again\n", (long long)(overlap / 1000));
    memset(secret, 0, sizeof secret);
    return 0;
}

static int act_stats(cli *c)
{
    bl_err err = {0};
    int64_t since = bl_config_duration_ms(c->cfg, "since");
    int64_t since_ms = since > 0 ? bl_clock_wall_ms() - since : 0;
    bl_delivery_stats s;
    if (bl_delivery_stats_get(c->pool, c->id, since_ms, &s, &err) != 0)
        return fail("stats", &err);
    printf("endpoint: %s\ntotal: %ld\nsucceeded: %ld\nfailed: %ld\nsuccess rate: %.1f%%\n"
           "average duration: %.1f ms\nlast attempts:\n",
           c->id, s.total, s.succeeded, s.failed, 100.0 * s.success_rate, s.avg_duration_ms);
    for (size_t i = 0; i < s.recent_count; i++) {
        const bl_delivery_attempt *a = &s.recent[i];
        char at[BL_RFC3339_MS_SIZE] = "?";
        bl_rfc3339_from_ms(a->delivered_at_ms, at, NULL);
        printf("  %s  %-7s status=%d attempt=%d %lld ms  %s %s%s%s\n", at,
               a->succeeded ? "ok" : "failed", a->status_code, a->attempt,
               (long long)a->duration_ms, a->event_type, a->event_id, a->error[0] ? "  " : "",
               a->error);
    }
    return 0;
}

static int act_test(cli *c)
{
    bl_err err = {0};
    bl_webhook_endpoint *e = bl_webhook_store_get(c->store, c->id, &err);
    if (!e)
        return fail("test", &err);
    bl_webhook_test t = {0};
    int rc = bl_webhook_test_send(e, c->keyring, &c->allow, bl_clock_wall_ms(), &t, &err);
    bl_webhook_endpoint_free(e);
    if (rc != 0)
        return fail("test", &err);
    printf("webhook-id: %s\nstatus: %d\nduration: %lld ms\n%s%s%s", t.event_id, t.status_code,
           (long long)t.duration_ms, t.error[0] ? "error: " : "", t.error, t.error[0] ? "\n" : "");
    if (t.response)
        printf("response: %.*s\n", 512, t.response);
    int code = t.succeeded ? 0 : 1;
    bl_webhook_test_clear(&t);
    return code;
}

typedef struct action {
    const char *name;
    action_fn fn;
    int needs;
    const char *help;
} action;

static int act_egress_proxy(cli *c)
{
    return bl_cli_egress_proxy(c->pool, c->cfg, &c->allow);
}

static const action actions[] = {
    {"create", act_create, NEEDS_KEYS | NEEDS_EVENTS,
     "--org O --name N --url U --events 'risk.*,...': new endpoint (endpoint.created); prints its id and secret once"},
    {"list", act_list, 0, "[--org O]: endpoints, one a line"},
    {"show", act_show, NEEDS_ID, "ID: one endpoint as JSON (no secrets)"},
    {"update", act_update, NEEDS_ID | NEEDS_EVENTS, "ID [--name ...]: change the given settings (endpoint.updated)"},
    {"delete", act_delete, NEEDS_ID | NEEDS_EVENTS, "ID: remove an endpoint (endpoint.deleted; its delivery log stays)"},
    {"enable", act_enable, NEEDS_ID | NEEDS_EVENTS,
     "ID [--replay-since T]: deliver again (webhook.enabled); replay what it missed since T"},
    {"replay-requests", act_replay_requests, 0, "carry out the waiting replay jobs (API, console, replay), then exit"},
    {"disable", act_disable, NEEDS_ID | NEEDS_EVENTS, "ID [--reason R]: stop deliveries (webhook.disabled)"},
    {"rotate", act_rotate, NEEDS_ID | NEEDS_KEYS, "ID [--overlap 24h]: new secret (and ed25519 pair, when it has one); the old ones sign during the overlap"},
    {"stats", act_stats, NEEDS_ID, "ID [--since 24h]: attempts, success rate, duration, last 10"},
    {"test", act_test, NEEDS_ID | NEEDS_KEYS, "ID: send a signed webhook.test delivery now; prints the answer"},
    {"egress-proxy", act_egress_proxy, 0,
     "--org O [--egress-proxy URL|none]: show, set or remove the organization's egress proxy"},
    {NULL, NULL, 0, NULL},
};

static const action *find_action(const char *name)
{
    for (const action *a = actions; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

bool bl_cmd_endpoints_knows(const char *name)
{
    return find_action(name) != NULL;
}

void bl_cmd_endpoints_usage(FILE *out)
{
    for (const action *a = actions; a->name; a++) {
        if (strlen(a->name) > 10) /* a long name gets its own line */
            fprintf(out, "  %s\n  %-10s  %s\n", a->name, "", a->help);
        else
            fprintf(out, "  %-10s  %s\n", a->name, a->help);
    }
}

/* Takes the repeatable --header 'Name: value' flags out of argv (the config
 * keeps one value per flag) into c->header_flags. Returns the new argc, or
 * -1 with err. */
static int take_header_flags(cli *c, int argc, char **argv, bl_err *err)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "--header") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strncmp(argv[i], "--header=", 9) == 0)
            value = argv[i] + 9;
        else if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
            break;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        const char *colon = strchr(value, ':');
        if (!colon || colon == value)
            return bl_err_set(err, BL_EINVAL, "--header: expected 'Name: value'");
        if (!c->header_flags && !(c->header_flags = json_object()))
            return bl_err_set(err, BL_ENOMEM, "out of memory");
        char name[BL_WEBHOOK_HEADER_NAME_MAX + 1];
        size_t len = (size_t)(colon - value);
        if (len > BL_WEBHOOK_HEADER_NAME_MAX)
            return bl_err_set(err, BL_EINVAL, "--header: name longer than %d",
                              BL_WEBHOOK_HEADER_NAME_MAX);
        memcpy(name, value, len);
        name[len] = '\0';
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        json_object_set_new(c->header_flags, name, json_string(v));
    }
    return out;
}

/* Opens what the action needs: pool, keyring, events, store. */
static int open_cli(cli *c, int needs, bl_err *err)
{
    if (needs & NEEDS_KEYS) {
        if (!getenv(BL_KEYRING_ENV_KEYS) || !getenv(BL_KEYRING_ENV_KEYS)[0])
            return bl_err_set(err, BL_EINVAL,
                              BL_KEYRING_ENV_KEYS " is not set: it holds the keys that encrypt "
                              "webhook secrets (keyid:base64 of 32 bytes)");
        if (!(c->keyring = bl_keyring_from_env(err)))
            return -1;
    }
    if (bl_ssrf_allowlist_parse(bl_config_str(c->cfg, "allow"), &c->allow, err) != 0)
        return bl_err_wrap(err, "BUSLINE_WEBHOOK_ALLOW");
    if (!(c->pool = bl_pg_pool_new(bl_config_str(c->cfg, "pg_url"), 1, err)))
        return -1;
    if ((needs & NEEDS_EVENTS) && !(c->events = bl_webhook_events_new(c->pool, NULL, NULL, err)))
        return -1;
    bl_webhook_store_opts o = {.pool = c->pool, .keyring = c->keyring, .allow = &c->allow,
                               .events = c->events};
    c->store = bl_webhook_store_new(&o, err);
    return c->store ? 0 : -1;
}

static void close_cli(cli *c)
{
    bl_webhook_store_free(c->store);
    bl_webhook_events_free(c->events);
    bl_pg_pool_free(c->pool);
    bl_keyring_free(c->keyring);
    json_decref(c->header_flags);
    bl_config_free(c->cfg);
}

int bl_cmd_endpoints(const char *name, int argc, char **argv)
{
    const action *a = find_action(name);
    if (!a)
        return 2;
    cli c = {0};
    bl_err err = {0};
    int code = 2, nargs = 0;
    argc = take_header_flags(&c, argc, argv, &err);
    if (argc < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        goto done;
    }
    if (!(c.cfg = bl_config_new())) {
        code = 1;
        goto done;
    }
    int rc = bl_config_add(c.cfg, bl_endpoint_settings, &err);
    if (rc == 0)
        rc = bl_config_add(c.cfg, bl_cmd_replay_settings, &err);
    if (rc == 0)
        rc = bl_config_load(c.cfg, argc, argv, &err);
    if (rc == BL_CONFIG_HELP) {
        code = 0;
        goto done;
    }
    char *const *args = rc == 0 ? bl_config_args(c.cfg, &nargs) : NULL;
    int want = (a->needs & NEEDS_ID) ? 1 : 0;
    if (rc != 0 || nargs != want) {
        fprintf(stderr, "%s: %s\n", argv[0],
                rc != 0 ? err.msg : want ? "expected one endpoint id" : "unexpected argument");
        goto done;
    }
    c.id = want ? args[0] : NULL;
    /* choosing a signature scheme may draw an ed25519 pair, sealed with the keyring */
    int needs = a->needs | (a->fn == act_update && bl_cli_setting_given(c.cfg, "signature_scheme") ? NEEDS_KEYS : 0);
    /* so is a TLS client key */
    if (a->fn == act_update && bl_cli_tls_given(c.cfg))
        needs |= NEEDS_KEYS;
    if (open_cli(&c, needs, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        code = 1;
        goto done;
    }
    code = a->fn(&c);
done:
    close_cli(&c);
    return code;
}
