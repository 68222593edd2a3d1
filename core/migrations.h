/* Schema migrations: numbered SQL files applied once each, in numeric order,
 * recorded in busline_schema_migrations(version, name, checksum, applied_at).
 *
 * A directory holds files named NNN_name.sql: NNN is the version (decimal
 * digits, usually zero-padded to three, never reused), name is letters,
 * digits and '_'. Files ending in .md and dot-files are ignored; any other
 * name is an error. Each file runs in its own transaction, so it must not
 * hold BEGIN/COMMIT or statements that refuse a transaction (CREATE INDEX
 * CONCURRENTLY). A file once applied must never change: its SHA-256 is
 * recorded and checked on every run. */
#ifndef BUSLINE_CORE_MIGRATIONS_H
#define BUSLINE_CORE_MIGRATIONS_H

#include "core/err.h"

#include <libpq-fe.h>

/* Largest migration file read, in bytes. */
#define BL_MIGRATION_FILE_MAX (4 * 1024 * 1024)

/* Applies the files of dir not yet recorded, on conn (borrowed, idle, not in
 * a transaction). Runners on other connections wait for this one (session
 * advisory lock), so two at once apply each file exactly once. Checks
 * every name and every applied file's checksum before applying anything.
 * Returns how many files it applied (0 when up to date), or -1 with err
 * naming the file: bad name, duplicate version, changed after it was
 * applied, or failed (that file rolled back, earlier ones kept). */
int bl_migrations_apply(PGconn *conn, const char *dir, bl_err *err);

#endif
