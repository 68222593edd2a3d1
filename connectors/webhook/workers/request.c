/* Webhook request headers (see request.h). */
#include "connectors/webhook/workers/request.h"

#include <inttypes.h>
#include <stdio.h>

static void add(bl_webhook_req_headers *h, const char *name, const char *value)
{
    if (h->count == BL_WEBHOOK_REQ_HEADERS_MAX)
        return;
    snprintf(h->buf[h->count], BL_WEBHOOK_REQ_LINE_MAX, "%s: %s", name, value);
    h->lines[h->count] = h->buf[h->count];
    h->count++;
}

int bl_webhook_req_headers_build(const bl_webhook_endpoint *e, const bl_webhook_rotation *keys,
                                 const char *msg_id, const char *body, size_t body_len, int64_t now_s,
                                 bl_webhook_req_headers *out, bl_err *err)
{
    out->count = 0;
    char sig[BL_WEBHOOK_SIG_HEADER_MAX], ts[24];
    if (bl_webhook_msg_id_check(msg_id, err) != 0 ||
        bl_webhook_sign_header(keys, now_s, msg_id, now_s, body, body_len, sig, sizeof sig, err) != 0)
        return -1;
    snprintf(ts, sizeof ts, "%" PRId64, now_s);
    add(out, "Content-Type", "application/json");
    add(out, "webhook-id", msg_id);
    add(out, "webhook-timestamp", ts);
    add(out, "webhook-signature", sig);
    if (e->legacy_signature) {
        char legacy[BL_WEBHOOK_LEGACY_SIG_MAX];
        if (bl_webhook_sign_legacy(keys->current->key, keys->current->len, body, body_len, legacy,
                                   sizeof legacy, err) != 0)
            return -1;
        add(out, "X-Signature", legacy);
    }
    if (e->hmac_header) {
        /* Receivers of this header key their HMAC with the string they were shown. */
        char mac[BL_WEBHOOK_LEGACY_SIG_MAX];
        if (bl_webhook_sign_text_keyed(keys->current, body, body_len, mac, sizeof mac, err) != 0)
            return -1;
        add(out, e->hmac_header, mac);
    }
    const char *name;
    json_t *value;
    json_object_foreach(e->headers, name, value) {
        if (json_is_string(value))
            add(out, name, json_string_value(value));
    }
    return 0;
}
