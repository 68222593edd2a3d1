/* Shared setup of the webhook store, cache and delivery-log tests: a fresh
 * database with the migrations, a pool, a test keyring, a loopback
 * allow-list and a small endpoint spec to start from. */
#ifndef BUSLINE_TEST_WEBHOOK_TEST_H
#define BUSLINE_TEST_WEBHOOK_TEST_H

#include "connectors/webhook/store/endpoint_store.h"
#include "core/crypto.h"
#include "core/pg_pool.h"

/* The fixture's keyring as BUSLINE_ENCRYPTION_KEYS text (for child processes). */
#define BL_WEBHOOK_TEST_KEYS "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

typedef struct bl_webhook_fixture {
    char pg_url[512];
    bl_pg_pool *pool;
    PGconn *conn;            /* for the tests' own queries */
    bl_keyring *keyring;
    bl_ssrf_allowlist allow; /* 127.0.0.0/8 */
    int have_db;
} bl_webhook_fixture;

/* Creates the database and everything above. Returns 0, or -1 after
 * printing why; close the fixture either way. */
int bl_webhook_fixture_open(bl_webhook_fixture *f);

/* The same on the existing database pg_url (already migrated), which close
 * then leaves in place. Returns 0, or -1 after printing why. */
int bl_webhook_fixture_attach(bl_webhook_fixture *f, const char *pg_url);

/* Frees everything and drops the database. */
void bl_webhook_fixture_close(bl_webhook_fixture *f);

/* A valid spec to a loopback URL for types (borrowed), defaults elsewhere. */
bl_webhook_spec bl_webhook_test_spec(const char *name, const char *const *types, size_t ntypes);

/* The first column of the first row of sql on f->conn as a number, or -1. */
long bl_webhook_test_count(bl_webhook_fixture *f, const char *sql);

#endif
