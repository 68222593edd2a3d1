/* The chaos run's own Kafka broker and PostgreSQL server (the project's
 * scripts/kafka and scripts/postgres under a state folder of its own, on
 * free ports), so restarting them disturbs no other test, and the busline
 * roles as child processes that can be killed and started again. */
#ifndef BUSLINE_TESTS_CHAOS_CLUSTER_H
#define BUSLINE_TESTS_CHAOS_CLUSTER_H

#include <stddef.h>
#include <sys/types.h>

typedef enum chaos_role_kind {
    CHAOS_REGISTRY = 0,
    CHAOS_PMO,
    CHAOS_RELAY,
    CHAOS_API,
    CHAOS_FANOUT,
    CHAOS_DELIVER,
    CHAOS_ROLE_COUNT
} chaos_role_kind;

typedef struct chaos_cluster {
    char state_dir[256];
    char source_dir[512];
    unsigned short kafka_port, pg_port, registry_port, api_port;
    unsigned short metrics_port[CHAOS_ROLE_COUNT];
    char pg_url[256], brokers[64], registry_url[64];
    pid_t pid[CHAOS_ROLE_COUNT];
    int kills[CHAOS_ROLE_COUNT];
    int kafka_up, pg_up;
} chaos_cluster;

/* The role's name as `busline` knows it ("api", "webhooks deliver"). */
const char *chaos_role_name(chaos_role_kind k);

/* Starts the broker and the database under a fresh state folder, applies
 * the migrations, creates the topics and sets the environment every role
 * reads. Returns 0, or -1 after printing why (call chaos_cluster_stop). */
int chaos_cluster_start(chaos_cluster *c);

/* Starts role k (the registry also registers the schemas). Returns 0 or -1. */
int chaos_role_start(chaos_cluster *c, chaos_role_kind k);

/* SIGKILLs role k, reaps it and starts it again. Returns 0 or -1. */
int chaos_role_kill_restart(chaos_cluster *c, chaos_role_kind k);

/* Stops the broker (its data kept) and starts it again. Returns 0 or -1. */
int chaos_restart_kafka(chaos_cluster *c);

/* Stops PostgreSQL (its data kept) and starts it again. Returns 0 or -1. */
int chaos_restart_postgres(chaos_cluster *c);

/* Runs `busline <args>` to the end and copies its standard output into out.
 * Returns its exit status, or -1. */
int chaos_busline_output(const char *const *args, char *out, size_t len);

/* Stops every role, the broker and the database, and removes the state. */
void chaos_cluster_stop(chaos_cluster *c);

#endif
