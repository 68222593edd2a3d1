/* Schema registry client: one synchronous HTTP request per call. */
#include "schemas/registry_client.h"

#include "core/http_client.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URL_MAX 2048

struct bl_registry_client {
    char *base;
    long timeout_ms;
};

bl_registry_client *bl_registry_client_new(const char *base_url, long timeout_ms, bl_err *err)
{
    if (!base_url || (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) ||
        strlen(base_url) > URL_MAX / 2) {
        bl_err_set(err, BL_EINVAL, "registry client: %.100s: not an http(s) URL", base_url ? base_url : "");
        return NULL;
    }
    bl_registry_client *c = calloc(1, sizeof *c);
    if (!c || !(c->base = strdup(base_url))) {
        free(c);
        bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
        return NULL;
    }
    size_t len = strlen(c->base);
    while (len > 0 && c->base[len - 1] == '/')
        c->base[--len] = '\0';
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
    return c;
}

void bl_registry_client_free(bl_registry_client *c)
{
    if (!c)
        return;
    free(c->base);
    free(c);
}

/* Appends subject percent-encoded (RFC 3986 unreserved kept) to out. */
static int put_segment(char *out, size_t cap, const char *segment, bl_err *err)
{
    size_t used = strlen(out);
    for (const unsigned char *p = (const unsigned char *)segment; *p; p++) {
        bool plain = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        if (used + 4 >= cap)
            return bl_err_set(err, BL_EINVAL, "registry client: URL too long");
        used += (size_t)snprintf(out + used, cap - used, plain ? "%c" : "%%%02X", *p);
    }
    return 0;
}

/* Builds base + prefix + encoded subject (may be NULL) + suffix into url. */
static int make_url(const bl_registry_client *c, const char *prefix, const char *subject,
                    const char *suffix, char url[URL_MAX], bl_err *err)
{
    int n = snprintf(url, URL_MAX, "%s%s", c->base, prefix);
    if (n < 0 || n >= URL_MAX || (subject && put_segment(url, URL_MAX, subject, err) != 0))
        return bl_err_set(err, BL_EINVAL, "registry client: URL too long");
    size_t used = strlen(url);
    if (used + strlen(suffix) >= URL_MAX)
        return bl_err_set(err, BL_EINVAL, "registry client: URL too long");
    strcpy(url + used, suffix);
    return 0;
}

/* Runs one request; on a 2xx answer returns its parsed JSON body (new
 * reference), else NULL with err: the registry's error_code and message,
 * or the transport failure. body may be NULL (no body). */
static json_t *call_registry(const bl_registry_client *c, const char *method, const char *url,
                             const json_t *body, bl_err *err)
{
    static const char *const headers[] = {"Content-Type: application/vnd.schemaregistry.v1+json",
                                          "Accept: application/vnd.schemaregistry.v1+json"};
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) {
        bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
        return NULL;
    }
    bl_http_call call = {.method = method, .url = url, .headers = headers, .header_count = 2,
                         .body = text, .body_len = text ? strlen(text) : 0, .timeout_ms = c->timeout_ms};
    bl_http_client_config cfg = {.body_cap = BL_REGISTRY_CLIENT_BODY_MAX};
    bl_http_sync_result res = {0};
    json_t *out = NULL;
    if (bl_http_request_sync(&call, &cfg, &res, err) != 0) {
        bl_err_wrap(err, "registry client: %s %s", method, url);
        goto done;
    }
    json_error_t jerr;
    out = json_loadb(res.body ? res.body : "", res.body_len, JSON_DECODE_ANY, &jerr);
    if (res.status >= 200 && res.status < 300 && out && !res.body_truncated)
        goto done;
    if (res.status >= 200 && res.status < 300) {
        bl_err_set(err, BL_EHTTP, "registry client: %s %s: unreadable answer", method, url);
    } else {
        json_t *code = json_object_get(out, "error_code");
        json_t *msg = json_object_get(out, "message");
        bl_err_set(err, json_is_integer(code) ? (int)json_integer_value(code) : BL_EHTTP, "%s",
                   json_is_string(msg) ? json_string_value(msg) : "registry answered an error");
        if (!json_is_integer(code))
            bl_err_wrap(err, "registry client: %s %s: HTTP %ld", method, url, res.status);
    }
    json_decref(out);
    out = NULL;
done:
    bl_http_sync_result_clear(&res);
    free(text);
    return out;
}

/* POSTs {"schema": schema_json, "schemaType": "AVRO"} to url; the registry's
 * answer (caller decrefs), or NULL with err filled. */
static json_t *post_schema(bl_registry_client *c, const char *url, const char *schema_json, bl_err *err)
{
    json_t *body = json_pack("{s:s, s:s}", "schema", schema_json ? schema_json : "", "schemaType", "AVRO");
    if (!body) {
        bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
        return NULL;
    }
    json_t *answer = call_registry(c, "POST", url, body, err);
    json_decref(body);
    return answer;
}

int bl_registry_client_register(bl_registry_client *c, const char *subject, const char *schema_json,
                                int *id, bl_err *err)
{
    char url[URL_MAX];
    if (make_url(c, "/subjects/", subject, "/versions", url, err) != 0)
        return -1;
    json_t *answer = post_schema(c, url, schema_json, err);
    if (!answer)
        return -1;
    json_t *jid = json_object_get(answer, "id");
    int rc = json_is_integer(jid) ? 0 : bl_err_set(err, BL_EHTTP, "registry client: answer without id");
    if (rc == 0)
        *id = (int)json_integer_value(jid);
    json_decref(answer);
    return rc;
}

