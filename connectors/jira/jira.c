/* The Jira Cloud connector (REST v3): create an issue for an event, and on
 * resolution comment on it and move it to a done status.
 *
 * Endpoints: POST /rest/api/3/issue, GET /rest/api/3/search/jql,
 * POST /rest/api/3/issue/{key}/comment, GET and POST
 * /rest/api/3/issue/{key}/transitions. Auth: basic (email + API token) or
 * an OAuth 2.0 bearer token from the host (base_url then being
 * https://api.atlassian.com/ex/jira/{cloudid}).
 *
 * One issue per (integration, aggregate): the issue key is kept in the
 * integration's state under "issue/<subject>", and the issue carries the
 * label "busline-<subject>"; before creating, the state and then a JQL
 * search on that label are asked, so a crash between the create and the
 * store does not make a second issue. (Jira's search index may lag a
 * freshly created issue by seconds; the retry backoff covers most of it.) */
#include "connectors/jira/jira.h"

#include "connectors/jira/adf.h"
#include "connectors/saas_common.h"
#include "connectors/vendor_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JIRA_URL_MAX 2048
#define JIRA_KEY_MAX 64
#define JIRA_LABEL_MAX 255

typedef struct jira {
    const bl_connector_host *host;
    char base_url[512];
    char project_key[64];
    char issue_type[64];
    char resolve_transition[64];
    json_t *labels; /* extra labels of every issue */
    int oauth;
} jira;

static const char *const jira_actions[] = {"create_issue", "resolve", NULL};

static const bl_connector_field jira_fields[] = {
    {"summary", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_issue"},
    {"description", BL_CONNECTOR_ESCAPE_ADF, 0, "create_issue"},
    {"priority", BL_CONNECTOR_ESCAPE_PLAIN, 0, "create_issue"},
    {"labels", BL_CONNECTOR_ESCAPE_PLAIN, 0, "create_issue"},
    {"comment", BL_CONNECTOR_ESCAPE_ADF, 1, "resolve"},
    {NULL, 0, 0, NULL},
};

static int settings_str(const json_t *s, const char *name, const char *def, char *out, size_t cap, char *err,
                        size_t err_len)
{
    const json_t *v = json_object_get(s, name);
    const char *text = v ? json_string_value(v) : def;
    if (!text || !*text || strlen(text) >= cap) {
        snprintf(err, err_len, "jira: settings.%s: a non-empty string under %zu bytes is required", name, cap);
        return -1;
    }
    snprintf(out, cap, "%s", text);
    return 0;
}

static int jira_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                     size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    jira *j = calloc(1, sizeof *j);
    if (!j || !json_is_object(s)) {
        snprintf(err, err_len, "jira: settings: %s", j ? jerr.text : "out of memory");
        goto fail;
    }
    j->host = host;
    if (settings_str(s, "base_url", NULL, j->base_url, sizeof j->base_url, err, err_len) != 0 ||
        settings_str(s, "project_key", NULL, j->project_key, sizeof j->project_key, err, err_len) != 0 ||
        settings_str(s, "issue_type", "Task", j->issue_type, sizeof j->issue_type, err, err_len) != 0 ||
        settings_str(s, "resolve_transition", "Done", j->resolve_transition, sizeof j->resolve_transition, err,
                     err_len) != 0)
        goto fail;
    size_t bl = strlen(j->base_url);
    while (bl > 0 && j->base_url[bl - 1] == '/')
        j->base_url[--bl] = '\0';
    if (strncmp(j->base_url, "https://", 8) != 0 && strncmp(j->base_url, "http://", 7) != 0) {
        snprintf(err, err_len, "jira: settings.base_url: an http(s) URL is required");
        goto fail;
    }
    const char *auth = json_string_value(json_object_get(s, "auth"));
    j->oauth = auth && strcmp(auth, "oauth") == 0;
    if (auth && !j->oauth && strcmp(auth, "basic") != 0) {
        snprintf(err, err_len, "jira: settings.auth: \"basic\" or \"oauth\"");
        goto fail;
    }
    if (!j->oauth && (!host->secret(host->ctx, "email") || !host->secret(host->ctx, "api_token"))) {
        snprintf(err, err_len, "jira: basic auth needs the credentials email and api_token");
        goto fail;
    }
    j->labels = json_array();
    const json_t *labels = json_object_get(s, "labels");
    size_t i;
    const json_t *l;
    json_array_foreach(labels, i, l) {
        if (!json_is_string(l) || strchr(json_string_value(l), ' ')) {
            snprintf(err, err_len, "jira: settings.labels[%zu]: a label without spaces is required", i);
            goto fail;
        }
        json_array_append(j->labels, (json_t *)l);
    }
    json_decref(s);
    *instance = j;
    return 0;
fail:
    json_decref(s);
    if (j)
        json_decref(j->labels);
    free(j);
    return -1;
}

