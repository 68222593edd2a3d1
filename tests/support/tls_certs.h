/* Throwaway certificates for the TLS tests, made with the openssl command in
 * a temporary directory: a CA, a server certificate for 127.0.0.1 and a
 * client certificate (CN busline-client) it issued, and an unrelated key. */
#ifndef BUSLINE_TEST_TLS_CERTS_H
#define BUSLINE_TEST_TLS_CERTS_H

typedef struct bl_test_certs {
    char dir[64];                   /* ca.pem, server.pem/.key, client.pem/.key, other.key */
    char *ca, *client, *client_key, *other_key; /* PEM texts */
    char client_fingerprint[128];   /* openssl x509 -fingerprint -sha256 of client.pem */
} bl_test_certs;

/* Makes them into c. Returns 0, or -1 after printing why (free c either way). */
int bl_test_certs_make(bl_test_certs *c);

/* The text of file name in c's directory (malloc'd), or NULL. */
char *bl_test_certs_read(const bl_test_certs *c, const char *name);

/* Frees the texts and removes the directory. */
void bl_test_certs_free(bl_test_certs *c);

#endif
