/* An endpoint's TLS settings checked and described with OpenSSL (see
 * endpoint_tls.h). */
#include "connectors/webhook/policy/endpoint_tls.h"

#include "core/time_format.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static BIO *pem_bio(const char *pem)
{
    return BIO_new_mem_buf(pem, (int)strlen(pem));
}

/* The one-line RFC 2253 form of name into out. */
static void name_text(const X509_NAME *name, char *out, size_t len)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(b, out, (int)len - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

static int64_t not_after_ms(const X509 *x)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000;
}

static void describe(X509 *x, bl_webhook_cert_info *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    out->fingerprint_sha256[0] = '\0';
    if (X509_digest(x, EVP_sha256(), md, &md_len) == 1) {
        for (unsigned int i = 0; i < md_len && 3 * i + 3 <= sizeof out->fingerprint_sha256; i++)
            snprintf(out->fingerprint_sha256 + 3 * i, 4, i + 1 < md_len ? "%02X:" : "%02X", md[i]);
    }
    name_text(X509_get_subject_name(x), out->subject, sizeof out->subject);
    name_text(X509_get_issuer_name(x), out->issuer, sizeof out->issuer);
    out->not_after_ms = not_after_ms(x);
}

int bl_webhook_cert_info_of(const char *pem, const char *field, bl_webhook_cert_info *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!pem || strlen(pem) > BL_WEBHOOK_TLS_PEM_MAX)
        return bl_err_set(err, BL_EINVAL, "tls: %s must be PEM text of at most %d bytes", field,
                          BL_WEBHOOK_TLS_PEM_MAX);
    BIO *b = pem_bio(pem);
    if (!b)
        return bl_err_set(err, BL_ENOMEM, "tls: out of memory");
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (out->count == 0)
            describe(x, out);
        out->count++;
        X509_free(x);
    }
    BIO_free(b);
    ERR_clear_error(); /* the loop ends on "no start line" */
    if (out->count == 0)
        return bl_err_set(err, BL_EINVAL, "tls: %s is not a PEM certificate (-----BEGIN CERTIFICATE-----)", field);
    if (out->count > BL_WEBHOOK_TLS_CA_MAX)
        return bl_err_set(err, BL_EINVAL, "tls: %s holds more than %d certificates", field, BL_WEBHOOK_TLS_CA_MAX);
    return 0;
}

/* The first certificate (x) or private key (k) of pem, NULL when there is
 * none; OpenSSL's queue is cleared. */
static void read_pem(const char *pem, X509 **x, EVP_PKEY **k)
{
    BIO *b = pem_bio(pem);
    if (x)
        *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (k)
        *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
}

int bl_webhook_tls_check(const char *cert, const char *key, const char *ca, bl_err *err)
{
    if (!cert != !key)
        return bl_err_set(err, BL_EINVAL, "tls: clientCertificate and clientKey go together: give both or neither");
    bl_webhook_cert_info info;
    if (ca && bl_webhook_cert_info_of(ca, "caCertificate", &info, err) != 0)
        return -1;
    if (!cert)
        return 0;
    if (bl_webhook_cert_info_of(cert, "clientCertificate", &info, err) != 0)
        return -1;
    if (strlen(key) > BL_WEBHOOK_TLS_PEM_MAX)
        return bl_err_set(err, BL_EINVAL, "tls: clientKey must be PEM text of at most %d bytes",
                          BL_WEBHOOK_TLS_PEM_MAX);
    EVP_PKEY *k;
    read_pem(key, NULL, &k);
    if (!k)
        return bl_err_set(err, BL_EINVAL, "tls: clientKey is not an unencrypted PEM private key "
                                          "(-----BEGIN PRIVATE KEY-----)");
    X509 *x;
    read_pem(cert, &x, NULL);
    int rc = 0;
    if (!x || X509_check_private_key(x, k) != 1)
        rc = bl_err_set(err, BL_EINVAL, "tls: clientKey is not the key of clientCertificate (%.200s)",
                        info.subject);
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

static json_t *cert_json(const char *pem)
{
    bl_webhook_cert_info info;
    bl_err err = {0};
    if (!pem)
        return json_null();
    if (bl_webhook_cert_info_of(pem, "certificate", &info, &err) != 0)
        return NULL;
    char when[32];
    bl_rfc3339_format_millis(info.not_after_ms, when, sizeof when);
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "fingerprint_sha256", info.fingerprint_sha256, "subject",
                     info.subject, "issuer", info.issuer, "expires_at", when, "certificates", info.count);
}

json_t *bl_webhook_tls_json(const char *cert, const char *ca)
{
    if (!cert && !ca)
        return NULL;
    json_t *c = cert_json(cert), *a = cert_json(ca);
    if (!c || !a) {
        json_decref(c);
        json_decref(a);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "clientCertificate", c, "caCertificate", a);
}