static void jira_shutdown(void *instance)
{
    jira *j = instance;
    if (!j)
        return;
    json_decref(j->labels);
    free(j);
}

/* The Authorization header line into out; -1 when none can be made. */
static int auth_header(const jira *j, char *out, size_t cap, bl_connector_result *r)
{
    if (j->oauth) {
        char token[4096];
        if (j->host->auth_token(j->host->ctx, token, sizeof token) != 0 ||
            snprintf(out, cap, "Authorization: Bearer %s", token) >= (int)cap)
            return bl_vendor_result(r, BL_CONNECTOR_AUTH_EXPIRED, "jira: no OAuth token"), -1;
        return 0;
    }
    if (bl_vendor_basic_auth(j->host->secret(j->host->ctx, "email"), j->host->secret(j->host->ctx, "api_token"),
                             out, cap) != 0)
        return bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "jira: credentials too long"), -1;
    return 0;
}

/* Jira's error body {"errorMessages":[...],"errors":{"field":"msg"}} as
 * one line into out. */
static const char *jira_error_text(const bl_connector_http_response *resp, char *out, size_t cap)
{
    json_t *body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        return NULL;
    }
    size_t o = 0;
    out[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(body, "errorMessages"), i, v)
        if (json_is_string(v) && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "; " : "", json_string_value(v));
    const char *k;
    json_object_foreach(json_object_get(body, "errors"), k, v)
        if (json_is_string(v) && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "%s%s: %s", o ? "; " : "", k, json_string_value(v));
    json_decref(body);
    return o ? out : NULL;
}

/* One JSON call with auth; on success returns the parsed body (or json
 * null for an empty 204), else NULL with r filled. */
static json_t *jira_call(const jira *j, const char *method, const char *url, const json_t *body, const char *what,
                         bl_connector_result *r)
{
    char auth[4200];
    if (auth_header(j, auth, sizeof auth, r) != 0)
        return NULL;
    const char *headers[] = {auth};
    bl_connector_http_response resp;
    int rc = bl_vendor_json_call(j->host, method, url, headers, 1, body, &resp);
    char msg[400];
    const char *vendor = rc == 0 ? jira_error_text(&resp, msg, sizeof msg) : NULL;
    json_t *out = NULL;
    if (bl_vendor_classify(rc, &resp, what, vendor, j->host->now_ms(j->host->ctx), r)) {
        out = resp.body_len ? json_loadb(resp.body, resp.body_len, 0, NULL) : json_null();
        if (!out)
            bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "%s: HTTP %ld with a body that is not JSON", what,
                             resp.status);
    }
    j->host->http_release(j->host->ctx, &resp);
    return out;
}

/* POSTs body (a new reference, consumed) whose answer is not needed.
 * Returns 0, or -1 with r filled. */
static int jira_post(const jira *j, const char *url, json_t *body, const char *what, bl_connector_result *r)
{
    json_t *answer = body ? jira_call(j, "POST", url, body, what, r) : NULL;
    if (!body)
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "%s: cannot build the body (not UTF-8?)", what);
    json_decref(body);
    json_decref(answer);
    return answer ? 0 : -1;
}

