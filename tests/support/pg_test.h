/* Throwaway PostgreSQL databases for tests, on the server of
 * bl_test_pg_url(). */
#ifndef BUSLINE_TEST_PG_TEST_H
#define BUSLINE_TEST_PG_TEST_H

#include "core/err.h"

#include <stddef.h>

/* Creates a uniquely named, empty database and writes its URL (same server,
 * user and options as bl_test_pg_url()) into url_out (len bytes). Returns 0,
 * or -1 with err. Drop it with bl_test_pg_drop_db. */
int bl_test_pg_fresh_db(char *url_out, size_t len, bl_err *err);

/* bl_test_pg_fresh_db with every migration of migrations/ applied: for a
 * test that must not depend on what ran before it on the shared database.
 * Returns 0, or -1 with err (drop url_out either way if it was written). */
int bl_test_pg_migrated_db(char *url_out, size_t len, bl_err *err);

/* Drops the database url names, ending any connection still open to it.
 * Returns 0, or -1 after printing why to stderr. */
int bl_test_pg_drop_db(const char *url);

#endif
