/* The default media store (see media_store.h): PostgreSQL large objects. */
#include "api/fieldservice/media_store.h"

#include <libpq/libpq-fs.h>
#include <stdlib.h>
#include <string.h>

/* Pieces of an upload arrive in a few KiB; gathering them into 256 KiB
 * writes keeps the round trips to Postgres few without holding much. */
#define WRITE_BATCH (256 * 1024)

struct bl_media_writer {
    PGconn *conn;
    Oid oid;
    int fd;
    size_t pending;
    char buf[WRITE_BATCH];
};

struct bl_media_reader {
    PGconn *conn;
    int fd;
};

static int pg_fail(PGconn *conn, bl_err *err, const char *what)
{
    const char *msg = PQerrorMessage(conn);
    size_t n = strcspn(msg, "\n");
    return bl_err_set(err, BL_EPG, "media store: %s: %.*s", what, (int)n, msg);
}

static bl_media_writer *pg_writer_open(PGconn *conn, bl_err *err)
{
    bl_media_writer *w = malloc(sizeof *w);
    if (!w) {
        bl_err_set(err, BL_ENOMEM, "media store: out of memory");
        return NULL;
    }
    w->conn = conn;
    w->pending = 0;
    w->oid = lo_creat(conn, INV_READ | INV_WRITE);
    w->fd = w->oid == InvalidOid ? -1 : lo_open(conn, w->oid, INV_WRITE);
    if (w->fd < 0) {
        pg_fail(conn, err, w->oid == InvalidOid ? "lo_creat" : "lo_open");
        free(w);
        return NULL;
    }
    return w;
}

static int flush(bl_media_writer *w, bl_err *err)
{
    size_t done = 0;
    while (done < w->pending) {
        int n = lo_write(w->conn, w->fd, w->buf + done, w->pending - done);
        if (n <= 0)
            return pg_fail(w->conn, err, "lo_write");
        done += (size_t)n;
    }
    w->pending = 0;
    return 0;
}

static int pg_write(bl_media_writer *w, const char *data, size_t len, bl_err *err)
{
    while (len > 0) {
        size_t room = WRITE_BATCH - w->pending;
        size_t n = len < room ? len : room;
        memcpy(w->buf + w->pending, data, n);
        w->pending += n;
        data += n;
        len -= n;
        if (w->pending == WRITE_BATCH && flush(w, err) != 0)
            return -1;
    }
    return 0;
}

static int pg_writer_close(bl_media_writer *w, uint64_t *object, bl_err *err)
{
    int rc = flush(w, err);
    if (lo_close(w->conn, w->fd) != 0 && rc == 0)
        rc = pg_fail(w->conn, err, "lo_close");
    if (rc == 0)
        *object = w->oid;
    free(w);
    return rc;
}

static void pg_writer_abort(bl_media_writer *w)
{
    free(w); /* the descriptor and the object go with the rollback */
}

static bl_media_reader *pg_reader_open(PGconn *conn, uint64_t object, bl_err *err)
{
    if (object == 0 || object > UINT32_MAX) {
        bl_err_set(err, BL_ENOTFOUND, "media store: no large object %llu", (unsigned long long)object);
        return NULL;
    }
    bl_media_reader *r = malloc(sizeof *r);
    if (!r) {
        bl_err_set(err, BL_ENOMEM, "media store: out of memory");
        return NULL;
    }
    r->conn = conn;
    r->fd = lo_open(conn, (Oid)object, INV_READ);
    if (r->fd < 0) {
        pg_fail(conn, err, "lo_open");
        err->code = BL_ENOTFOUND;
        free(r);
        return NULL;
    }
    return r;
}

static ssize_t pg_read(bl_media_reader *r, char *buf, size_t max, bl_err *err)
{
    int n = lo_read(r->conn, r->fd, buf, max);
    if (n < 0) {
        pg_fail(r->conn, err, "lo_read");
        return -1;
    }
    return n;
}

static void pg_reader_close(bl_media_reader *r)
{
    if (!r)
        return;
    lo_close(r->conn, r->fd); /* the transaction's end closes it too */
    free(r);
}

static int pg_remove(PGconn *conn, uint64_t object, bl_err *err)
{
    if (object == 0 || object > UINT32_MAX || lo_unlink(conn, (Oid)object) != 1)
        return pg_fail(conn, err, "lo_unlink");
    return 0;
}

const bl_media_store *bl_media_store_pg(void)
{
    static const bl_media_store store = {
        .name = "pg_large_object",
        .writer_open = pg_writer_open,
        .write = pg_write,
        .writer_close = pg_writer_close,
        .writer_abort = pg_writer_abort,
        .reader_open = pg_reader_open,
        .read = pg_read,
        .reader_close = pg_reader_close,
        .remove = pg_remove,
    };
    return &store;
}
