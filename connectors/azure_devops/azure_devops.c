/* The Azure DevOps connector (REST 7.1): creates and updates work items.
 *
 * Endpoints: POST {base}/{organization}/{project}/_apis/wit/workitems/${type}
 * and PATCH .../_apis/wit/workitems/{id}, both ?api-version=7.1 with a JSON
 * Patch array as application/json-patch+json; POST .../_apis/wit/wiql to
 * find a work item by tag. Auth: a personal access token as HTTP Basic with
 * an empty user name (credential "pat"). Errors come as {"message",
 * "typeKey", "errorCode", ...}; an unauthenticated call may get a 203 with a
 * sign-in page instead of a 401.
 *
 * Settings: {"organization": "contoso", "project": "Ops",
 *            "work_item_type": "Task", "tags": "busline; pmo",
 *            "area_path": "Ops\\Team", "base_url": "https://dev.azure.com"}
 * Template fields: title (create), description (HTML), assigned_to (a user's
 * e-mail or display name), tags ("a; b"), state (System.State, on update),
 * work_item_type (overrides the setting).
 *
 * One work item per (integration, aggregate): its id is linked under
 * "workitem/<subject>" and it carries the tag "busline-<subject>"; before
 * creating, the link and then a WIQL query on the tag are asked, so a crash
 * between the create and the link does not make a second work item. */
#include "connectors/azure_devops/azure_devops.h"

#include "connectors/saas_common.h"
#include "connectors/vendor_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADO_NAME "azure_devops"
#define ADO_URL_MAX 2048
#define ADO_PATCH_TYPE "application/json-patch+json"

typedef struct ado {
    const bl_connector_host *host;
    char base_url[512];
    char organization[128], project[256], work_item_type[128];
    char tags[512], area_path[256];
    char org_enc[400], project_enc[800];
} ado;

static const char *const ado_actions[] = {"create_work_item", "update_work_item", NULL};

static const bl_connector_field ado_fields[] = {
    {"title", BL_CONNECTOR_ESCAPE_PLAIN, 1, "create_work_item"},
    {"description", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"assigned_to", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"tags", BL_CONNECTOR_ESCAPE_PLAIN, 0, NULL},
    {"work_item_type", BL_CONNECTOR_ESCAPE_PLAIN, 0, "create_work_item"},
    {"title", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_work_item"},
    {"state", BL_CONNECTOR_ESCAPE_PLAIN, 0, "update_work_item"},
    {NULL, 0, 0, NULL},
};

static int ado_init(const char *settings_json, const bl_connector_host *host, void **instance, char *err,
                    size_t err_len)
{
    json_error_t jerr;
    json_t *s = json_loads(settings_json, 0, &jerr);
    ado *a = calloc(1, sizeof *a);
    if (!a || !json_is_object(s)) {
        snprintf(err, err_len, ADO_NAME ": settings: %s", a ? jerr.text : "out of memory");
        goto fail;
    }
    a->host = host;
    if (bl_saas_base_url(s, ADO_NAME, "https://dev.azure.com", a->base_url, sizeof a->base_url, err, err_len) != 0 ||
        bl_saas_setting_str(s, ADO_NAME, "organization", NULL, a->organization, sizeof a->organization, err,
                            err_len) != 0 ||
        bl_saas_setting_str(s, ADO_NAME, "project", NULL, a->project, sizeof a->project, err, err_len) != 0 ||
        bl_saas_setting_str(s, ADO_NAME, "work_item_type", "Task", a->work_item_type, sizeof a->work_item_type, err,
                            err_len) != 0 ||
        bl_saas_setting_str(s, ADO_NAME, "tags", "", a->tags, sizeof a->tags, err, err_len) != 0 ||
        bl_saas_setting_str(s, ADO_NAME, "area_path", "", a->area_path, sizeof a->area_path, err, err_len) != 0)
        goto fail;
    if (bl_vendor_url_encode(a->organization, a->org_enc, sizeof a->org_enc) != 0 ||
        bl_vendor_url_encode(a->project, a->project_enc, sizeof a->project_enc) != 0) {
        snprintf(err, err_len, ADO_NAME ": settings: organization or project too long");
        goto fail;
    }
    const char *pat = host->secret(host->ctx, "pat");
    if (!pat || !*pat) {
        snprintf(err, err_len, ADO_NAME ": the credential pat (a personal access token) is required");
        goto fail;
    }
    json_decref(s);
    *instance = a;
    return 0;
fail:
    json_decref(s);
    free(a);
    return -1;
}

static void ado_shutdown(void *instance)
{
    free(instance);
}

/* Azure DevOps' error body {"message": ..., "typeKey": ...}. */
static int ado_error_text(long status, const char *body, size_t len, char *msg, size_t cap)
{
    (void)status;
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "message"));
    const char *k = json_string_value(json_object_get(j, "typeKey"));
    if (m)
        snprintf(msg, cap, "%s%s%s", m, k ? " (" : "", k ? k : "");
    if (m && k)
        strncat(msg, ")", cap - strlen(msg) - 1);
    json_decref(j);
    return -1;
}

