#include "tests/support/fake_jira.h"

#include "core/http_server.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fake_jira {
    bl_http_server *server;
    char url[64];
    char project[64];
    char basic[512]; /* expected "Basic <b64>" */
    char bearer[256];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    json_t *issues; /* array */
    int rate_limit, retry_after_s;
    int hold, held, release_gen, stopping;
    int rejected;
    char problem[256];
};

static const char *const priorities[] = {"Highest", "High", "Medium", "Low", "Lowest", NULL};

const char *fake_jira_adf_problem(const json_t *doc)
{
    if (!json_is_object(doc) || !json_is_string(json_object_get(doc, "type")) ||
        strcmp(json_string_value(json_object_get(doc, "type")), "doc") != 0)
        return "ADF: the root node must be {\"type\":\"doc\"}";
    if (json_integer_value(json_object_get(doc, "version")) != 1)
        return "ADF: version must be 1";
    const json_t *content = json_object_get(doc, "content");
    if (!json_is_array(content))
        return "ADF: doc.content must be an array";
    size_t i, k;
    json_t *block, *inl;
    json_array_foreach(content, i, block) {
        const char *t = json_string_value(json_object_get(block, "type"));
        if (!t || strcmp(t, "paragraph") != 0)
            return "ADF: only paragraph blocks are expected at the top level";
        const json_t *ic = json_object_get(block, "content");
        if (ic && !json_is_array(ic))
            return "ADF: paragraph.content must be an array";
        json_array_foreach(ic, k, inl) {
            const char *it = json_string_value(json_object_get(inl, "type"));
            if (!it)
                return "ADF: inline node without type";
            if (strcmp(it, "text") == 0) {
                const char *text = json_string_value(json_object_get(inl, "text"));
                if (!text || !*text)
                    return "ADF: text nodes must have non-empty text";
            } else if (strcmp(it, "hardBreak") != 0) {
                return "ADF: unexpected inline node";
            }
        }
    }
    return NULL;
}

/* Records a refusal and answers with Jira's error body. */
static int refuse(fake_jira *f, bl_http_response *resp, int status, const char *field, const char *msg)
{
    pthread_mutex_lock(&f->lock);
    f->rejected++;
    snprintf(f->problem, sizeof f->problem, "%s%s%s", field ? field : "", field ? ": " : "", msg);
    pthread_mutex_unlock(&f->lock);
    json_t *body = field ? json_pack("{s:[], s:{s:s}}", "errorMessages", "errors", field, msg)
                         : json_pack("{s:[s], s:{}}", "errorMessages", msg, "errors");
    int rc = bl_http_response_json(resp, status, body);
    json_decref(body);
    return rc;
}

/* Common checks: rate limit, auth, JSON content type on bodies. Returns 1
 * when the request may go on. */
static int gate(fake_jira *f, const bl_http_request *req, bl_http_response *resp, int *rc)
{
    pthread_mutex_lock(&f->lock);
    int limited = f->rate_limit > 0;
    if (limited)
        f->rate_limit--;
    int retry = f->retry_after_s;
    char bearer[300];
    snprintf(bearer, sizeof bearer, "Bearer %s", f->bearer);
    int bearer_ok = f->bearer[0] != '\0';
    pthread_mutex_unlock(&f->lock);
    if (limited) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry);
        bl_http_response_header(resp, "Retry-After", v);
        json_t *body = json_pack("{s:[s], s:{}}", "errorMessages", "Rate limit exceeded.", "errors");
        *rc = bl_http_response_json(resp, 429, body);
        json_decref(body);
        return 0;
    }
    const char *auth = bl_http_request_header(req, "Authorization");
    if (!auth || !(strcmp(auth, f->basic) == 0 || (bearer_ok && strcmp(auth, bearer) == 0))) {
        pthread_mutex_lock(&f->lock);
        f->rejected++;
        snprintf(f->problem, sizeof f->problem, "authentication failed");
        pthread_mutex_unlock(&f->lock);
        bl_http_response_header(resp, "WWW-Authenticate", "Basic realm=\"protected-area\"");
        json_t *body = json_pack("{s:[s], s:{}}", "errorMessages",
                                 "You are not authenticated. Authentication required to perform this operation.",
                                 "errors");
        *rc = bl_http_response_json(resp, 401, body);
        json_decref(body);
        return 0;
    }
    if (strcmp(bl_http_request_method(req), "POST") == 0) {
        const char *ct = bl_http_request_header(req, "Content-Type");
        if (!ct || strncmp(ct, "application/json", 16) != 0) {
            *rc = refuse(f, resp, 415, NULL, "Unsupported Media Type: application/json is required");
            return 0;
        }
    }
    return 1;
}