/* "busline-<subject>" with characters Jira labels refuse replaced. */
static void aggregate_label(const char *subject, char *out, size_t cap)
{
    snprintf(out, cap, "busline-%s", subject);
    for (char *p = out; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.' && *p != ':')
            *p = '-';
}

/* Finds the issue of ev's aggregate: state first, then the label search.
 * Returns 1 with key filled, 0 when there is none, -1 with r filled. */
static int find_issue(const jira *j, const bl_connector_event *ev, char *key, size_t cap, bl_connector_result *r)
{
    char state_key[600];
    snprintf(state_key, sizeof state_key, "issue/%s", ev->subject);
    int got = j->host->state_get(j->host->ctx, state_key, key, cap);
    if (got < 0)
        return bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira: state store unavailable"), -1;
    if (got == 1)
        return 1;
    char label[JIRA_LABEL_MAX + 1], jql[600], enc[1800], url[JIRA_URL_MAX];
    aggregate_label(ev->subject, label, sizeof label);
    snprintf(jql, sizeof jql, "project = \"%s\" AND labels = \"%s\"", j->project_key, label);
    if (bl_vendor_url_encode(jql, enc, sizeof enc) != 0)
        return bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "jira: search query too long"), -1;
    if (snprintf(url, sizeof url, "%s/rest/api/3/search/jql?jql=%s&fields=key&maxResults=1", j->base_url, enc) >=
        (int)sizeof url)
        return bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "jira: search URL too long"), -1;
    json_t *found = jira_call(j, "GET", url, NULL, "jira search", r);
    if (!found)
        return -1;
    const char *k = json_string_value(json_object_get(json_array_get(json_object_get(found, "issues"), 0), "key"));
    int rc = 0;
    if (k && strlen(k) < cap) {
        snprintf(key, cap, "%s", k);
        rc = 1;
        if (j->host->state_put(j->host->ctx, state_key, key) != 0) {
            bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira: state store unavailable");
            rc = -1;
        }
    }
    json_decref(found);
    return rc;
}

static const char *priority_name(const char *value)
{
    static const struct {
        const char *severity, *priority;
    } map[] = {{"CRITICAL", "Highest"}, {"HIGH", "High"}, {"MEDIUM", "Medium"}, {"LOW", "Low"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(value, map[i].severity) == 0)
            return map[i].priority;
    return value;
}

/* The issue's labels: the integration's, the template's (comma or space
 * separated) and the aggregate label. */
static json_t *issue_labels(const jira *j, const bl_connector_event *ev)
{
    json_t *labels = json_deep_copy(j->labels);
    const char *extra = bl_connector_event_field(ev, "labels");
    if (extra) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", extra);
        for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            json_array_append_new(labels, json_string(t));
    }
    char label[JIRA_LABEL_MAX + 1];
    aggregate_label(ev->subject, label, sizeof label);
    json_array_append_new(labels, json_string(label));
    return labels;
}

static void create_issue(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const jira *j = instance;
    char key[JIRA_KEY_MAX];
    int found = find_issue(j, ev, key, sizeof key, r);
    if (found < 0)
        return;
    if (found == 1) {
        snprintf(r->external_id, sizeof r->external_id, "%s", key);
        bl_vendor_result(r, BL_CONNECTOR_OK, "jira: issue %s already exists for %s", key, ev->subject);
        return;
    }
    const char *summary = bl_connector_event_field(ev, "summary");
    if (!summary || !*summary) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "jira: the summary rendered empty");
        return;
    }
    json_t *event = json_loadb(ev->json, ev->json_len, 0, NULL);
    const char *prio = bl_connector_event_field(ev, "priority");
    if (!prio || !*prio)
        prio = json_string_value(json_object_get(json_object_get(event, "data"), "severity"));
    const char *desc = bl_connector_event_field(ev, "description");
    json_t *fields = json_pack("{s:{s:s}, s:{s:s}, s:s, s:o}", "project", "key", j->project_key, "issuetype",
                               "name", j->issue_type, "summary", summary, "labels", issue_labels(j, ev));
    if (desc && *desc)
        json_object_set_new(fields, "description", bl_adf_from_text(desc));
    if (prio && *prio)
        json_object_set_new(fields, "priority", json_pack("{s:s}", "name", priority_name(prio)));
    json_decref(event);
    json_t *body = json_pack("{s:o}", "fields", fields);
    char url[JIRA_URL_MAX];
    snprintf(url, sizeof url, "%s/rest/api/3/issue", j->base_url);
    json_t *created = jira_call(j, "POST", url, body, "jira create issue", r);
    json_decref(body);
    if (!created)
        return;
    const char *k = json_string_value(json_object_get(created, "key"));
    if (!k || strlen(k) >= sizeof key) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira create issue: answer without an issue key");
    } else {
        snprintf(r->external_id, sizeof r->external_id, "%s", k);
        char state_key[600];
        snprintf(state_key, sizeof state_key, "issue/%s", ev->subject);
        if (j->host->state_put(j->host->ctx, state_key, k) != 0)
            bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira: created %s but could not store it", k);
        else
            bl_vendor_result(r, BL_CONNECTOR_OK, "jira: created %s", k);
    }
    json_decref(created);
}

