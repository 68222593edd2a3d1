/* libFuzzer target for what a webhook receiver (busline webhooks verify,
 * the console's checker) parses: a secret's text and the three Standard
 * Webhooks headers.
 *   part 1   the secret text ("whsec_..." or a chosen secret; "whsk_..." /
 *            "whpk_..." an ed25519 key, checking v1a)
 *   part 2   webhook-id
 *   part 3   webhook-timestamp, then a space, then webhook-signature
 *   the rest the body
 * Besides sanitizer reports, it aborts when a body signed with an accepted
 * secret does not verify, or a fuzzed header verifies for a body it was not
 * made for. Built and run by tests/fuzz/run.sh. */
#include "connectors/webhook/policy/signature.h"
#include "connectors/webhook/policy/signature_v1a.h"
#include "support/fuzz_input.h"

#include <stdio.h>
#include <string.h>

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parts p;
    if (fuzz_parts_split(data, size, 4, &p) != 0)
        return 0;
    bl_err err = {0};
    bl_webhook_secret secret;
    bl_webhook_ed25519_key ed;
    const char *id = p.part[1], *body = p.part[3];
    char *space = strchr(p.part[2], ' ');
    const char *timestamp = p.part[2], *header = space ? space + 1 : NULL;
    if (space)
        *space = '\0';
    if (bl_webhook_ed25519_parse(p.part[0], &ed, &err) == 0) {
        (void)bl_webhook_verify_v1a(&ed, id, timestamp, header, body, p.len[3], NOW, 300, &err);
        char sig[BL_WEBHOOK_SIG_V1A_MAX], ts[24];
        if (ed.has_private && bl_webhook_msg_id_check(id, &err) == 0 &&
            bl_webhook_sign_v1a(&ed, id, NOW, body, p.len[3], sig, sizeof sig, &err) == 0) {
            snprintf(ts, sizeof ts, "%d", NOW);
            if (bl_webhook_verify_v1a(&ed, id, ts, sig, body, p.len[3], NOW, 300, &err) != BL_WEBHOOK_VERIFY_OK)
                fuzz_finding("a v1a-signed body does not verify", err.msg);
            if (p.len[3] > 0 &&
                bl_webhook_verify_v1a(&ed, id, ts, sig, body, p.len[3] - 1, NOW, 300, &err) == BL_WEBHOOK_VERIFY_OK)
                fuzz_finding("a v1a signature verifies for a body it was not made for", NULL);
        }
        bl_webhook_ed25519_wipe(&ed);
    }
    if (bl_webhook_secret_from_text(p.part[0], &secret, &err) == 0) {
        /* what the receiver was sent */
        (void)bl_webhook_verify_v1(&secret, id, timestamp, header, body, p.len[3], NOW, 300, &err);
        (void)bl_webhook_verify_legacy(&secret, header, body, p.len[3], &err);
        /* what busline sends verifies */
        char sig[BL_WEBHOOK_SIG_MAX], ts[24];
        if (bl_webhook_msg_id_check(id, &err) == 0 &&
            bl_webhook_sign_v1(secret.key, secret.len, id, NOW, body, p.len[3], sig, sizeof sig, &err) == 0) {
            snprintf(ts, sizeof ts, "%d", NOW);
            if (bl_webhook_verify_v1(&secret, id, ts, sig, body, p.len[3], NOW, 300, &err) != BL_WEBHOOK_VERIFY_OK)
                fuzz_finding("a signed body does not verify", err.msg);
            /* the same signature over the body less its last byte must not */
            if (p.len[3] > 0 &&
                bl_webhook_verify_v1(&secret, id, ts, sig, body, p.len[3] - 1, NOW, 300, &err) == BL_WEBHOOK_VERIFY_OK)
                fuzz_finding("a signature verifies for a body it was not made for", NULL);
        }
        bl_webhook_secret_wipe(&secret);
    }
    fuzz_parts_free(&p);
    return 0;
}
