/* Standard Webhooks v1a end to end: an endpoint with an ed25519 key pair
 * made by busline gets deliveries (relay, fan-out, delivery worker, real
 * broker) whose v1a signature Python's cryptography verifies with the
 * endpoint's whpk_ public key; rotation keeps the old pair signing during
 * the overlap only; the scheme is chosen per endpoint. */
#include "connectors/webhook/policy/signature_v1a.h"
#include "tests/support/test.h"
#include "tests/support/webhook_e2e.h"
#include "tests/support/webhook_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int got_n(webhook_sink *s, void *user)
{
    return webhook_sink_count(s) >= *(size_t *)user;
}

static void scheme_both(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->signature_scheme = BL_WEBHOOK_SCHEME_BOTH;
}

static void scheme_v1a(bl_webhook_spec *spec, void *user)
{
    (void)user;
    spec->signature_scheme = BL_WEBHOOK_SCHEME_V1A;
}

/* Python's verdict ("ok" / "mismatch") on hit h's v1a entries under public key pk. */
static void python_v1a(const sink_hit *h, const char *pk, const char *body, char *out, size_t len)
{
    char args[1024];
    snprintf(args, sizeof args, "v1a %s %s %s '%s'", pk, h->id, h->timestamp, h->signature);
    wh_python_verify(args, body, out, len);
}

/* Waits until the cache's snapshot of id signs with public key pk. */
static int wait_cache_key(wh_e2e *e, const char *id, const char *pk)
{
    bl_webhook_ed25519_key want;
    bl_err err = {0};
    if (bl_webhook_ed25519_parse(pk, &want, &err) != 0)
        return 0;
    for (int i = 0; i < 500; i++) {
        bl_webhook_snapshot *s = bl_webhook_cache_get(e->cache, id);
        int seen = s && s->ed.set && memcmp(s->ed.public_key, want.public_key, sizeof want.public_key) == 0;
        bl_webhook_snapshot_release(s);
        if (seen)
            return 1;
        usleep(20 * 1000);
    }
    return 0;
}

