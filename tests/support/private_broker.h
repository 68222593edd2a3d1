/* A private single-node Kafka broker for one test (never the shared one):
 * scripts/kafka with its own BUSLINE_STATE_DIR under /tmp and its own port,
 * the shared broker's jars linked in when they are complete. The test
 * starts, stops and restarts it (outages) and removes it at the end. */
#ifndef BUSLINE_TEST_PRIVATE_BROKER_H
#define BUSLINE_TEST_PRIVATE_BROKER_H

typedef struct private_broker {
    char state_dir[64];
    unsigned short port;
    char brokers[32];
} private_broker;

/* Runs scripts/kafka <verb> ("start", "stop") for b. Returns its exit code. */
int private_broker_script(const private_broker *b, const char *verb);

/* Makes b's state folder and starts it on port (0: a free port below the
 * ephemeral range). Returns 0, or -1 (remove b either way). */
int private_broker_start(private_broker *b, unsigned short port);

/* Stops b and deletes its state folder. */
void private_broker_remove(private_broker *b);

#endif
