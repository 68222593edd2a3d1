/* Provider URLs, form encoding and token requests (see oauth_internal.h). */
#include "connectors/oauth/oauth_internal.h"

#include "core/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_BODY_MAX 8192

size_t oauth_provider_index(const bl_oauth_provider *p)
{
    for (size_t i = 0; bl_oauth_provider_at(i); i++)
        if (bl_oauth_provider_at(i) == p)
            return i;
    return 0;
}

static bool safe_segment(const char *v)
{
    if (!v || !*v || strlen(v) > 128)
        return false;
    for (; *v; v++)
        if (!isalnum((unsigned char)*v) && *v != '.' && *v != '_' && *v != '-')
            return false;
    return true;
}

int oauth_url(const bl_oauth_store *st, const bl_oauth_provider *p, const char *tmpl,
              const json_t *settings, char *out, size_t cap, bl_err *err)
{
    static const char *const names[] = {"tenant", "cloud_id", "organization", "account_id"};
    char filled[BL_OAUTH_URL_MAX];
    size_t n = 0;
    for (const char *c = tmpl; *c;) {
        if (*c == '{') {
            const char *end = strchr(c, '}');
            if (!end)
                return bl_err_set(err, BL_EINVAL, "oauth: bad URL template");
            size_t len = (size_t)(end - c - 1);
            const char *value = NULL;
            for (size_t i = 0; i < 4; i++)
                if (strlen(names[i]) == len && strncmp(c + 1, names[i], len) == 0)
                    value = json_string_value(json_object_get(settings, names[i]));
            if (!value && len == 6 && strncmp(c + 1, "tenant", 6) == 0)
                value = "common";
            if (!safe_segment(value))
                return bl_err_set(err, BL_EINVAL, "oauth: settings.%.*s is required (letters, digits, . _ -)",
                                  (int)len, c + 1);
            size_t vl = strlen(value);
            if (n + vl >= sizeof filled)
                return bl_err_set(err, BL_EINVAL, "oauth: URL too long");
            memcpy(filled + n, value, vl);
            n += vl;
            c = end + 1;
        } else {
            if (n + 1 >= sizeof filled)
                return bl_err_set(err, BL_EINVAL, "oauth: URL too long");
            filled[n++] = *c++;
        }
    }
    filled[n] = '\0';
    const char *base = st->cfg.apps[oauth_provider_index(p)].base_url;
    const char *path = filled;
    if (base[0]) { /* keep the path: "https://host/path" -> base + "/path" */
        const char *host = strstr(filled, "://");
        path = host ? strchr(host + 3, '/') : NULL;
        if (!path)
            path = "";
    }
    int w = snprintf(out, cap, "%s%s", base[0] ? base : "", path);
    if (w < 0 || (size_t)w >= cap)
        return bl_err_set(err, BL_EINVAL, "oauth: URL too long");
    return 0;
}

int oauth_form_add(char *buf, size_t cap, const char *key, const char *value)
{
    size_t n = strlen(buf);
    const char *parts[] = {key, value};
    if (n && n + 1 < cap)
        buf[n++] = '&';
    for (int k = 0; k < 2; k++) {
        for (const unsigned char *c = (const unsigned char *)parts[k]; *c; c++) {
            if (n + 4 >= cap)
                return -1;
            if (isalnum(*c) || *c == '-' || *c == '.' || *c == '_' || *c == '~')
                buf[n++] = (char)*c;
            else
                n += (size_t)snprintf(buf + n, cap - n, "%%%02X", *c);
        }
        if (k == 0)
            buf[n++] = '=';
    }
    buf[n] = '\0';
    return 0;
}

void oauth_tokens_clear(oauth_tokens *t)
{
    if (!t)
        return;
    char *secrets[] = {t->access_token, t->refresh_token};
    for (int i = 0; i < 2; i++)
        if (secrets[i]) {
            memset(secrets[i], 0, strlen(secrets[i]));
            free(secrets[i]);
        }
    free(t->scope);
    free(t->account);
    memset(t, 0, sizeof *t);
}

int oauth_classify(const bl_oauth_provider *p, const bl_http_sync_result *r, int transport_rc)
{
    if (transport_rc != 0 || r->status >= 500 || r->status == 0)
        return BL_OAUTH_E_CONNECTION;
    const char *body = r->body ? r->body : "";
    if (r->status == 401)
        return BL_OAUTH_E_CREDENTIALS;
    if (r->status == 429)
        return strcasestr(body, "quota") || strcasestr(body, "daily") ? BL_OAUTH_E_QUOTA : BL_OAUTH_E_RATE;
    if (r->status == 403)
        return strcasestr(body, "quota") ? BL_OAUTH_E_QUOTA : BL_OAUTH_E_PERMISSION;
    if (r->status >= 400)
        return BL_OAUTH_E_OAUTH;
    if (p->ok_field && r->body) {
        json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
        int code = 0;
        if (j && json_is_false(json_object_get(j, "ok"))) {
            const char *e = json_string_value(json_object_get(j, "error"));
            e = e ? e : "";
            code = strcmp(e, "ratelimited") == 0        ? BL_OAUTH_E_RATE
                   : strcmp(e, "missing_scope") == 0    ? BL_OAUTH_E_PERMISSION
                   : strstr(e, "token") || strstr(e, "auth") ? BL_OAUTH_E_CREDENTIALS
                                                             : BL_OAUTH_E_OAUTH;
        }
        json_decref(j);
        return code;
    }
    return 0;
}