char *bl_registry_client_schema_by_id(bl_registry_client *c, int id, bl_err *err)
{
    char url[URL_MAX], path[64];
    snprintf(path, sizeof path, "/schemas/ids/%d", id);
    if (make_url(c, path, NULL, "", url, err) != 0)
        return NULL;
    json_t *answer = call_registry(c, "GET", url, NULL, err);
    json_t *schema = json_object_get(answer, "schema");
    char *text = json_is_string(schema) ? strdup(json_string_value(schema)) : NULL;
    if (answer && !text)
        bl_err_set(err, BL_EHTTP, "registry client: schema %d: answer without schema", id);
    json_decref(answer);
    return text;
}

char *bl_registry_client_fetch_schema(void *ctx, int32_t id, bl_err *err)
{
    char *text = bl_registry_client_schema_by_id(ctx, id, err);
    if (!text && err && err->code == BL_REG_SCHEMA_NOT_FOUND)
        err->code = BL_ENOTFOUND;
    return text;
}

static void version_path(int version, char out[32])
{
    if (version == BL_REG_LATEST)
        snprintf(out, 32, "/versions/latest");
    else
        snprintf(out, 32, "/versions/%d", version);
}

int bl_registry_client_get(bl_registry_client *c, const char *subject, int version,
                           bl_registry_version *out, bl_err *err)
{
    char url[URL_MAX], suffix[32];
    version_path(version, suffix);
    memset(out, 0, sizeof *out);
    if (make_url(c, "/subjects/", subject, suffix, url, err) != 0)
        return -1;
    json_t *answer = call_registry(c, "GET", url, NULL, err);
    if (!answer)
        return -1;
    const char *subj = NULL, *schema = NULL;
    int rc = json_unpack(answer, "{s:s, s:i, s:i, s:s}", "subject", &subj, "version", &out->version,
                         "id", &out->id, "schema", &schema);
    if (rc != 0)
        bl_err_set(err, BL_EHTTP, "registry client: %s: unexpected answer", url);
    else if (!(out->subject = strdup(subj)) || !(out->schema = strdup(schema)))
        rc = bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
    json_decref(answer);
    if (rc != 0)
        bl_registry_version_clear(out);
    return rc == 0 ? 0 : -1;
}

/* Copies a JSON array of strings into out. */
static int strings_from_json(const json_t *arr, bl_registry_strings *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    size_t n = json_array_size(arr);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s || !(out->items[i] = strdup(s))) {
            bl_registry_strings_clear(out);
            return bl_err_set(err, BL_EHTTP, "registry client: expected a list of strings");
        }
        out->count = i + 1;
    }
    return 0;
}

int bl_registry_client_check(bl_registry_client *c, const char *subject, int version,
                             const char *schema_json, bool *compatible,
                             bl_registry_strings *messages, bl_err *err)
{
    char url[URL_MAX], suffix[48];
    version_path(version, suffix);
    strcat(suffix, "?verbose=true");
    if (messages)
        memset(messages, 0, sizeof *messages);
    if (make_url(c, "/compatibility/subjects/", subject, suffix, url, err) != 0)
        return -1;
    json_t *answer = post_schema(c, url, schema_json, err);
    if (!answer)
        return -1;
    json_t *ok = json_object_get(answer, "is_compatible");
    int rc = json_is_boolean(ok) ? 0 : bl_err_set(err, BL_EHTTP, "registry client: answer without is_compatible");
    if (rc == 0) {
        *compatible = json_is_true(ok);
        json_t *list = json_object_get(answer, "messages");
        if (messages && json_is_array(list))
            rc = strings_from_json(list, messages, err);
    }
    json_decref(answer);
    return rc;
}

int bl_registry_client_subjects(bl_registry_client *c, bl_registry_strings *out, bl_err *err)
{
    char url[URL_MAX];
    memset(out, 0, sizeof *out);
    if (make_url(c, "/subjects", NULL, "", url, err) != 0)
        return -1;
    json_t *answer = call_registry(c, "GET", url, NULL, err);
    if (!answer)
        return -1;
    int rc = strings_from_json(answer, out, err);
    json_decref(answer);
    return rc;
}

int bl_registry_client_versions(bl_registry_client *c, const char *subject,
                                bl_registry_versions *out, bl_err *err)
{
    char url[URL_MAX];
    memset(out, 0, sizeof *out);
    if (make_url(c, "/subjects/", subject, "/versions", url, err) != 0)
        return -1;
    json_t *answer = call_registry(c, "GET", url, NULL, err);
    if (!answer)
        return -1;
    size_t n = json_array_size(answer);
    out->versions = calloc(n ? n : 1, sizeof *out->versions);
    int rc = out->versions ? 0 : bl_err_set(err, BL_ENOMEM, "registry client: out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *v = json_array_get(answer, i);
        if (!json_is_integer(v))
            rc = bl_err_set(err, BL_EHTTP, "registry client: expected a list of versions");
        else
            out->versions[out->count++] = (int)json_integer_value(v);
    }
    json_decref(answer);
    if (rc != 0)
        bl_registry_versions_clear(out);
    return rc;
}
