/* A local fake of Google's OAuth 2.0 endpoints and userinfo, on 127.0.0.1,
 * checking requests as Google documents them: form encoding, grant_type,
 * client credentials in the body, redirect_uri equal to the authorize one,
 * the PKCE code_verifier against the S256 challenge; answering Google's
 * token and error bodies. The token endpoint also answers at
 * /{tenant}/oauth2/v2.0/token, the Microsoft identity platform's path. */
#ifndef BUSLINE_TEST_FAKE_OAUTH_H
#define BUSLINE_TEST_FAKE_OAUTH_H

#include "core/http_server.h"

#include <pthread.h>
#include <stdbool.h>

typedef struct fake_oauth {
    bl_http_server *http;
    pthread_mutex_t lock;
    char client_id[64], client_secret[64];
    char challenge[64], redirect_uri[256]; /* expected, set by the test from the authorize URL */
    char access[64], refresh[64];          /* currently valid tokens */
    int issued, refreshes, revokes, bad_requests;
    bool refuse_refresh;  /* answer invalid_grant */
    int reject_next_401;  /* userinfo answers 401 this many times */
    int fail_next_status; /* userinfo answers this status (with fail_next_body) once; 0 = none */
    char fail_next_body[256];
    char last_error[256]; /* why the last bad request was refused */
} fake_oauth;

/* Starts the fake on an ephemeral port. Returns 0 or -1. */
int fake_oauth_start(fake_oauth *f, const char *client_id, const char *client_secret);
unsigned short fake_oauth_port(const fake_oauth *f);
void fake_oauth_stop(fake_oauth *f);

#endif
