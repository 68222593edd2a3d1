/* busline webhooks sink (see cmd_sink.h). */
#include "connectors/webhook/cli/cmd_sink.h"

#include "connectors/webhook/policy/signature.h"
#include "core/http_server.h"
#include "core/role.h"
#include "core/signals.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const bl_setting sink_settings[] = {
    {.name = "port", .flag = "port", .type = BL_SETTING_INT, .def = "9099", .min = 1, .max = 65535,
     .help = "port to listen on (127.0.0.1)"},
    {.name = "secret", .env = "BUSLINE_WEBHOOK_SECRET", .flag = "secret", .type = BL_SETTING_STRING,
     .secret = true,
     .help = "the endpoint's secret (whsec_..., or the text a SmartLeakPro webhook was given): verify each "
             "request's signature"},
    {.name = "hmac_header", .flag = "hmac-header", .type = BL_SETTING_STRING,
     .help = "also verify this header's sha256=<hex> keyed with the secret's text (X-Webhook-Signature, "
             "X-Powalyze-Signature)"},
    {.name = "status", .flag = "status", .type = BL_SETTING_INT, .def = "200", .min = 100, .max = 599,
     .help = "status to answer with"},
    {0},
};

typedef struct sink {
    bl_webhook_secret secret;
    int have_secret;
    const char *hmac_header; /* borrowed from the config; NULL: none checked */
    int status;
    pthread_mutex_t out_lock;
} sink;

static int handle(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    sink *s = ctx;
    size_t len = 0;
    const char *body = bl_http_request_body(req, &len);
    const char *id = bl_http_request_header(req, "webhook-id");
    const char *ts = bl_http_request_header(req, "webhook-timestamp");
    const char *sig = bl_http_request_header(req, "webhook-signature");
    const char *legacy = bl_http_request_header(req, "x-signature");
    const char *hmac = s->hmac_header ? bl_http_request_header(req, s->hmac_header) : NULL;
    char verdict[320] = "not checked (no --secret)";
    char hmac_verdict[160] = "";
    if (s->have_secret && s->hmac_header) {
        bl_err err = {0};
        bl_webhook_verdict v = bl_webhook_verify_text_keyed(&s->secret, s->hmac_header, hmac, body, len, &err);
        snprintf(hmac_verdict, sizeof hmac_verdict, ", %s %s", s->hmac_header,
                 v == BL_WEBHOOK_VERIFY_OK ? "valid" : v == BL_WEBHOOK_VERIFY_MISSING_HEADER ? "MISSING" : "INVALID");
    }
    if (s->have_secret) {
        bl_err err = {0};
        bl_webhook_verdict v = bl_webhook_verify_v1(&s->secret, id, ts, sig, body, len, (int64_t)time(NULL),
                                                    BL_WEBHOOK_TOLERANCE_DEFAULT_S, &err);
        snprintf(verdict, sizeof verdict, "%s%s%s%s", v == BL_WEBHOOK_VERIFY_OK ? "valid" : "INVALID: ",
                 v == BL_WEBHOOK_VERIFY_OK ? "" : bl_webhook_verdict_name(v),
                 legacy ? (bl_webhook_verify_legacy(&s->secret, legacy, body, len, NULL) == BL_WEBHOOK_VERIFY_OK
                               ? ", X-Signature valid" : ", X-Signature INVALID")
                        : "",
                 hmac_verdict);
    }
    json_t *line = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s%}", "method",
                             bl_http_request_method(req), "path", bl_http_request_path(req), "webhook-id", id,
                             "webhook-timestamp", ts, "webhook-signature", sig, "x-signature", legacy,
                             "hmac-header", hmac, "signature", verdict, "body", body ? body : "", len);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    pthread_mutex_lock(&s->out_lock);
    printf("%s\n", text ? text : "{\"error\":\"cannot print the request\"}");
    fflush(stdout);
    pthread_mutex_unlock(&s->out_lock);
    free(text);
    json_decref(line);
    bl_http_response_status(resp, s->status);
    return 0;
}

int bl_cmd_webhooks_sink(int argc, char **argv)
{
    int code = 0;
    bl_config *cfg = bl_role_start("webhook-sink", sink_settings, argc, argv, &code);
    if (!cfg)
        return code;
    bl_err err = {0};
    sink s = {.status = (int)bl_config_int(cfg, "status")};
    pthread_mutex_init(&s.out_lock, NULL);
    bl_http_server *srv = NULL;
    code = 1;
    const char *secret = bl_config_str(cfg, "secret");
    if (secret && bl_webhook_secret_from_text(secret, &s.secret, &err) != 0) {
        code = 2;
        goto done;
    }
    s.have_secret = secret != NULL;
    const char *hmac_header = bl_config_str(cfg, "hmac_header");
    s.hmac_header = hmac_header && *hmac_header ? hmac_header : NULL;
    bl_http_server_config hc = {.port = (unsigned short)bl_config_int(cfg, "port")};
    static const char *const paths[] = {"/", "/:a", "/:a/:b", "/:a/:b/:c"};
    if (!(srv = bl_http_server_new(&hc, &err)))
        goto done;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (bl_http_server_route(srv, "POST", paths[i], handle, &s, &err) != 0)
            goto done;
    if (bl_http_server_start(srv, &err) != 0)
        goto done;
    fprintf(stderr, "webhook sink listening on http://127.0.0.1:%u/\n", bl_http_server_port(srv));
    while (!bl_signals_stop_requested())
        usleep(100 * 1000);
    code = 0;
done:
    if (code != 0)
        fprintf(stderr, "busline webhooks sink: %s\n", err.msg);
    bl_http_server_free(srv);
    bl_webhook_secret_wipe(&s.secret);
    pthread_mutex_destroy(&s.out_lock);
    bl_config_free(cfg);
    return code;
}
