#include "core/migrations.h"

#include "core/crypto.h"
#include "core/pg_pool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MIGRATIONS_MAX_FILES 10000
#define VERSION_MAX_DIGITS 9 /* so every version fits a Postgres int */
/* One constant advisory lock key for every runner of every role. */
#define MIGRATIONS_LOCK_SQL "SELECT pg_advisory_lock(7305093473295263)"
#define MIGRATIONS_UNLOCK_SQL "SELECT pg_advisory_unlock(7305093473295263)"

struct migration {
    long version;
    char file[256];
    char *sql; /* file content, NUL-terminated */
    char checksum[BL_SHA256_HEX_SIZE];
    int applied;
};

struct migration_list {
    struct migration *items;
    size_t n;
};

static void migration_list_clear(struct migration_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->items[i].sql);
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

/* Parses "NNN_name.sql". Returns 0 and sets *version, or -1. */
static int parse_file_name(const char *file, long *version)
{
    size_t digits = 0;
    while (isdigit((unsigned char)file[digits]))
        digits++;
    if (digits == 0 || digits > VERSION_MAX_DIGITS || file[digits] != '_')
        return -1;
    const char *name = file + digits + 1;
    size_t name_len = strlen(name);
    if (name_len <= strlen(".sql") || strcmp(name + name_len - 4, ".sql") != 0)
        return -1;
    for (size_t i = 0; i < name_len - 4; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return -1;
    *version = strtol(file, NULL, 10);
    return 0;
}

static int ignored_file(const char *file)
{
    size_t len = strlen(file);
    return file[0] == '.' || (len >= 3 && strcmp(file + len - 3, ".md") == 0);
}

/* Reads path whole into a NUL-terminated heap string. */
static char *read_file(const char *path, size_t *len_out, bl_err *err)
{
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        bl_err_set(err, BL_EIO, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        bl_err_set(err, BL_EIO, "not a regular file");
        goto done;
    }
    if (st.st_size > BL_MIGRATION_FILE_MAX) {
        bl_err_set(err, BL_EINVAL, "larger than %d bytes", BL_MIGRATION_FILE_MAX);
        goto done;
    }
    size_t len = (size_t)st.st_size;
    buf = malloc(len + 1);
    if (!buf) {
        bl_err_set(err, BL_ENOMEM, "out of memory");
        goto done;
    }
    if (fread(buf, 1, len, f) != len) {
        bl_err_set(err, BL_EIO, "short read");
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[len] = '\0';
    *len_out = len;
done:
    fclose(f);
    return buf;
}

static int load_migration(const char *dir, struct migration *m, bl_err *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, m->file) >= sizeof path)
        return bl_err_set(err, BL_EINVAL, "migrations: %s: path too long", m->file);
    size_t len = 0;
    m->sql = read_file(path, &len, err);
    if (!m->sql)
        return bl_err_wrap(err, "migrations: %s", m->file);
    if (strlen(m->sql) != len)
        return bl_err_set(err, BL_EINVAL, "migrations: %s: holds a NUL byte", m->file);
    if (bl_sha256_hex(m->sql, len, m->checksum, err) != 0)
        return bl_err_wrap(err, "migrations: %s", m->file);
    return 0;
}

static int by_version(const void *a, const void *b)
{
    long va = ((const struct migration *)a)->version;
    long vb = ((const struct migration *)b)->version;
    return (va > vb) - (va < vb);
}

/* Lists, reads and sorts the migration files of dir; every name is checked
 * and versions must be distinct. */
static int scan_dir(const char *dir, struct migration_list *list, bl_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return bl_err_set(err, BL_EIO, "migrations: open directory %s: %s", dir, strerror(errno));
    int rc = -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (ignored_file(e->d_name))
            continue;
        long version;
        if (parse_file_name(e->d_name, &version) != 0 || strlen(e->d_name) >= sizeof list->items[0].file) {
            bl_err_set(err, BL_EINVAL,
                       "migrations: %s: bad file name, want NNN_name.sql (name: letters, digits, _)",
                       e->d_name);
            goto done;
        }
        if (list->n == cap) {
            size_t new_cap = cap ? cap * 2 : 16;
            if (new_cap > MIGRATIONS_MAX_FILES) {
                bl_err_set(err, BL_EINVAL, "migrations: more than %d files in %s", MIGRATIONS_MAX_FILES, dir);
                goto done;
            }
            struct migration *grown = realloc(list->items, new_cap * sizeof *grown);
            if (!grown) {
                bl_err_set(err, BL_ENOMEM, "migrations: out of memory");
                goto done;
            }
            list->items = grown;
            cap = new_cap;
        }
        struct migration *m = &list->items[list->n++];
        memset(m, 0, sizeof *m);
        m->version = version;
        snprintf(m->file, sizeof m->file, "%s", e->d_name);
        if (load_migration(dir, m, err) != 0)
            goto done;
    }
    qsort(list->items, list->n, sizeof *list->items, by_version);
    for (size_t i = 1; i < list->n; i++) {
        if (list->items[i].version == list->items[i - 1].version) {
            bl_err_set(err, BL_EINVAL, "migrations: %s and %s share version %ld",
                       list->items[i - 1].file, list->items[i].file, list->items[i].version);
            goto done;
        }
    }
    rc = 0;
