/* The replay job actions of `busline webhooks` (store/replay_job_rows.h;
 * the fan-out role, or `replay-requests`, carries the jobs out):
 *   replay --since T [--until T] (--endpoint ID | --org O)   queues a job, prints its id
 *   replay-status [ID] [--org O]                             one job's progress, or the jobs
 *   replay-cancel ID                                         stops a queued or running job
 * T is an RFC 3339 time or a duration ago ("2h"). They need only
 * BUSLINE_PG_URL. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_REPLAY_JOBS_H
#define BUSLINE_CONNECTORS_WEBHOOK_CLI_CMD_REPLAY_JOBS_H

#include <stdbool.h>
#include <stdio.h>

/* True when name is one of the actions above. */
bool bl_cmd_replay_jobs_knows(const char *name);

/* Runs action name with argv (argv[0]: its display name). Returns the exit
 * code: 0 done, 1 failed, 2 bad usage. */
int bl_cmd_replay_jobs(const char *name, int argc, char **argv);

/* Prints the actions' usage lines to out. */
void bl_cmd_replay_jobs_usage(FILE *out);

#endif