/* One call with the PAT; a 203 (the sign-in page) means the PAT was refused. */
static json_t *ado_call(const ado *a, const char *method, const char *url, const json_t *body,
                        const char *content_type, const char *what, bl_connector_result *r)
{
    char auth[1200];
    if (bl_vendor_basic_auth("", a->host->secret(a->host->ctx, "pat"), auth, sizeof auth) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, ADO_NAME ": the PAT is too long");
        return NULL;
    }
    bl_saas_request req = {.method = method, .url = url, .auth = auth, .body = body,
                           .content_type = content_type, .what = what, .error_text = ado_error_text};
    long status;
    json_t *out = bl_saas_call(a->host, &req, &status, r);
    if (status == 203) {
        json_decref(out);
        bl_vendor_result(r, BL_CONNECTOR_AUTH_EXPIRED, "%s: HTTP 203 (sign-in page): the PAT was refused", what);
        return NULL;
    }
    return out;
}

/* "busline-<subject>" with characters tags cannot hold replaced. */
static void aggregate_tag(const char *subject, char *out, size_t cap)
{
    snprintf(out, cap, "busline-%s", subject);
    for (char *p = out; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.' && *p != ':')
            *p = '-';
}

/* The work item of ev's aggregate: the link, then a WIQL query on its tag.
 * Returns 1 with id filled, 0 when none, -1 with r filled. */
static int find_work_item(const ado *a, const bl_connector_event *ev, char *id, size_t cap, bl_connector_result *r)
{
    int got = bl_saas_link_get(a->host, "workitem", ev->subject, id, cap, r);
    if (got != 0)
        return got;
    char tag[300], query[800], url[ADO_URL_MAX];
    aggregate_tag(ev->subject, tag, sizeof tag);
    snprintf(query, sizeof query,
             "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS "
             "'%s' ORDER BY [System.Id]",
             tag);
    snprintf(url, sizeof url, "%s/%s/%s/_apis/wit/wiql?api-version=7.1", a->base_url, a->org_enc, a->project_enc);
    json_t *body = json_pack("{s:s}", "query", query);
    json_t *found = ado_call(a, "POST", url, body, NULL, ADO_NAME " wiql", r);
    json_decref(body);
    if (!found)
        return -1;
    const json_t *first = json_array_get(json_object_get(found, "workItems"), 0);
    int rc = 0;
    if (json_is_integer(json_object_get(first, "id"))) {
        snprintf(id, cap, "%lld", (long long)json_integer_value(json_object_get(first, "id")));
        rc = bl_saas_link_put(a->host, "workitem", ev->subject, id, r) == 0 ? 1 : -1;
    }
    json_decref(found);
    return rc;
}

static void add_op(json_t *ops, const char *field, const char *value)
{
    if (value && *value) {
        char path[128];
        snprintf(path, sizeof path, "/fields/%s", field);
        json_array_append_new(ops, json_pack("{s:s, s:s, s:n, s:s}", "op", "add", "path", path, "from", "value",
                                             value));
    }
}

/* The tags: the integration's, the template's and the aggregate tag. */
static void work_item_tags(const ado *a, const bl_connector_event *ev, char *out, size_t cap)
{
    char tag[300];
    aggregate_tag(ev->subject, tag, sizeof tag);
    const char *extra = bl_saas_field(ev, "tags");
    snprintf(out, cap, "%s%s%s%s%s", a->tags, a->tags[0] ? "; " : "", extra ? extra : "", extra ? "; " : "", tag);
}

/* The JSON Patch document of the template's fields. */
static json_t *patch_document(const ado *a, const bl_connector_event *ev, int create)
{
    char tags[1600];
    work_item_tags(a, ev, tags, sizeof tags);
    json_t *ops = json_array();
    add_op(ops, "System.Title", bl_saas_field(ev, "title"));
    add_op(ops, "System.Description", bl_saas_field(ev, "description"));
    add_op(ops, "System.AssignedTo", bl_saas_field(ev, "assigned_to"));
    add_op(ops, "System.Tags", tags);
    if (create)
        add_op(ops, "System.AreaPath", a->area_path);
    else
        add_op(ops, "System.State", bl_saas_field(ev, "state"));
    return ops;
}

static void store_created(const ado *a, const bl_connector_event *ev, const json_t *item, const char *verb,
                          bl_connector_result *r)
{
    const json_t *id = json_object_get(item, "id");
    if (!json_is_integer(id)) {
        bl_vendor_result(r, BL_CONNECTOR_RETRYABLE, ADO_NAME ": answer without a work item id");
        return;
    }
    snprintf(r->external_id, sizeof r->external_id, "%lld", (long long)json_integer_value(id));
    if (bl_saas_link_put(a->host, "workitem", ev->subject, r->external_id, r) == 0)
        bl_vendor_result(r, BL_CONNECTOR_OK, ADO_NAME ": %s work item %s", verb, r->external_id);
}

static void create_work_item(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const ado *a = instance;
    char id[64];
    int found = find_work_item(a, ev, id, sizeof id, r);
    if (found != 0) {
        if (found == 1) {
            snprintf(r->external_id, sizeof r->external_id, "%s", id);
            bl_vendor_result(r, BL_CONNECTOR_OK, ADO_NAME ": work item %s already exists for %s", id, ev->subject);
        }
        return;
    }
    if (!bl_saas_field(ev, "title")) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, ADO_NAME ": the title rendered empty");
        return;
    }
    const char *type = bl_saas_field(ev, "work_item_type");
    char type_enc[400], url[ADO_URL_MAX];
    if (bl_vendor_url_encode(type ? type : a->work_item_type, type_enc, sizeof type_enc) != 0) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, ADO_NAME ": work item type too long");
        return;
    }
    if (snprintf(url, sizeof url, "%s/%s/%s/_apis/wit/workitems/$%s?api-version=7.1", a->base_url, a->org_enc,
                 a->project_enc, type_enc) >= (int)sizeof url) {
        bl_vendor_result(r, BL_CONNECTOR_PERMANENT, ADO_NAME ": work item URL too long");
        return;
    }
    json_t *ops = patch_document(a, ev, 1);
    json_t *item = ado_call(a, "POST", url, ops, ADO_PATCH_TYPE, ADO_NAME " create work item", r);
    json_decref(ops);
    if (item)
        store_created(a, ev, item, "created", r);
    json_decref(item);
}

