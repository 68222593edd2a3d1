/* What the files of connectors/workflows share. */
#ifndef BUSLINE_CONNECTORS_WORKFLOWS_WF_INTERNAL_H
#define BUSLINE_CONNECTORS_WORKFLOWS_WF_INTERNAL_H

#include "connectors/workflows/wf_def.h"

/* Adds to problems every onSuccess/onError/onTrue/onFalse naming no step,
 * every step unreachable from the first, and a cycle without a delay
 * (wf_graph.c). d's steps are parsed. */
void bl_wf_graph_check(const bl_wf_def *d, json_t *problems);

#endif
