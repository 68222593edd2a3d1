/* Where the bytes of field-service media live, behind a small interface so
 * another store (a bucket, a file system) can replace the default without
 * touching the routes. Every call runs inside the caller's PostgreSQL
 * transaction: the default store keeps the bytes in PostgreSQL large
 * objects, so a rolled back upload leaves nothing behind, and a store kept
 * elsewhere still gets the transaction to tie its bookkeeping to. An object
 * is named by a 64-bit id (the large object's oid by default), kept in the
 * media row beside the store's name. */
#ifndef BUSLINE_API_FIELDSERVICE_MEDIA_STORE_H
#define BUSLINE_API_FIELDSERVICE_MEDIA_STORE_H

#include "core/err.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct bl_media_writer bl_media_writer;
typedef struct bl_media_reader bl_media_reader;

typedef struct bl_media_store {
    const char *name; /* stored in each row: "pg_large_object" */
    /* Starts a new object inside the transaction open on conn (borrowed,
     * must outlive the writer). Returns the writer or NULL with err. */
    bl_media_writer *(*writer_open)(PGconn *conn_in_tx, bl_err *err);
    /* Appends len bytes (borrowed). Returns 0 or -1 with err. */
    int (*write)(bl_media_writer *w, const char *data, size_t len, bl_err *err);
    /* Writes what is pending, frees w and gives the object's id in *object
     * (it exists once the transaction commits). Returns 0 or -1 with err (w
     * freed either way). */
    int (*writer_close)(bl_media_writer *w, uint64_t *object, bl_err *err);
    /* Frees w, abandoning the object (the rollback that follows drops it).
     * Accepts NULL. */
    void (*writer_abort)(bl_media_writer *w);
    /* Opens object for reading inside the transaction open on conn. Returns
     * the reader or NULL with err (BL_ENOTFOUND when it does not exist). */
    bl_media_reader *(*reader_open)(PGconn *conn_in_tx, uint64_t object, bl_err *err);
    /* Reads up to max bytes into buf. Returns how many, 0 at the end, or -1
     * with err. */
    ssize_t (*read)(bl_media_reader *r, char *buf, size_t max, bl_err *err);
    /* Frees r. Accepts NULL. */
    void (*reader_close)(bl_media_reader *r);
    /* Deletes object inside the transaction open on conn. Returns 0 or -1. */
    int (*remove)(PGconn *conn_in_tx, uint64_t object, bl_err *err);
} bl_media_store;

/* The default store: PostgreSQL large objects (lo_creat, lo_write, lo_read,
 * lo_unlink), written in 256 KiB round trips. Static, never freed. */
const bl_media_store *bl_media_store_pg(void);

#endif
