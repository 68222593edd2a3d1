/* A client of the field-service media routes for the tests: files made
 * piece by piece (never held whole, hashed on the way), streamed multipart
 * uploads with curl's mime API, downloads hashed as they arrive, a body sent
 * a few bytes per write, the field-service error shape, and the seed rows
 * (a client and interventions iv-1, iv-2 in the fixture's organization,
 * iv-x in the other one). */
#ifndef BUSLINE_TEST_MEDIA_CLIENT_H
#define BUSLINE_TEST_MEDIA_CLIENT_H

#include "tests/support/api_fixture.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first bytes of a PNG (signature and IHDR): libmagic calls what
 * follows them image/png. */
#define BL_TEST_PNG_HEAD_LEN 33
extern const unsigned char bl_test_png_head[BL_TEST_PNG_HEAD_LEN];

/* A file of size bytes: head first, then bytes of a simple generator,
 * produced piece by piece by bl_test_gen_read. */
typedef struct bl_test_gen_file {
    const unsigned char *head;
    size_t head_len;
    size_t size, pos;
    uint32_t state;
    EVP_MD_CTX *sha; /* hashes what was produced */
} bl_test_gen_file;

/* Starts g (head borrowed). Finish with bl_test_gen_hex, which frees. */
void bl_test_gen_init(bl_test_gen_file *g, const void *head, size_t head_len, size_t size);
/* The SHA-256 hex of what g produced so far into out; frees g's hasher. */
void bl_test_gen_hex(bl_test_gen_file *g, char out[65]);
/* A curl read callback over a bl_test_gen_file. */
size_t bl_test_gen_read(char *buf, size_t size, size_t n, void *arg);

typedef struct bl_test_upload_spec {
    const char *intervention_id; /* NULL: no part */
    const char *description;
    const char *tags;
    const char *filename;
    const char *declared_type; /* the part's Content-Type */
    bl_test_gen_file *file;    /* NULL: no file part */
    bool chunked;              /* the file's size unknown to curl: a chunked body */
} bl_test_upload_spec;

/* POSTs spec to /api/medias/upload on 127.0.0.1:port as token. Returns
 * the status (0 on transport failure); free r with bl_test_reply_clear. */
long bl_test_media_upload(unsigned short port, const char *token, const bl_test_upload_spec *spec,
                          bl_test_reply *r);

/* A download, hashed as it arrived. */
typedef struct bl_test_download {
    long status;
    size_t size;
    EVP_MD_CTX *sha;
    char sha_hex[65];
    char content_type[128], disposition[512];
} bl_test_download;

/* GETs path on 127.0.0.1:port as token into d. Returns the status. */
long bl_test_media_fetch(unsigned short port, const char *path, const char *token, bl_test_download *d);

/* POSTs body[0..len) to /api/medias/upload 3 bytes per write, as
 * multipart/form-data with boundary "----b". Returns the status. */
long bl_test_media_post_trickle(unsigned short port, const char *token, const char *body, size_t len,
                                bl_test_reply *r);

/* A string member of r's JSON, or NULL. */
const char *bl_test_reply_field(const bl_test_reply *r, const char *name);
/* The field-service error shape: "error_code", the field errors
 * ({field: [messages]}, borrowed), and whether r is such an error with
 * code (and a detail). */
const char *bl_test_reply_fs_code(const bl_test_reply *r);
json_t *bl_test_reply_field_errors(const bl_test_reply *r);
bool bl_test_reply_is_error(const bl_test_reply *r, const char *code);

/* The one count of sql, whose $1 (if any) is api's organization; -1 on
 * failure. */
long long bl_test_media_count(const bl_test_api *api, const char *sql);
#define BL_TEST_MEDIA_ROWS "SELECT count(*) FROM fieldservice_media WHERE organization_id = $1"
#define BL_TEST_LARGE_OBJECTS "SELECT count(*) FROM pg_largeobject_metadata"

/* Inserts the seed rows. Returns 0 or -1 after printing why. */
int bl_test_media_seed(const bl_test_api *api);

#endif