done:
    closedir(d);
    return rc;
}

static struct migration *find_version(struct migration_list *list, long version)
{
    struct migration key = {.version = version};
    return bsearch(&key, list->items, list->n, sizeof *list->items, by_version);
}

/* Marks the files already applied, refusing any whose name or content
 * differs from what was recorded. */
static int check_applied(PGconn *conn, struct migration_list *list, bl_err *err)
{
    PGresult *res = bl_pg_exec(conn, "SELECT version, name, checksum FROM busline_schema_migrations",
                               0, NULL, err);
    if (!res)
        return bl_err_wrap(err, "migrations: read applied versions");
    int rc = 0;
    for (int row = 0; row < PQntuples(res) && rc == 0; row++) {
        /* Versions the directory no longer has were applied by a newer
         * release; they are left alone. */
        struct migration *m = find_version(list, strtol(PQgetvalue(res, row, 0), NULL, 10));
        if (!m)
            continue;
        const char *name = PQgetvalue(res, row, 1);
        const char *checksum = PQgetvalue(res, row, 2);
        if (strcmp(name, m->file) != 0)
            rc = bl_err_set(err, BL_ECONFLICT,
                            "migrations: %s: version %ld was applied as %s; versions are never reused",
                            m->file, m->version, name);
        else if (strcmp(checksum, m->checksum) != 0)
            rc = bl_err_set(err, BL_ECONFLICT,
                            "migrations: %s was changed after it was applied (sha256 %.12s..., recorded %.12s...); "
                            "add a new migration instead",
                            m->file, m->checksum, checksum);
        m->applied = 1;
    }
    PQclear(res);
    return rc;
}

/* One file's work inside its transaction: its SQL, then its record. */
static int apply_in_tx(PGconn *conn, void *arg, bl_err *err)
{
    const struct migration *m = arg;
    if (bl_pg_exec_cmd(conn, m->sql, 0, NULL, err) != 0)
        return -1;
    char version[16];
    snprintf(version, sizeof version, "%ld", m->version);
    const char *params[] = {version, m->file, m->checksum};
    return bl_pg_exec_cmd(conn,
                          "INSERT INTO busline_schema_migrations (version, name, checksum, applied_at) "
                          "VALUES ($1, $2, $3, now())",
                          3, params, err);
}

static int apply_pending(PGconn *conn, struct migration_list *list, bl_err *err)
{
    int applied = 0;
    for (size_t i = 0; i < list->n; i++) {
        struct migration *m = &list->items[i];
        if (m->applied)
            continue;
        if (bl_pg_transaction(conn, apply_in_tx, m, err) != 0)
            return bl_err_wrap(err, "migrations: %s", m->file);
        m->applied = 1;
        applied++;
    }
    return applied;
}

int bl_migrations_apply(PGconn *conn, const char *dir, bl_err *err)
{
    struct migration_list list = {0};
    int rc = -1;
    int locked = 0;
    if (scan_dir(dir, &list, err) != 0)
        goto done;
    if (bl_pg_exec_cmd(conn, MIGRATIONS_LOCK_SQL, 0, NULL, err) != 0) {
        bl_err_wrap(err, "migrations: take lock");
        goto done;
    }
    locked = 1;
    if (bl_pg_exec_cmd(conn,
                       "CREATE TABLE IF NOT EXISTS busline_schema_migrations ("
                       " version int PRIMARY KEY,"
                       " name text NOT NULL,"
                       " checksum text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now())",
                       0, NULL, err) != 0) {
        bl_err_wrap(err, "migrations: create busline_schema_migrations");
        goto done;
    }
    if (check_applied(conn, &list, err) != 0)
        goto done;
    rc = apply_pending(conn, &list, err);
done:
    /* Closing the session would drop the lock too; this keeps a pooled
     * connection from holding it. */
    if (locked)
        bl_pg_exec_cmd(conn, MIGRATIONS_UNLOCK_SQL, 0, NULL, NULL);
    migration_list_clear(&list);
    return rc;
}
