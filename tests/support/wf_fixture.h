/* What the workflow tests share: `busline workflows` as a child process
 * over a test API's database and registry, and the event topic it reads. */
#ifndef BUSLINE_TESTS_SUPPORT_WF_FIXTURE_H
#define BUSLINE_TESTS_SUPPORT_WF_FIXTURE_H

#include "tests/support/api_fixture.h"

#include <sys/types.h>

/* Starts `busline workflows` (workers threads, lease 2 s, poll 50 ms,
 * integrations allowed to 127.0.0.0/8) on t's database and registry,
 * reading topic in group, its logs appended to log_path. Returns its pid. */
pid_t bl_test_wf_start(const bl_test_api *t, const char *topic, const char *group, const char *log_path,
                       int workers);

/* Sends sig to pid (ignored when pid <= 0) and waits for it. */
void bl_test_wf_stop(pid_t pid, int sig);

/* Creates topic with partitions and waits until it is visible. Returns 0 or -1 (printed). */
int bl_test_wf_topic_make(const char *topic, int partitions);

/* Deletes topic (best effort). */
void bl_test_wf_topic_drop(const char *topic);

#endif