static json_t *find_issue(fake_jira *f, const char *key)
{
    size_t i;
    json_t *issue;
    json_array_foreach(f->issues, i, issue)
        if (strcmp(json_string_value(json_object_get(issue, "key")), key) == 0)
            return issue;
    return NULL;
}

static int on_create(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    json_t *body = bl_http_request_json(req, NULL);
    json_t *fields = json_object_get(body, "fields");
    const char *problem = NULL, *field = NULL;
    const json_t *project = json_object_get(fields, "project");
    const char *summary = json_string_value(json_object_get(fields, "summary"));
    const json_t *labels = json_object_get(fields, "labels");
    const json_t *prio = json_object_get(fields, "priority");
    const json_t *desc = json_object_get(fields, "description");
    if (!json_is_object(fields))
        field = "fields", problem = "fields is required";
    else if (!json_is_object(project) || !json_is_string(json_object_get(project, "key")) ||
             strcmp(json_string_value(json_object_get(project, "key")), f->project) != 0)
        field = "project", problem = "valid project is required";
    else if (!json_is_string(json_object_get(json_object_get(fields, "issuetype"), "name")))
        field = "issuetype", problem = "Specify an issue type";
    else if (!summary || !*summary)
        field = "summary", problem = "You must specify a summary of the issue.";
    else if (strlen(summary) > 255)
        field = "summary", problem = "Summary must be less than 255 characters.";
    else if (strstr(summary, "REJECT-ME"))
        field = "customfield_10010", problem = "Team is required.";
    else if (desc && (problem = fake_jira_adf_problem(desc)))
        field = "description";
    else if (labels && !json_is_array(labels))
        field = "labels", problem = "labels must be an array";
    if (!problem && prio) {
        const char *name = json_string_value(json_object_get(prio, "name"));
        int ok = 0;
        for (size_t i = 0; name && priorities[i]; i++)
            ok |= strcmp(name, priorities[i]) == 0;
        if (!ok)
            field = "priority", problem = "Specify the Priority (id or name) in the string format";
    }
    size_t i;
    json_t *l;
    json_array_foreach(labels, i, l)
        if (!problem && (!json_is_string(l) || strchr(json_string_value(l), ' ')))
            field = "labels", problem = "The label must not contain spaces.";
    if (problem) {
        json_decref(body);
        return refuse(f, resp, 400, field, problem);
    }
    pthread_mutex_lock(&f->lock);
    size_t n = json_array_size(f->issues) + 1;
    char key[80], id[32], self[160];
    snprintf(key, sizeof key, "%s-%zu", f->project, n);
    snprintf(id, sizeof id, "%zu", 10000 + n);
    snprintf(self, sizeof self, "%s/rest/api/3/issue/%s", f->url, id);
    json_array_append_new(f->issues, json_pack("{s:s, s:s, s:O, s:s, s:[]}", "key", key, "id", id, "fields", fields,
                                               "status", "To Do", "comments"));
    if (f->hold) {
        f->held++;
        int gen = f->release_gen;
        while (gen == f->release_gen && !f->stopping)
            pthread_cond_wait(&f->cond, &f->lock);
        f->held--;
    }
    pthread_mutex_unlock(&f->lock);
    json_decref(body);
    json_t *out = json_pack("{s:s, s:s, s:s}", "id", id, "key", key, "self", self);
    rc = bl_http_response_json(resp, 201, out);
    json_decref(out);
    return rc;
}