static void update_work_item(const void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    const ado *a = instance;
    char id[64], url[ADO_URL_MAX];
    int found = find_work_item(a, ev, id, sizeof id, r);
    if (found <= 0) {
        if (found == 0)
            bl_vendor_result(r, BL_CONNECTOR_OK, ADO_NAME ": no work item for %s; nothing to update", ev->subject);
        return;
    }
    snprintf(url, sizeof url, "%s/%s/%s/_apis/wit/workitems/%s?api-version=7.1", a->base_url, a->org_enc,
             a->project_enc, id);
    json_t *ops = patch_document(a, ev, 0);
    json_t *item = ado_call(a, "PATCH", url, ops, ADO_PATCH_TYPE, ADO_NAME " update work item", r);
    json_decref(ops);
    if (item)
        store_created(a, ev, item, "updated", r);
    json_decref(item);
}

static const bl_saas_action ado_action_table[] = {
    {"create_work_item", create_work_item},
    {"update_work_item", update_work_item},
    {NULL, NULL},
};

static void ado_handle(void *instance, const bl_connector_event *ev, bl_connector_result *r)
{
    bl_saas_dispatch(ADO_NAME, ado_action_table, instance, ev, r);
}

static int ado_health(void *instance, char *err, size_t err_len)
{
    const ado *a = instance;
    char url[ADO_URL_MAX];
    snprintf(url, sizeof url, "%s/%s/_apis/connectionData", a->base_url, a->org_enc);
    bl_connector_result r = {0};
    json_t *me = ado_call(a, "GET", url, NULL, NULL, ADO_NAME " connectionData", &r);
    if (!me) {
        snprintf(err, err_len, "%s", r.message);
        return -1;
    }
    json_decref(me);
    return 0;
}

static const bl_connector_table ado_table = {
    .abi_version = BL_CONNECTOR_ABI_VERSION,
    .struct_size = sizeof(bl_connector_table),
    .name = ADO_NAME,
    .version = "1.0.0",
    .actions = ado_actions,
    .fields = ado_fields,
    .init = ado_init,
    .handle = ado_handle,
    .health = ado_health,
    .shutdown = ado_shutdown,
};

const bl_connector_table *bl_azure_devops_connector(void)
{
    return &ado_table;
}
