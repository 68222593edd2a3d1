/* The workflow tests' orchestrator process and topic (wf_fixture.h). */
#include "tests/support/wf_fixture.h"

#include "core/kafka_admin.h"
#include "tests/support/outbox_test.h"
#include "tests/support/test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t bl_test_wf_start(const bl_test_api *t, const char *topic, const char *group, const char *log_path,
                       int workers)
{
    /* below the ephemeral range and checked free (see test_calendar_sync_runs) */
    char port[16], threads[16];
    snprintf(port, sizeof port, "%u", bl_outbox_test_free_port());
    snprintf(threads, sizeof threads, "%d", workers);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log_path, "a", stdout);
        if (out)
            dup2(fileno(out), 2); /* the logs */
        const char *bin = getenv("BUSLINE_BIN");
        execl(bin, bin, "workflows", "--pg-url", t->registry.pg_url, "--kafka-brokers", bl_test_kafka_brokers(),
              "--registry-url", t->registry.base_url, "--topics", topic, "--group", group, "--workers", threads,
              "--lease", "2s", "--poll", "50ms", "--allow", "127.0.0.0/8", "--metrics-port", port, (char *)NULL);
        _exit(127);
    }
    return pid;
}

void bl_test_wf_stop(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
}

int bl_test_wf_topic_make(const char *topic, int partitions)
{
    bl_err err = {0};
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    bl_kafka_topic_spec spec = {topic, partitions, 1, NULL};
    const char *names[] = {topic};
    int rc = admin && bl_kafka_admin_create_topics(admin, &spec, 1, 30000, &err) == 0 &&
                     bl_kafka_admin_wait_visible(admin, names, 1, 30000, &err) == 0
                 ? 0
                 : -1;
    if (rc != 0)
        fprintf(stderr, "  topic: %s\n", err.msg);
    bl_kafka_admin_free(admin);
    return rc;
}

void bl_test_wf_topic_drop(const char *topic)
{
    bl_err err = {0};
    bl_kafka_admin *admin = bl_kafka_admin_new(bl_test_kafka_brokers(), NULL, &err);
    const char *names[] = {topic};
    if (admin)
        bl_kafka_admin_delete_topics(admin, names, 1, 30000, &err);
    bl_kafka_admin_free(admin);
}