static int on_search(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    const char *jql = bl_http_request_query(req, "jql");
    if (!jql)
        return refuse(f, resp, 400, NULL, "The JQL query is required.");
    /* Understands: project = "X" AND labels = "Y" */
    const char *lp = strstr(jql, "labels = \"");
    char label[300] = "";
    if (lp) {
        lp += strlen("labels = \"");
        size_t n = strcspn(lp, "\"");
        snprintf(label, sizeof label, "%.*s", (int)n, lp);
    }
    json_t *issues = json_array();
    pthread_mutex_lock(&f->lock);
    size_t i, k;
    json_t *issue, *l;
    json_array_foreach(f->issues, i, issue) {
        json_array_foreach(json_object_get(json_object_get(issue, "fields"), "labels"), k, l)
            if (label[0] && strcmp(json_string_value(l), label) == 0) {
                json_array_append_new(issues, json_pack("{s:O, s:O, s:{}}", "id", json_object_get(issue, "id"),
                                                        "key", json_object_get(issue, "key"), "fields"));
                break;
            }
    }
    pthread_mutex_unlock(&f->lock);
    json_t *out = json_pack("{s:o, s:b}", "issues", issues, "isLast", 1);
    rc = bl_http_response_json(resp, 200, out);
    json_decref(out);
    return rc;
}

static int issue_missing(fake_jira *f, bl_http_response *resp)
{
    json_t *body = json_pack("{s:[s], s:{}}", "errorMessages",
                             "Issue does not exist or you do not have permission to see it.", "errors");
    int rc = bl_http_response_json(resp, 404, body);
    json_decref(body);
    (void)f;
    return rc;
}

static int on_comment(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    json_t *body = bl_http_request_json(req, NULL);
    const json_t *doc = json_object_get(body, "body");
    const char *problem = doc ? fake_jira_adf_problem(doc) : "Comment body can not be empty!";
    if (problem) {
        json_decref(body);
        return refuse(f, resp, 400, "comment", problem);
    }
    pthread_mutex_lock(&f->lock);
    json_t *issue = find_issue(f, bl_http_request_param(req, "key"));
    if (issue)
        json_array_append(json_object_get(issue, "comments"), (json_t *)doc);
    size_t n = issue ? json_array_size(json_object_get(issue, "comments")) : 0;
    pthread_mutex_unlock(&f->lock);
    json_decref(body);
    if (!issue)
        return issue_missing(f, resp);
    json_t *out = json_pack("{s:s, s:s}", "id", n ? "10100" : "0", "created", "2026-11-25T09:00:00.000+0000");
    rc = bl_http_response_json(resp, 201, out);
    json_decref(out);
    return rc;
}

static int on_transitions_get(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    pthread_mutex_lock(&f->lock);
    int found = find_issue(f, bl_http_request_param(req, "key")) != NULL;
    pthread_mutex_unlock(&f->lock);
    if (!found)
        return issue_missing(f, resp);
    json_t *out = json_pack(
        "{s:s, s:[{s:s, s:s, s:{s:s, s:{s:s}}}, {s:s, s:s, s:{s:s, s:{s:s}}}, {s:s, s:s, s:{s:s, s:{s:s}}}]}",
        "expand", "transitions", "transitions", "id", "11", "name", "To Do", "to", "name", "To Do",
        "statusCategory", "key", "new", "id", "21", "name", "In Progress", "to", "name", "In Progress",
        "statusCategory", "key", "indeterminate", "id", "31", "name", "Done", "to", "name", "Done",
        "statusCategory", "key", "done");
    rc = bl_http_response_json(resp, 200, out);
    json_decref(out);
    return rc;
}

static int on_transitions_post(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    json_t *body = bl_http_request_json(req, NULL);
    const char *id = json_string_value(json_object_get(json_object_get(body, "transition"), "id"));
    const char *to = !id ? NULL : strcmp(id, "11") == 0 ? "To Do" : strcmp(id, "21") == 0 ? "In Progress"
                                                    : strcmp(id, "31") == 0 ? "Done" : NULL;
    json_decref(body);
    if (!to)
        return refuse(f, resp, 400, "transition", "Transition id is not valid for this issue.");
    pthread_mutex_lock(&f->lock);
    json_t *issue = find_issue(f, bl_http_request_param(req, "key"));
    if (issue)
        json_object_set_new(issue, "status", json_string(to));
    pthread_mutex_unlock(&f->lock);
    if (!issue)
        return issue_missing(f, resp);
    bl_http_response_status(resp, 204);
    return 0;
}

