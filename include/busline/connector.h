/* The busline connector ABI: how a connector (built in, or a shared object
 * loaded from BUSLINE_CONNECTOR_DIR) turns one bus event into an action in a
 * SaaS tool. Plain C, no busline headers, no busline symbols: everything a
 * plugin needs from the host comes through bl_connector_host.
 *
 * Lifecycle, for one integration (one configured use of a connector: a Jira
 * site and project, a Slack workspace and channel map):
 *   entry   busline_connector_entry() returns a static bl_connector_table;
 *           the host refuses it unless abi_version == BL_CONNECTOR_ABI_VERSION
 *           and struct_size >= what it needs.
 *   init    once per (integration, handler thread): parses the settings,
 *           returns an opaque instance.
 *   handle  per event whose mapping rule matched, with the rule's action
 *           and its rendered fields; blocks until the vendor answered and
 *           classifies the answer (bl_connector_status).
 *   health  optional: a cheap check of settings and credentials.
 *   shutdown frees the instance.
 *
 * Threading: the host creates one instance per handler thread and never
 * calls into one instance from two threads at once, so an instance needs no
 * locks. Different instances of the same table may run at the same time on
 * different threads: keep globals read-only. The host API may be called from
 * the thread running a call into the instance, only during that call.
 *
 * Memory: the host owns everything it passes in (config text, events,
 * fields, the host table): borrowed for the call only, except host, which
 * lives until shutdown returns. The plugin owns its instance and everything
 * it allocates; results are written into the caller's bl_connector_result
 * (fixed buffers, no allocation crosses the boundary). An HTTP response is
 * owned by the host until http_release.
 *
 * Idempotency: the host may deliver an event again (crash, retry). A
 * connector creating things keeps a link (state_put) keyed by aggregate, and
 * when a crash may have hit between creating and storing, asks the vendor
 * first (Jira: a label carrying the event id). */
#ifndef BUSLINE_CONNECTOR_H
#define BUSLINE_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of the structs or functions below. */
#define BL_CONNECTOR_ABI_VERSION 1

/* The symbol every shared-object connector exports. */
#define BL_CONNECTOR_ENTRY_SYMBOL "busline_connector_entry"

#define BL_CONNECTOR_MESSAGE_MAX 512
#define BL_CONNECTOR_EXTERNAL_ID_MAX 128

/* How handle ended. */
typedef enum bl_connector_status {
    BL_CONNECTOR_OK = 0,           /* done (or already done before) */
    BL_CONNECTOR_RETRYABLE = 1,    /* try later: 429, 5xx, timeouts */
    BL_CONNECTOR_PERMANENT = 2,    /* never works as is: dead-letter with message */
    BL_CONNECTOR_AUTH_EXPIRED = 3, /* credentials refused: host refreshes, retries once */
} bl_connector_status;

typedef struct bl_connector_result {
    int status;                                      /* a bl_connector_status */
    int64_t retry_after_ms;                          /* RETRYABLE: vendor's delay, -1 = host's backoff */
    char message[BL_CONNECTOR_MESSAGE_MAX];          /* vendor's message for logs and the DLQ */
    char external_id[BL_CONNECTOR_EXTERNAL_ID_MAX];  /* what was created/updated ("OPS-12"), may be "" */
} bl_connector_result;

/* One rendered field of the matched rule's template. */
typedef struct bl_connector_field_value {
    const char *name;
    const char *value; /* rendered with the field's escape (see bl_connector_field) */
} bl_connector_field_value;

/* The event as the connector sees it. All borrowed for the call. */
typedef struct bl_connector_event {
    const char *id;              /* event id (CloudEvents id), the idempotency key */
    const char *type;            /* "risk.escalated" */
    const char *subject;         /* aggregate id, e.g. the risk id */
    const char *organization_id;
    const char *time;            /* RFC 3339 */
    const char *json;            /* whole event as JSON: {"id","type","time","source",
                                  * "organization_id","subject","data":{...}} */
    size_t json_len;
    const char *integration_id;
    const char *action;          /* the matched rule's action, one of table->actions */
    const bl_connector_field_value *fields;
    size_t n_fields;
    int attempt;                 /* 1 on the first delivery */
} bl_connector_event;

/* The rendered value of field name, or NULL when the rule did not set it. */
static inline const char *bl_connector_event_field(const bl_connector_event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_fields; i++) {
        const char *a = ev->fields[i].name, *b = name;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b)
            return ev->fields[i].value;
    }
    return NULL;
}

/* How a template's placeholders are escaped when rendered for a field. */
typedef enum bl_connector_escape {
    BL_CONNECTOR_ESCAPE_PLAIN = 0,  /* values as they are */
    BL_CONNECTOR_ESCAPE_JSON = 1,   /* JSON string contents (no quotes) */
    BL_CONNECTOR_ESCAPE_MRKDWN = 2, /* Slack mrkdwn: &, <, > as entities */
    BL_CONNECTOR_ESCAPE_ADF = 3,    /* ADF text: control characters other than \n dropped */
} bl_connector_escape;