/* The id of the transition named like the setting (or leading to a status
 * of that name), into id; else r filled with what is available. */
static int find_transition(const jira *j, const char *key, char *id, size_t cap, bl_connector_result *r)
{
    char url[JIRA_URL_MAX];
    snprintf(url, sizeof url, "%s/rest/api/3/issue/%s/transitions", j->base_url, key);
    json_t *list = jira_call(j, "GET", url, NULL, "jira transitions", r);
    if (!list)
        return -1;
    char names[300] = "";
    size_t i, o = 0;
    json_t *t;
    int rc = -1;
    json_array_foreach(json_object_get(list, "transitions"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *to = json_string_value(json_object_get(json_object_get(t, "to"), "name"));
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (tid && ((name && strcasecmp(name, j->resolve_transition) == 0) ||
                    (to && strcasecmp(to, j->resolve_transition) == 0))) {
            snprintf(id, cap, "%s", tid);
            rc = 0;
            break;
        }
        if (name && o < sizeof names)
            o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", o ? ", " : "", name);
    }
    if (rc != 0)
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, "jira: issue %s has no transition \"%s\" (available: %s)", key,
                         j->resolve_transition, names);
    json_decref(list);
    return rc;
}

static void resolve_issue(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const jira *j = instance;
    char key[JIRA_KEY_MAX];
    int found = find_issue(j, ev, key, sizeof key, r);
    if (found <= 0) {
        if (found == 0)
            bl_vendor_result(r, BL_CONNECTOR_OK, "jira: no issue for %s; nothing to resolve", ev->subject);
        return;
    }
    snprintf(r->external_id, sizeof r->external_id, "%s", key);
    char state_key[600], url[JIRA_URL_MAX], seen[16];
    snprintf(state_key, sizeof state_key, "commented/%s", ev->id);
    int commented = j->host->state_get(j->host->ctx, state_key, seen, sizeof seen);
    if (commented < 0) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira: state store unavailable");
        return;
    }
    if (commented == 0) {
        snprintf(url, sizeof url, "%s/rest/api/3/issue/%s/comment", j->base_url, key);
        if (jira_post(j, url, json_pack("{s:o}", "body", bl_adf_from_text(bl_connector_event_field(ev, "comment"))),
                      "jira comment", r) != 0)
            return;
        if (j->host->state_put(j->host->ctx, state_key, "1") != 0) {
            bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, "jira: state store unavailable");
            return;
        }
    }
    char tid[32];
    if (find_transition(j, key, tid, sizeof tid, r) != 0)
        return;
    snprintf(url, sizeof url, "%s/rest/api/3/issue/%s/transitions", j->base_url, key);
    if (jira_post(j, url, json_pack("{s:{s:s}}", "transition", "id", tid), "jira transition", r) != 0)
        return;
    bl_vendor_result(r, BL_CONNECTOR_OK, "jira: commented on and resolved %s", key);
}

static const bl_saas_action jira_action_table[] = {
    {"create_issue", create_issue},
    {"resolve", resolve_issue},
    {NULL, NULL},
};

static void jira_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    bl_saas_dispatch("jira", jira_action_table, instance, ev, r);
}

static int jira_health(void *instance, char *err, size_t err_len)
{
    const jira *j = instance;
    char url[JIRA_URL_MAX];
    snprintf(url, sizeof url, "%s/rest/api/3/myself", j->base_url);
    bl_connector_result r = {0};
    json_t *me = jira_call(j, "GET", url, NULL, "jira myself", &r);
    if (!me) {
        snprintf(err, err_len, "%s", r.message);
        return -1;
    }
    json_decref(me);
    return 0;
}

static const bl_connector_table jira_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = "jira",
    .version = "1.0.0",
    .actions = jira_actions,
    .fields = jira_fields,
    .init = jira_init,
    .handle = jira_handle,
    .health = jira_health,
    .shutdown = jira_shutdown,
};

const bl_connector_table *bl_jira_connector(void)
{
    return &jira_table;
}
