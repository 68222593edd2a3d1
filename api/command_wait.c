/* A surface's command with a bounded wait for its outcome (command_wait.h). */
#include "api/command_wait.h"

#include "core/log.h"

#include <stdio.h>
#include <string.h>

/* The reason of a refusal without the "<type>: <id>: " the domain puts first. */
static const char *reason_text(const char *reason, const char *type, const char *subject)
{
    size_t t = strlen(type), s = strlen(subject);
    if (strncmp(reason, type, t) == 0 && strncmp(reason + t, ": ", 2) == 0 &&
        strncmp(reason + t + 2, subject, s) == 0 && strncmp(reason + t + 2 + s, ": ", 2) == 0)
        return reason + t + 2 + s + 2;
    return reason;
}

static int answer_invalid_key(const bl_api_request *req, bl_http_response *resp, const bl_api_wait_answers *a,
                              const char *message)
{
    json_t *errors = NULL;
    a->field_error(&errors, "Idempotency-Key", message);
    return bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", "the request is not valid", errors);
}

static int answer_pending(const bl_api_request *req, bl_http_response *resp, const bl_api_wait_answers *a,
                          const bl_api_sent_command *sent, const char *subject)
{
    char status_url[192];
    snprintf(status_url, sizeof status_url, "%s/commands/%s", bl_api_server_surface_prefix(req->server, a->surface),
             sent->command_id);
    bl_http_response_header(resp, "Location", status_url);
    return a->pending(resp, subject, sent->command_id, status_url);
}

bl_api_wait_result bl_api_command_send_wait(bl_api_commands *commands, const bl_api_request *req,
                                            bl_http_response *resp, const bl_api_wait_answers *a,
                                            const char *type, const char *subject, const json_t *data,
                                            const char *refused_field, char *applied_id, size_t applied_len)
{
    snprintf(applied_id, applied_len, "%s", subject);
    if (!bl_api_commands_can_send(commands))
        return bl_api_fail(req->http, resp, 503, NULL, "commands are not configured on this server", NULL) == 0
                   ? BL_API_WAIT_ANSWERED
                   : BL_API_WAIT_FAILED;
    const char *idem = bl_http_request_header(req->http, "Idempotency-Key");
    if (idem && !bl_api_idempotency_key_ok(idem))
        return answer_invalid_key(req, resp, a, "must be 1 to 255 printable ASCII characters") == 0
                   ? BL_API_WAIT_ANSWERED
                   : BL_API_WAIT_FAILED;
    char hash[BL_SHA256_HEX_SIZE];
    bl_err err = {0};
    bl_api_sent_command sent = {0};
    bl_api_command_outcome outcome = {0};
    int rc = -1;
    bl_api_wait_result result = BL_API_WAIT_ANSWERED;
    if (bl_api_request_fingerprint(req->http, hash, &err) != 0)
        goto done;
    bl_api_command_spec spec = {.type = type, .organization_id = req->auth->org_id,
                                .actor = req->auth->key_id[0] ? req->auth->key_id : req->auth->user_id,
                                .subject = subject, .data = data, .idempotency_key = idem,
                                .fingerprint = hash, .wait = true};
    if (bl_api_command_send(commands, &spec, &sent, &err) != 0) {
        if (err.code == BL_EKAFKA || err.code == BL_ETIMEOUT)
            rc = bl_api_fail(req->http, resp, 503, NULL, "the bus did not acknowledge the command; retry", NULL);
        else if (err.code == BL_EINVAL)
            rc = bl_api_fail(req->http, resp, 422, "VALIDATION_ERROR", err.msg, NULL);
        goto done;
    }
    if (sent.status == BL_API_KEY_MISMATCH) {
        rc = answer_invalid_key(req, resp, a, "was used for a different request");
        goto done;
    }
    if (sent.status == BL_API_KEY_IN_PROGRESS) {
        rc = bl_api_fail(req->http, resp, 409, a->in_progress_code,
                         "a request with this Idempotency-Key is still being processed; retry later", NULL);
        goto done;
    }
    snprintf(applied_id, applied_len, "%s", sent.aggregate_id);
    subject = applied_id;
    if (bl_api_command_await(commands, &sent, req->auth->org_id, &outcome, &err) != 0)
        goto done;
    switch (outcome.kind) {
    case BL_API_OUTCOME_APPLIED:
        result = BL_API_WAIT_APPLIED;
        rc = 0;
        break;
    case BL_API_OUTCOME_PENDING: rc = answer_pending(req, resp, a, &sent, subject); break;
    case BL_API_OUTCOME_REFUSED:
        rc = a->refused(req, resp, type, reason_text(outcome.reason, type, subject), outcome.error_class,
                        refused_field);
        break;
    }
done:
    if (rc != 0 && err.msg[0])
        bl_log_error(a->log_msg, BL_FS("type", type), BL_FS("error", err.msg));
    bl_api_sent_command_clear(commands, &sent);
    return rc == 0 ? result : BL_API_WAIT_FAILED;
}
