/* Helpers for the outbox and relay tests: a fresh database with the repo's
 * migrations and a fresh topic, numbered test events, `busline relay` child
 * processes, and reading a topic back to check exactly-once and order. */
#ifndef BUSLINE_TEST_OUTBOX_TEST_H
#define BUSLINE_TEST_OUTBOX_TEST_H

#include "core/err.h"
#include "core/kafka_admin.h"

#include <libpq-fe.h>
#include <sys/resource.h>
#include <sys/types.h>

typedef struct bl_outbox_fixture {
    char pg_url[512];
    char topic[128];
    const char *brokers;   /* borrowed */
    bl_kafka_admin *admin; /* on brokers */
    PGconn *conn;          /* to pg_url */
    int partitions;
    int have_db, have_topic;
} bl_outbox_fixture;

/* Creates a database with migrations/ applied and a topic of partitions
 * partitions on brokers. Returns 0, or -1 after printing why; close the
 * fixture either way. */
int bl_outbox_fixture_open(bl_outbox_fixture *f, const char *brokers, int partitions);

/* Deletes the topic and drops the database. */
void bl_outbox_fixture_close(bl_outbox_fixture *f);

/* Appends test event `index` (ce_id "e<index>") for aggregate "a<aggregate>"
 * to topic on conn, which must be inside a transaction; payload_len bytes of
 * wire format (>= 5). Returns 0, or -1 with err. */
int bl_outbox_test_append(PGconn *conn, const char *topic, long index, int aggregate,
                          size_t payload_len, bl_err *err);

/* Appends events first .. first+n-1 in one transaction on f->conn, event i
 * for aggregate i % n_aggregates. Returns 0, or -1 after printing why (the
 * transaction is then rolled back). */
int bl_outbox_test_append_range(bl_outbox_fixture *f, long first, long n, int n_aggregates,
                                size_t payload_len);

/* Starts `$BUSLINE_BIN <args...>` (args NULL-terminated, at most 30) with
 * its stdout/stderr appended to log_path (NULL: inherited) and the
 * environment of the caller. Returns the pid, or -1. */
pid_t bl_test_spawn_busline(const char *const *args, const char *log_path);

/* Starts `$BUSLINE_BIN relay --pg-url .. --kafka-brokers .. <extra...>`
 * (extra NULL-terminated, may be NULL) with its stdout/stderr appended to
 * log_path (NULL: inherited). Returns the pid, or -1. */
pid_t bl_outbox_test_spawn_relay(const char *pg_url, const char *brokers,
                                 const char *const *extra, const char *log_path);

/* A TCP port on 127.0.0.1, below the ephemeral range, that is free with the
 * port after it at the time of the call (a broker and its controller, or
 * --metrics-port), or 0. */
unsigned short bl_outbox_test_free_port(void);

/* 1 when 127.0.0.1:port can be bound now. */
int bl_outbox_test_port_free(unsigned short port);

/* The value of the unlabelled sample `name` on http://127.0.0.1:port/metrics,
 * or -1 when it cannot be read. */
double bl_outbox_test_metric(unsigned short port, const char *name);

/* Waits up to timeout_s until a relay serves /metrics on port (its signal
 * handlers are in place from then on). Returns 0, or -1. */
int bl_outbox_test_wait_serving(unsigned short port, int timeout_s);

/* Sends sig to pid (0: none) and waits for it; *ru (may be NULL) gets its
 * usage. Returns its exit code, 128+signal when a signal ended it, or -1. */
int bl_outbox_test_reap(pid_t pid, int sig, struct rusage *ru);

/* The first column of the first row of sql as a number, or -1 on error. */
long bl_outbox_test_count(PGconn *conn, const char *sql);

/* Waits up to timeout_s until the outbox holds `expected` rows, all sent.
 * Returns 0, or -1 after printing how far it got. */
int bl_outbox_test_wait_all_sent(PGconn *conn, long expected, int timeout_s);

/* Messages in f->topic now (high minus low watermarks), or -1. */
long bl_outbox_test_topic_size(bl_outbox_fixture *f);

/* What reading the topic back found, against the outbox rows. */
typedef struct bl_outbox_readback {
    long messages;       /* messages in the topic */
    long distinct;       /* distinct known ce_ids among them */
    long duplicates;     /* messages whose ce_id was seen before */
    long unknown;        /* messages whose ce_id is not an outbox row */
    long out_of_order;   /* first sightings not exactly seq last+1 of their aggregate */
    long wrong_key;      /* key differs from the row's aggregate id */
    long missing;        /* outbox rows never seen */
} bl_outbox_readback;

/* Reads every message of f->topic up to the high watermarks and compares
 * with the outbox rows of f->conn (rows must not have been deleted).
 * Returns 0 with *out filled, or -1 after printing why. */
int bl_outbox_test_read_back(bl_outbox_fixture *f, bl_outbox_readback *out);

/* The same for a topic written in Kafka transactions: reads with
 * read_committed until every row was seen and 5 s passed without another
 * message (the watermarks count commit records and aborted messages). */
int bl_outbox_test_read_back_committed(bl_outbox_fixture *f, bl_outbox_readback *rb);

/* 1 when rb shows exactly n messages, each outbox row once, in order per
 * aggregate, keyed right; otherwise 0 (print rb to see what differs). */
int bl_outbox_readback_exact(const bl_outbox_readback *rb, long n);

/* Prints the readback on one line to stderr, prefixed by what. */
void bl_outbox_readback_print(const char *what, const bl_outbox_readback *rb);

#endif