static int on_myself(const bl_http_request *req, bl_http_response *resp, void *ctx)
{
    fake_jira *f = ctx;
    int rc = 0;
    if (!gate(f, req, resp, &rc))
        return rc;
    json_t *out = json_pack("{s:s, s:b}", "accountId", "5b10a2844c20165700ede21g", "active", 1);
    rc = bl_http_response_json(resp, 200, out);
    json_decref(out);
    return rc;
}

fake_jira *fake_jira_start(const char *project, const char *email, const char *api_token, const char *bearer)
{
    fake_jira *f = calloc(1, sizeof *f);
    bl_err err = {0};
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->issues = json_array();
    snprintf(f->project, sizeof f->project, "%s", project);
    snprintf(f->bearer, sizeof f->bearer, "%s", bearer ? bearer : "");
    char plain[300];
    int n = snprintf(plain, sizeof plain, "%s:%s", email, api_token);
    strcpy(f->basic, "Basic ");
    EVP_EncodeBlock((unsigned char *)f->basic + 6, (const unsigned char *)plain, n);
    bl_http_server_config cfg = {.drain_timeout_ms = 1000};
    f->server = bl_http_server_new(&cfg, &err);
    if (!f->server || bl_http_server_route(f->server, "POST", "/rest/api/3/issue", on_create, f, &err) != 0 ||
        bl_http_server_route(f->server, "GET", "/rest/api/3/search/jql", on_search, f, &err) != 0 ||
        bl_http_server_route(f->server, "POST", "/rest/api/3/issue/:key/comment", on_comment, f, &err) != 0 ||
        bl_http_server_route(f->server, "GET", "/rest/api/3/issue/:key/transitions", on_transitions_get, f, &err) !=
            0 ||
        bl_http_server_route(f->server, "POST", "/rest/api/3/issue/:key/transitions", on_transitions_post, f,
                             &err) != 0 ||
        bl_http_server_route(f->server, "GET", "/rest/api/3/myself", on_myself, f, &err) != 0 ||
        bl_http_server_start(f->server, &err) != 0) {
        fprintf(stderr, "fake jira: %s\n", err.msg);
        fake_jira_stop(f);
        return NULL;
    }
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", bl_http_server_port(f->server));
    return f;
}

void fake_jira_stop(fake_jira *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    bl_http_server_free(f->server);
    json_decref(f->issues);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

const char *fake_jira_url(const fake_jira *f)
{
    return f->url;
}

void fake_jira_rate_limit(fake_jira *f, int n, int retry_after_s)
{
    pthread_mutex_lock(&f->lock);
    f->rate_limit = n;
    f->retry_after_s = retry_after_s;
    pthread_mutex_unlock(&f->lock);
}

void fake_jira_set_bearer(fake_jira *f, const char *bearer)
{
    pthread_mutex_lock(&f->lock);
    snprintf(f->bearer, sizeof f->bearer, "%s", bearer ? bearer : "");
    pthread_mutex_unlock(&f->lock);
}

void fake_jira_hold_creates(fake_jira *f, int on)
{
    pthread_mutex_lock(&f->lock);
    f->hold = on;
    pthread_mutex_unlock(&f->lock);
}

void fake_jira_release(fake_jira *f)
{
    pthread_mutex_lock(&f->lock);
    f->release_gen++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

int fake_jira_held(fake_jira *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->held;
    pthread_mutex_unlock(&f->lock);
    return n;
}

size_t fake_jira_issue_count(fake_jira *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = json_array_size(f->issues);
    pthread_mutex_unlock(&f->lock);
    return n;
}

json_t *fake_jira_issue(fake_jira *f, size_t i)
{
    pthread_mutex_lock(&f->lock);
    json_t *issue = json_array_get(f->issues, i);
    json_t *copy = issue ? json_deep_copy(issue) : NULL;
    pthread_mutex_unlock(&f->lock);
    return copy;
}

int fake_jira_rejected(fake_jira *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->rejected;
    pthread_mutex_unlock(&f->lock);
    return n;
}

const char *fake_jira_last_problem(fake_jira *f)
{
    return f->problem;
}