static char *dup_string(const json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

/* The granted scopes: a string or (some vendors) an array. */
static char *scope_text(const json_t *v)
{
    if (!json_is_array(v))
        return dup_string(v);
    char buf[2048] = "";
    size_t i;
    json_t *item;
    json_array_foreach (v, i, item)
        if (json_is_string(item) && strlen(buf) + json_string_length(item) + 2 < sizeof buf) {
            if (buf[0])
                strcat(buf, " ");
            strcat(buf, json_string_value(item));
        }
    return strdup(buf);
}

static int build_body(const bl_oauth_provider *p, const bl_oauth_app *app, const char *const *params,
                      char *body, size_t cap, bl_err *err)
{
    body[0] = '\0';
    if (p->json_token_body) {
        json_t *o = json_object();
        for (size_t i = 0; o && params[i]; i += 2)
            json_object_set_new(o, params[i], json_string(params[i + 1]));
        if (o && !p->basic_client_auth) {
            json_object_set_new(o, "client_id", json_string(app->client_id));
            json_object_set_new(o, "client_secret", json_string(app->client_secret));
        }
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        int ok = text && strlen(text) < cap;
        if (ok)
            strcpy(body, text);
        free(text);
        return ok ? 0 : bl_err_set(err, BL_EINVAL, "oauth: token request too large");
    }
    int bad = 0;
    for (size_t i = 0; params[i]; i += 2)
        bad |= oauth_form_add(body, cap, params[i], params[i + 1]);
    if (!p->basic_client_auth) {
        bad |= oauth_form_add(body, cap, "client_id", app->client_id);
        bad |= oauth_form_add(body, cap, "client_secret", app->client_secret);
    }
    return bad ? bl_err_set(err, BL_EINVAL, "oauth: token request too large") : 0;
}

int oauth_token_request(bl_oauth_store *st, const bl_oauth_provider *p, const char *url,
                        const char *const *params, const char *org_id, const char *integration_id,
                        const char *operation, int refused_code, oauth_tokens *out, bl_err *err)
{
    const bl_oauth_app *app = &st->cfg.apps[oauth_provider_index(p)];
    memset(out, 0, sizeof *out);
    char body[TOKEN_BODY_MAX], basic[BL_OAUTH_TEXT_MAX * 3], pair[BL_OAUTH_TEXT_MAX * 2 + 2];
    if (!app->client_id[0])
        return bl_err_set(err, BL_OAUTH_E_PROVIDER, "oauth: no OAuth app is configured for %s", p->name);
    if (build_body(p, app, params, body, sizeof body, err) != 0)
        return -1;
    const char *headers[3];
    size_t nh = 0;
    headers[nh++] = p->json_token_body ? "Content-Type: application/json"
                                       : "Content-Type: application/x-www-form-urlencoded";
    headers[nh++] = "Accept: application/json";
    if (p->basic_client_auth) {
        snprintf(pair, sizeof pair, "%s:%s", app->client_id, app->client_secret);
        memcpy(basic, "Authorization: Basic ", 21);
        if (bl_base64_encode(pair, strlen(pair), basic + 21, sizeof basic - 21, err) != 0)
            return -1;
        headers[nh++] = basic;
    }
    bl_http_call call = {.method = "POST", .url = url, .headers = headers, .header_count = nh,
                         .body = body, .body_len = strlen(body), .timeout_ms = st->cfg.timeout_ms};
    bl_http_client_config hc = {.body_cap = 64 * 1024};
    bl_http_sync_result r = {0};
    bl_err terr = {0};
    int rc = bl_http_request_sync(&call, &hc, &r, &terr);
    memset(body, 0, sizeof body);
    memset(basic, 0, sizeof basic);
    memset(pair, 0, sizeof pair);
    int code = oauth_classify(p, &r, rc);
    json_t *j = rc == 0 && r.body ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
    if (code == 0 && !json_is_string(json_object_get(j, "access_token")))
        code = BL_OAUTH_E_OAUTH;
    if (code != 0) {
        const char *e = json_string_value(json_object_get(j, "error"));
        const char *d = json_string_value(json_object_get(j, "error_description"));
        if (rc != 0)
            bl_err_set(err, BL_OAUTH_E_CONNECTION, "oauth: %s token endpoint unreachable: %s", p->name,
                       terr.msg);
        else if (code == BL_OAUTH_E_CONNECTION)
            bl_err_set(err, code, "oauth: %s token endpoint answered %ld", p->name, r.status);
        else
            bl_err_set(err, code == BL_OAUTH_E_RATE ? code : refused_code, "oauth: %s refused the %s: %s%s%s",
                       p->name, operation, e ? e : "no access_token in the answer", d ? ": " : "", d ? d : "");
    } else {
        out->access_token = dup_string(json_object_get(j, "access_token"));
        out->refresh_token = dup_string(json_object_get(j, "refresh_token"));
        out->scope = scope_text(json_object_get(j, "scope"));
        json_t *team = json_object_get(json_object_get(j, "team"), "name"); /* Slack */
        out->account = dup_string(team);
        json_t *exp = json_object_get(j, "expires_in");
        out->expires_in = json_is_integer(exp) ? (long)json_integer_value(exp)
                          : json_is_string(exp) ? atol(json_string_value(exp)) : 0;
        if (!out->access_token) {
            code = BL_OAUTH_E_OAUTH;
            bl_err_set(err, BL_ENOMEM, "oauth: out of memory");
        }
    }
    oauth_calls_record(st, org_id, integration_id, p->name, operation, code == 0, r.status, r.duration_us,
                       code);
    if (r.body)
        memset(r.body, 0, r.body_len);
    json_decref(j);
    bl_http_sync_result_clear(&r);
    if (code != 0)
        oauth_tokens_clear(out);
    return code == 0 ? 0 : -1;
}
