/* What the documents say each route needs, for the permission matrix
 * (tests/integration/test_api_permission_matrix.c): which routes are
 * public, the permission a method on a pattern needs (read = GET, write =
 * GET/POST/PUT, admin = DELETE and key, webhook and integration management;
 * the field-service and Attendance-X documents' own rules), the error codes
 * each surface names 401 and 403 by, and a concrete path and body for a
 * route pattern in one organization's fixture rows. */
#ifndef BUSLINE_TEST_PERMISSION_RULES_H
#define BUSLINE_TEST_PERMISSION_RULES_H

#include "api/auth/keys.h"
#include "api/server.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CLOSED_URL "http://127.0.0.1:9" /* discard port: nothing listens */
#define USER_EMAIL "matrix@example.com"
#define USER_PASSWORD "matrix password of the user"
/* a workflow named name: an event trigger and one delay step */
#define WORKFLOW_BODY(name)                                                                              \
    "{\"name\":\"" name "\",\"trigger\":{\"type\":\"event\",\"config\":{\"eventType\":\"risk.*\"}}," \
    "\"steps\":[{\"id\":\"wait\",\"type\":\"delay\",\"config\":{\"duration\":1000}}]}"

/* One organization of the matrix and the ids of its fixture rows. */
typedef struct bl_test_perm_org {
    const char *tag;
    char id[BL_API_ID_MAX];
    char marker[48]; /* in every row's name: found in no other organization's answers */
    char admin[BL_API_TOKEN_SIZE];
    char key_id[BL_API_ID_MAX]; /* a spare key, for DELETE /v1/api-keys/:id */
    char webhook[64], integration[40], run[40], command[40], custom_api[40], alert[40];
    char alert_rule[40]; /* its default rate-limit rule */
    char workflow[40], execution[40]; /* a workflow and one execution of it */
    char replay[24];                  /* a webhook replay job */
} bl_test_perm_org;

/* Whether anyone may call pattern: operations, login, the documents, the console. */
bool bl_test_perm_documented_public(const char *pattern);

/* The code pattern's surface answers for /v1's v1_code ("unauthorized",
 * "forbidden"): AUTHENTICATION_ERROR/AUTHORIZATION_ERROR under /api/,
 * INVALID_CREDENTIALS/PERMISSION_DENIED under /attendance/api/. Static. */
const char *bl_test_perm_code_on(const char *pattern, const char *v1_code);

/* The permission method on pattern needs, as documented. */
bl_api_perm bl_test_perm_documented_need(const char *method, const char *pattern);

/* Fills pattern's :params with org f's fixture ids into path (len bytes).
 * Returns the number of organization-scoped ids used, or -1 for a
 * parameter with no fixture. */
int bl_test_perm_concrete_path(const char *pattern, const bl_test_perm_org *f, char *path, size_t len);

/* The body to send: from op's OpenAPI request body when it has one (its
 * aggregate id left out when the path names it), $refs resolved in openapi
 * (the served document), else a minimal valid one. Caller frees; NULL = no
 * body. */
char *bl_test_perm_body_for(const json_t *openapi, const char *method, const char *pattern, const json_t *op);

#endif
