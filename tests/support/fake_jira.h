/* A fake Jira Cloud (REST v3) on 127.0.0.1 for connector tests. It checks
 * every request the way Atlassian's reference describes it (method, path,
 * basic or bearer auth, JSON content type, required fields, ADF shape,
 * priority names, labels) and answers with Jira's documented bodies:
 * 201 {"id","key","self"}; 400 {"errorMessages":[],"errors":{field: msg}};
 * 401 when authentication fails; 404 for an unknown issue; 204 for a
 * transition; 429 with Retry-After when asked to rate-limit. */
#ifndef BUSLINE_TEST_FAKE_JIRA_H
#define BUSLINE_TEST_FAKE_JIRA_H

#include <jansson.h>
#include <stddef.h>

typedef struct fake_jira fake_jira;

/* Starts on an ephemeral loopback port. project: the only project key that
 * exists; email + api_token: the accepted basic credentials; bearer: an
 * accepted OAuth token (may be NULL). Returns NULL after printing why. */
fake_jira *fake_jira_start(const char *project, const char *email, const char *api_token, const char *bearer);

/* Releases any held request, stops and frees. Accepts NULL. */
void fake_jira_stop(fake_jira *f);

/* "http://127.0.0.1:<port>" (borrowed). */
const char *fake_jira_url(const fake_jira *f);

/* The next n requests get 429 with "Retry-After: <seconds>". */
void fake_jira_rate_limit(fake_jira *f, int n, int retry_after_s);

/* Sets the accepted bearer token (token rotation in tests). */
void fake_jira_set_bearer(fake_jira *f, const char *bearer);

/* When on, a create answers only after fake_jira_release (the issue exists
 * already): the window a crash between create and store would hit. */
void fake_jira_hold_creates(fake_jira *f, int on);
void fake_jira_release(fake_jira *f);
/* Creates that are waiting for fake_jira_release. */
int fake_jira_held(fake_jira *f);

/* Issues created so far. */
size_t fake_jira_issue_count(fake_jira *f);

/* A copy of issue i's stored JSON: {"key","fields":{...},"status",
 * "comments":[ADF...]} (json_decref it), or NULL. */
json_t *fake_jira_issue(fake_jira *f, size_t i);

/* Requests refused (4xx other than 429 and 404 lookups) and why; for
 * asserting that a connector only sent valid requests. */
int fake_jira_rejected(fake_jira *f);
const char *fake_jira_last_problem(fake_jira *f);

/* Checks an ADF document as Jira does for description and comment bodies:
 * doc, version 1, block nodes with inline content, non-empty text nodes.
 * Returns NULL when valid, else a static reason. */
const char *fake_jira_adf_problem(const json_t *doc);

#endif
