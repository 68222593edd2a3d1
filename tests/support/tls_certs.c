/* Throwaway certificates for the TLS tests (see tls_certs.h). */
#include "tests/support/tls_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bl_test_certs_read(const bl_test_certs *c, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

#define EC "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
#define SIGN "-CA ca.pem -CAkey ca.key -CAcreateserial -days 2"

int bl_test_certs_make(bl_test_certs *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dir, sizeof c->dir, "/tmp/busline_tls_XXXXXX");
    if (!mkdtemp(c->dir)) {
        perror("mkdtemp");
        return -1;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && { openssl req -x509 " EC " -keyout ca.key -out ca.pem -days 2 -subj /CN=busline-test-ca && "
             "openssl req " EC " -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "openssl x509 -req -in server.csr " SIGN " -extfile san.ext -out server.pem && "
             "openssl req " EC " -keyout client.key -out client.csr -subj /CN=busline-client && "
             "openssl x509 -req -in client.csr " SIGN " -out client.pem && "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key && "
             "openssl x509 -in client.pem -noout -fingerprint -sha256 | sed 's/.*=//' > client.fp; } 2>/dev/null",
             c->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "tls certs: openssl failed (is the openssl package installed?)\n");
        return -1;
    }
    c->ca = bl_test_certs_read(c, "ca.pem");
    c->client = bl_test_certs_read(c, "client.pem");
    c->client_key = bl_test_certs_read(c, "client.key");
    c->other_key = bl_test_certs_read(c, "other.key");
    char *fp = bl_test_certs_read(c, "client.fp");
    if (fp) {
        fp[strcspn(fp, "\n")] = '\0';
        snprintf(c->client_fingerprint, sizeof c->client_fingerprint, "%s", fp);
        free(fp);
    }
    if (!c->ca || !c->client || !c->client_key || !c->other_key || !c->client_fingerprint[0]) {
        fprintf(stderr, "tls certs: a file is missing in %s\n", c->dir);
        return -1;
    }
    return 0;
}

void bl_test_certs_free(bl_test_certs *c)
{
    free(c->ca);
    free(c->client);
    free(c->client_key);
    free(c->other_key);
    if (c->dir[0] && strncmp(c->dir, "/tmp/busline_tls_", 17) == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "tls certs: could not remove %s\n", c->dir);
    }
    memset(c, 0, sizeof *c);
}
