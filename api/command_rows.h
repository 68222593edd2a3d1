/* The rows of acknowledged commands sent without an Idempotency-Key,
 * written by one writer thread in batches: every request still waits for
 * its own row to commit (so its status URL answers from the first GET, on
 * any replica), but the requests waiting together share one INSERT and one
 * commit instead of a transaction each. A batch PostgreSQL refuses is
 * written again row by row, so one bad row fails only its own request. */
#ifndef BUSLINE_API_COMMAND_ROWS_H
#define BUSLINE_API_COMMAND_ROWS_H

#include "core/err.h"
#include "core/pg_pool.h"

#define BL_API_COMMAND_ROWS_BATCH_MAX 256

typedef struct bl_api_command_rows bl_api_command_rows;

/* Starts the writer over pool (borrowed; outlives the writer). Returns it,
 * or NULL with err. */
bl_api_command_rows *bl_api_command_rows_new(bl_pg_pool *pool, bl_err *err);

/* Writes what is queued, stops the thread and frees; w may be NULL. */
void bl_api_command_rows_free(bl_api_command_rows *w);

/* Writes one accepted row: command_id, organization_id, command_type,
 * topic, subject (may be NULL), request_sha256, response (all borrowed
 * until this returns), and waits until it committed. Returns 0, or -1
 * with err. */
int bl_api_command_rows_write(bl_api_command_rows *w, const char *const row[7], bl_err *err);

#endif