/* A template field the connector understands. Arrays end with {NULL}. */
typedef struct bl_connector_field {
    const char *name;
    int escape;   /* a bl_connector_escape */
    int required; /* a rule for an action must set it (checked when saved) */
    const char *action; /* the action it belongs to; NULL = every action */
} bl_connector_field;

/* --- what the host gives the plugin --- */

enum { BL_CONNECTOR_LOG_DEBUG = 0, BL_CONNECTOR_LOG_INFO, BL_CONNECTOR_LOG_WARN, BL_CONNECTOR_LOG_ERROR };

typedef struct bl_connector_http_request {
    const char *method;          /* "GET", "POST", ... */
    const char *url;
    const char *const *headers;  /* "Name: value" lines */
    size_t n_headers;
    const char *body;
    size_t body_len;
    long timeout_ms;             /* 0 = host's default */
} bl_connector_http_request;

typedef struct bl_connector_http_response {
    long status;                 /* 0 when no response came (see transport) */
    const char *transport;       /* "ok", "timeout", "connect_refused", "dns", "reset", "other" */
    const char *error;           /* transport error text, "" when ok */
    const char *body;            /* NUL-terminated, at most the host's body cap */
    size_t body_len;
    const char *content_type;    /* may be NULL */
    const char *retry_after;     /* Retry-After header or NULL */
    void *host_private;
} bl_connector_http_response;

typedef struct bl_connector_host {
    uint32_t abi_version;        /* the host's BL_CONNECTOR_ABI_VERSION */
    uint32_t struct_size;        /* sizeof(bl_connector_host) of the host */
    void *ctx;                   /* pass back to every function below */
    /* One log line (the host adds role, connector and integration ids).
     * Never log secrets. */
    void (*log)(void *ctx, int level, const char *msg);
    /* Runs one HTTP request to completion (blocking, the host's client,
     * keep-alive where possible). Returns 0 when a response came (any
     * status) or -1 on a transport failure; in both cases resp is filled
     * and must be given back with http_release. */
    int (*http)(void *ctx, const bl_connector_http_request *req, bl_connector_http_response *resp);
    void (*http_release)(void *ctx, bl_connector_http_response *resp);
    /* A credential of the integration ("email", "api_token", "bot_token",
     * "webhook_url") or NULL. Borrowed until shutdown. */
    const char *(*secret)(void *ctx, const char *name);
    /* The current OAuth bearer token supplied by the runtime's token store
     * into out (cap bytes). Returns 0, or -1 when the integration has none.
     * After handle returned AUTH_EXPIRED the host refreshes it before the
     * one retry. */
    int (*auth_token)(void *ctx, char *out, size_t cap);
    /* Unix time in milliseconds. */
    int64_t (*now_ms)(void *ctx);
    /* Durable key/value state of this integration (Postgres). get copies the
     * value into out (cap bytes) and returns 1, or 0 when absent, -1 on
     * error; put returns 0 or -1. Keys and values up to 512 bytes. */
    int (*state_get)(void *ctx, const char *key, char *out, size_t cap);
    int (*state_put)(void *ctx, const char *key, const char *value);
} bl_connector_host;

/* --- what the plugin gives the host --- */

typedef struct bl_connector_table {
    uint32_t abi_version;               /* BL_CONNECTOR_ABI_VERSION the plugin was built with */
    uint32_t struct_size;               /* sizeof(bl_connector_table) */
    const char *name;                   /* "jira": must match the name it is loaded under */
    const char *version;                /* the plugin's own version, for logs */
    const char *const *actions;         /* NULL-terminated: "create_issue", ... */
    const bl_connector_field *fields;   /* template fields, ended by {NULL} */
    /* Creates an instance from the integration's settings (JSON object text).
     * host lives until shutdown. Returns 0 and sets *instance, or -1 with a
     * NUL-terminated reason in err (err_len bytes). */
    int (*init)(const char *settings_json, const bl_connector_host *host, void **instance,
                char *err, size_t err_len);
    /* Performs ev->action for ev and fills result (zeroed by the host). */
    void (*handle)(void *instance, const bl_connector_event *ev, bl_connector_result *result);
    /* Optional (may be NULL). Returns 0 when healthy, else -1 with a reason. */
    int (*health)(void *instance, char *err, size_t err_len);
    /* Frees the instance. Accepts NULL. */
    void (*shutdown)(void *instance);
} bl_connector_table;

/* The signature of busline_connector_entry. */
typedef const bl_connector_table *(*bl_connector_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
