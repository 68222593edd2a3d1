/* A private Kafka broker for one test (see private_broker.h). */
#include "tests/support/private_broker.h"

#include "tests/support/outbox_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int private_broker_script(const private_broker *b, const char *verb)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "BUSLINE_STATE_DIR='%s' BUSLINE_KAFKA_PORT=%u BUSLINE_KAFKA_BROKERS='%s' "
             "'%s/scripts/kafka' %s",
             b->state_dir, b->port, b->brokers, BUSLINE_SOURCE_DIR, verb);
    fflush(stderr);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Reuses the broker jars the shared broker was started from, when complete,
 * instead of resolving them again into the private state folder. */
static void link_jars(const private_broker *b)
{
    char target[512], complete[sizeof target + 16], link[128];
    snprintf(target, sizeof target, "%s/.local/kafka/jars", BUSLINE_SOURCE_DIR);
    snprintf(complete, sizeof complete, "%s/.complete", target);
    snprintf(link, sizeof link, "%s/kafka", b->state_dir);
    if (access(complete, F_OK) != 0 || mkdir(link, 0755) != 0)
        return;
    snprintf(link, sizeof link, "%s/kafka/jars", b->state_dir);
    if (symlink(target, link) != 0)
        fprintf(stderr, "  symlink %s: jars are resolved again\n", link);
}

int private_broker_start(private_broker *b, unsigned short port)
{
    snprintf(b->state_dir, sizeof b->state_dir, "/tmp/bl_broker_XXXXXX");
    if (!mkdtemp(b->state_dir))
        return -1;
    link_jars(b);
    /* The controller listens on port + 1. A free port is below the
     * ephemeral range, so no client connection made during an outage takes
     * it before the restart. */
    b->port = port ? port : bl_outbox_test_free_port();
    snprintf(b->brokers, sizeof b->brokers, "127.0.0.1:%u", b->port);
    return b->port ? private_broker_script(b, "start") : -1;
}

void private_broker_remove(private_broker *b)
{
    if (!b->state_dir[0])
        return;
    private_broker_script(b, "stop");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->state_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  could not remove %s\n", b->state_dir);
}
