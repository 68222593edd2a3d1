/* The authentication and headers of a call's config (see call.h). */
#include "connectors/calls/call_internal.h"

#include "core/crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_VALUE_MAX 4096

static bool header_name_ok(const char *n)
{
    if (!*n || strlen(n) > 128)
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
            return false;
    return true;
}

static bool header_value_ok(const char *v)
{
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return false;
    return strlen(v) <= HEADER_VALUE_MAX;
}

static bool reserved_header(const char *n)
{
    static const char *const reserved[] = {"host", "content-length", "transfer-encoding", "connection",
                                           "webhook-id", "webhook-timestamp", "webhook-signature", NULL};
    for (size_t i = 0; reserved[i]; i++)
        if (strcasecmp(n, reserved[i]) == 0)
            return true;
    return false;
}

static int set_auth_header(bl_call *c, const char *fmt, const char *a, const char *b)
{
    char buf[HEADER_VALUE_MAX + 64];
    int n = snprintf(buf, sizeof buf, fmt, a, b);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    c->auth_header = strdup(buf);
    return c->auth_header ? 0 : -1;
}

static int base64_basic(const char *user, const char *pass, char *out, size_t out_len)
{
    char in[1024];
    int n = snprintf(in, sizeof in, "%s:%s", user, pass);
    if (n < 0 || (size_t)n >= sizeof in)
        return -1;
    return bl_base64_encode(in, (size_t)n, out, out_len, NULL);
}

int bl_call_compile_auth(bl_call *c, const json_t *auth, bl_err *err)
{
    bool bad = false;
    if (!auth) {
        if (c->type == BL_CALL_WEBHOOK)
            return bl_err_set(err, BL_EINVAL, "authentication: a webhook needs {\"type\": \"webhook-signature\", \"secret\": ...}");
        return 0;
    }
    if (!json_is_object(auth))
        return bl_err_set(err, BL_EINVAL, "authentication: must be an object");
    const char *type = bl_call_cfg_str(auth, "type", "authentication", true, err, &bad);
    if (bad)
        return -1;
    if (c->type == BL_CALL_BUS && strcmp(type, "none") != 0)
        return bl_err_set(err, BL_EINVAL, "authentication.type: a bus call takes none");
    if (c->type == BL_CALL_WEBHOOK && strcmp(type, "webhook-signature") != 0)
        return bl_err_set(err, BL_EINVAL, "authentication.type: a webhook is signed: webhook-signature");
    if (strcmp(type, "none") == 0) {
        static const char *const f[] = {"type", NULL};
        return bl_call_cfg_only_fields(auth, "authentication", f, err);
    }
    if (strcmp(type, "bearer") == 0) {
        static const char *const f[] = {"type", "token", NULL};
        const char *tok = bl_call_cfg_str(auth, "token", "authentication", true, err, &bad);
        if (bad || bl_call_cfg_only_fields(auth, "authentication", f, err) != 0)
            return -1;
        if (!header_value_ok(tok) || set_auth_header(c, "Authorization: Bearer %s%s", tok, "") != 0)
            return bl_err_set(err, BL_EINVAL, "authentication.token: not a valid header value");
        return 0;
    }
    if (strcmp(type, "api-key") == 0) {
        static const char *const f[] = {"type", "header", "value", NULL};
        const char *h = bl_call_cfg_str(auth, "header", "authentication", true, err, &bad);
        const char *v = bad ? NULL : bl_call_cfg_str(auth, "value", "authentication", true, err, &bad);
        if (bad || bl_call_cfg_only_fields(auth, "authentication", f, err) != 0)
            return -1;
        if (!header_name_ok(h) || reserved_header(h))
            return bl_err_set(err, BL_EINVAL, "authentication.header: not a usable header name");
        if (!header_value_ok(v) || set_auth_header(c, "%s: %s", h, v) != 0)
            return bl_err_set(err, BL_EINVAL, "authentication.value: not a valid header value");
        return 0;
    }
    if (strcmp(type, "basic") == 0) {
        static const char *const f[] = {"type", "username", "password", NULL};
        const char *u = bl_call_cfg_str(auth, "username", "authentication", true, err, &bad);
        const char *p = bad ? NULL : bl_call_cfg_str(auth, "password", "authentication", true, err, &bad);
        if (bad || bl_call_cfg_only_fields(auth, "authentication", f, err) != 0)
            return -1;
        char b64[1400];
        if (strchr(u, ':') || base64_basic(u, p, b64, sizeof b64) != 0)
            return bl_err_set(err, BL_EINVAL, "authentication.username: no ':' and under 1 KiB with the password");
        return set_auth_header(c, "Authorization: Basic %s%s", b64, "") == 0
                   ? 0 : bl_err_set(err, BL_ENOMEM, "authentication: out of memory");
    }
    if (strcmp(type, "webhook-signature") == 0) {
        static const char *const f[] = {"type", "secret", NULL};
        if (c->type != BL_CALL_WEBHOOK)
            return bl_err_set(err, BL_EINVAL, "authentication.type: webhook-signature is for webhook calls");
        const char *s = bl_call_cfg_str(auth, "secret", "authentication", true, err, &bad);
        if (bad || bl_call_cfg_only_fields(auth, "authentication", f, err) != 0)
            return -1;
        if (bl_webhook_secret_from_text(s, &c->secret, err) != 0)
            return bl_err_wrap(err, "authentication.secret");
        c->signs = true;
        return 0;
    }
    return bl_err_set(err, BL_EINVAL, "authentication.type: must be none, bearer, api-key, basic or webhook-signature");
}

int bl_call_compile_headers(bl_call *c, const json_t *h, bl_err *err)
{
    if (!h)
        return 0;
    if (!json_is_object(h))
        return bl_err_set(err, BL_EINVAL, "headers: must be an object of strings");
    if (c->type == BL_CALL_BUS && json_object_size(h) > 0)
        return bl_err_set(err, BL_EINVAL, "headers: a bus call takes none (the envelope carries its metadata)");
    if (json_object_size(h) > BL_CALL_MAX_HEADERS)
        return bl_err_set(err, BL_EINVAL, "headers: at most %d", BL_CALL_MAX_HEADERS);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)h, k, v) {
        if (!header_name_ok(k))
            return bl_err_set(err, BL_EINVAL, "headers.%.64s: not a valid header name", k);
        if (reserved_header(k))
            return bl_err_set(err, BL_EINVAL, "headers.%.64s: set by busline, not configurable", k);
        if (!json_is_string(v) || !header_value_ok(json_string_value(v)))
            return bl_err_set(err, BL_EINVAL, "headers.%.64s: must be a string without control characters", k);
        c->header_names[c->header_count] = strdup(k);
        c->header_values[c->header_count] = strdup(json_string_value(v));
        c->header_count++;
        if (!c->header_names[c->header_count - 1] || !c->header_values[c->header_count - 1])
            return bl_err_set(err, BL_ENOMEM, "headers: out of memory");
    }
    return 0;
}