static int count_entries(const char *header, const char *prefix)
{
    int n = 0;
    for (const char *p = header; p && *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            n++;
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return n;
}

static void v1a_delivery_verifies_with_the_public_key_in_python(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    webhook_sink_url(&sink, "/hooks/v1a", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-v1a", url, "webhook.*", scheme_both, NULL, secret);
    REQUIRE(id != NULL);
    bl_err err = {0};
    bl_webhook_endpoint *ep = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(ep && ep->ed25519_public_key);
    CHECK(strncmp(ep->ed25519_public_key, "whpk_", 5) == 0);
    CHECK(ep->signature_scheme == BL_WEBHOOK_SCHEME_BOTH);
    /* the private key is stored sealed, never as whsk_ text */
    CHECK(strncmp(ep->ed25519_key_sealed, "v1.", 3) == 0);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM webhook_endpoints WHERE id = '%s' AND "
             "ed25519_key_sealed NOT LIKE '%%whsk_%%' AND ed25519_key_sealed <> ed25519_public_key", id);
    CHECK(bl_webhook_test_count(&e.f, sql) == 1);
    /* the API view shows the public key */
    json_t *j = bl_webhook_endpoint_to_json(ep);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "public_key")), ep->ed25519_public_key);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "signature_scheme")), "both");
    json_decref(j);

    CHECK(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    REQUIRE(wh_e2e_append(&e, "org-v1a", "ep-1", 1, "reason-") == 0);
    size_t one = 1;
    REQUIRE(webhook_sink_wait(&sink, got_n, &one, 30000));
    sink_hit h = sink.hits[0];
    CHECK_EQ_INT(count_entries(h.signature, "v1,"), 1);
    CHECK_EQ_INT(count_entries(h.signature, "v1a,"), 1);
    CHECK(strncmp(h.signature, "v1,", 3) == 0);
    char out[256];
    python_v1a(&h, ep->ed25519_public_key, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    /* a tampered body and another key pair do not verify */
    python_v1a(&h, ep->ed25519_public_key, "{\"event\":\"forged\"}", out, sizeof out);
    CHECK_EQ_STR(out, "mismatch");
    bl_webhook_ed25519_key other;
    char other_pk[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX];
    REQUIRE(bl_webhook_ed25519_generate(&other, &err) == 0);
    REQUIRE(bl_webhook_ed25519_public_text(&other, other_pk, sizeof other_pk, &err) == 0);
    python_v1a(&h, other_pk, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "mismatch");
    /* and the v1 entry beside it still verifies with the secret */
    char args[1024];
    snprintf(args, sizeof args, "v1 %s %s %s '%s'", secret, h.id, h.timestamp, h.signature);
    wh_python_verify(args, h.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    bl_webhook_endpoint_free(ep);
    free(id);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

static void rotation_keeps_the_old_key_signing_during_the_overlap_only(void)
{
    webhook_sink sink;
    REQUIRE(webhook_sink_start(&sink, NULL, NULL) == 0);
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char url[128], secret[BL_WEBHOOK_SECRET_TEXT_MAX];
    webhook_sink_url(&sink, "/hooks/rot", url, sizeof url);
    char *id = wh_e2e_endpoint(&e, "org-rot", url, "webhook.*", scheme_v1a, NULL, secret);
    REQUIRE(id != NULL);
    bl_err err = {0};
    bl_webhook_endpoint *ep0 = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(ep0 && ep0->ed25519_public_key);
    CHECK(wh_e2e_wait_cache(&e, 1) == 0);
    REQUIRE(wh_e2e_start(&e, 1) == 0);
    char out[256];

    /* before: one v1a entry, no v1 */
    REQUIRE(wh_e2e_append(&e, "org-rot", "ep-0", 1, "before-") == 0);
    size_t want = 1;
    REQUIRE(webhook_sink_wait(&sink, got_n, &want, 30000));
    sink_hit h0 = sink.hits[0];
    CHECK_EQ_INT(count_entries(h0.signature, "v1a,"), 1);
    CHECK_EQ_INT(count_entries(h0.signature, "v1,"), 0);
    python_v1a(&h0, ep0->ed25519_public_key, h0.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");

    /* rotated with an hour of overlap: the new key and the old one both sign */
    char rotated[BL_WEBHOOK_SECRET_TEXT_MAX];
    REQUIRE(bl_webhook_store_rotate(e.store, id, 3600 * 1000, rotated, sizeof rotated, &err) == 0);
    bl_webhook_endpoint *ep1 = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(ep1 && ep1->ed25519_public_key && ep1->previous_ed25519_public_key);
    CHECK(strcmp(ep1->ed25519_public_key, ep0->ed25519_public_key) != 0);
    CHECK_EQ_STR(ep1->previous_ed25519_public_key, ep0->ed25519_public_key);
    CHECK(ep1->previous_ed25519_expires_ms > (int64_t)time(NULL) * 1000);
    json_t *j = bl_webhook_endpoint_to_json(ep1);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "previous_public_key")), ep0->ed25519_public_key);
    json_decref(j);
    REQUIRE(wait_cache_key(&e, id, ep1->ed25519_public_key));
    REQUIRE(wh_e2e_append(&e, "org-rot", "ep-1", 1, "during-") == 0);
    want = 2;
    REQUIRE(webhook_sink_wait(&sink, got_n, &want, 30000));
    sink_hit h1 = sink.hits[1];
    CHECK(strstr(h1.body, "during-0") != NULL);
    CHECK_EQ_INT(count_entries(h1.signature, "v1a,"), 2);
    python_v1a(&h1, ep1->ed25519_public_key, h1.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    python_v1a(&h1, ep0->ed25519_public_key, h1.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");

    /* rotated without overlap: only the newest key signs */
    REQUIRE(bl_webhook_store_rotate(e.store, id, -1, rotated, sizeof rotated, &err) == 0);
    bl_webhook_endpoint *ep2 = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(ep2 && ep2->ed25519_public_key);
    CHECK(ep2->previous_ed25519_public_key == NULL);
    REQUIRE(wait_cache_key(&e, id, ep2->ed25519_public_key));
    REQUIRE(wh_e2e_append(&e, "org-rot", "ep-2", 1, "after-") == 0);
    want = 3;
    REQUIRE(webhook_sink_wait(&sink, got_n, &want, 30000));
    sink_hit h2 = sink.hits[2];
    CHECK_EQ_INT(count_entries(h2.signature, "v1a,"), 1);
    python_v1a(&h2, ep2->ed25519_public_key, h2.body, out, sizeof out);
    CHECK_EQ_STR(out, "ok");
    python_v1a(&h2, ep1->ed25519_public_key, h2.body, out, sizeof out);
    CHECK_EQ_STR(out, "mismatch");
    bl_webhook_endpoint_free(ep0);
    bl_webhook_endpoint_free(ep1);
    bl_webhook_endpoint_free(ep2);
    free(id);
done:
    wh_e2e_close(&e);
    webhook_sink_stop(&sink);
}

static void scheme_is_chosen_per_endpoint_and_a_key_pair_made_when_needed(void)
{
    wh_e2e e = {0};
    if (wh_e2e_open(&e) != 0) {
        CHECK(0);
        goto done;
    }
    char *id = wh_e2e_endpoint(&e, "org-sch", "http://127.0.0.1:9/x", "webhook.*", NULL, NULL, NULL);
    REQUIRE(id != NULL);
    bl_err err = {0};
    bl_webhook_endpoint *v1 = bl_webhook_store_get(e.store, id, &err);
    REQUIRE(v1);
    CHECK(v1->signature_scheme == BL_WEBHOOK_SCHEME_V1);
    CHECK(v1->ed25519_public_key == NULL);
    /* v1 -> v1a: a pair appears */
    const char *types[BL_WEBHOOK_EVENT_TYPES_MAX];
    bl_webhook_spec spec;
    bl_webhook_spec_from_endpoint(v1, &spec, types);
    spec.signature_scheme = BL_WEBHOOK_SCHEME_V1A;
    bl_webhook_endpoint *v1a = bl_webhook_store_update(e.store, id, &spec, &err);
    REQUIRE(v1a && v1a->ed25519_public_key);
    CHECK(v1a->signature_scheme == BL_WEBHOOK_SCHEME_V1A);
    /* v1a -> v1 -> both: the same pair is kept */
    bl_webhook_spec_from_endpoint(v1a, &spec, types);
    spec.signature_scheme = BL_WEBHOOK_SCHEME_V1;
    bl_webhook_endpoint *back = bl_webhook_store_update(e.store, id, &spec, &err);
    REQUIRE(back);
    bl_webhook_spec_from_endpoint(back, &spec, types);
    spec.signature_scheme = BL_WEBHOOK_SCHEME_BOTH;
    bl_webhook_endpoint *both = bl_webhook_store_update(e.store, id, &spec, &err);
    REQUIRE(both && both->ed25519_public_key);
    CHECK_EQ_STR(both->ed25519_public_key, v1a->ed25519_public_key);
    /* the sealed key opens to the pair of the public key shown */
    bl_webhook_keys k;
    REQUIRE(bl_webhook_endpoint_keys_open(both, e.f.keyring, 0, &k, &err) == 0);
    char pk[BL_WEBHOOK_PUBLIC_KEY_TEXT_MAX];
    REQUIRE(bl_webhook_ed25519_public_text(&k.ed, pk, sizeof pk, &err) == 0);
    CHECK_EQ_STR(pk, both->ed25519_public_key);
    CHECK(k.ed.has_private);
    bl_webhook_keys_wipe(&k);
    /* a sealed key moved onto another endpoint does not open */
    char *id2 = wh_e2e_endpoint(&e, "org-sch", "http://127.0.0.1:9/y", "webhook.*", scheme_v1a, NULL, NULL);
    REQUIRE(id2 != NULL);
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE webhook_endpoints SET ed25519_key_sealed = (SELECT ed25519_key_sealed FROM "
             "webhook_endpoints WHERE id = '%s') WHERE id = '%s'", id, id2);
    PQclear(PQexec(e.f.conn, sql));
    bl_webhook_endpoint *moved = bl_webhook_store_get(e.store, id2, &err);
    REQUIRE(moved);
    CHECK(bl_webhook_endpoint_keys_open(moved, e.f.keyring, 0, &k, &err) == -1);
    CHECK(err.code == BL_ECRYPTO);
    /* an unknown scheme is refused */
    spec.signature_scheme = (bl_webhook_scheme)7;
    CHECK(bl_webhook_store_update(e.store, id, &spec, &err) == NULL);
    CHECK(strstr(err.msg, "signature_scheme") != NULL);
    bl_webhook_endpoint_free(moved);
    bl_webhook_endpoint_free(v1);
    bl_webhook_endpoint_free(v1a);
    bl_webhook_endpoint_free(back);
    bl_webhook_endpoint_free(both);
    free(id);
    free(id2);
done:
    wh_e2e_close(&e);
}

int main(void)
{
    BL_RUN(v1a_delivery_verifies_with_the_public_key_in_python);
    BL_RUN(rotation_keeps_the_old_key_signing_during_the_overlap_only);
    BL_RUN(scheme_is_chosen_per_endpoint_and_a_key_pair_made_when_needed);
    return bl_test_summary();
}
