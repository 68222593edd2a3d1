/* The endpoint's payload transformation in the delivery worker (see
 * bl_deliver_transform_body): applied once per attempt, before signing (a
 * job held back by a rate limit keeps the body it already made). */
#include "connectors/webhook/workers/deliver_internal.h"

#include "connectors/webhook/policy/transformation.h"

#include <stdio.h>
#include <stdlib.h>

int bl_deliver_transform_body(dl_job *j, int64_t now_ms, bl_err *err)
{
    const bl_webhook_snapshot *s = j->snap;
    if (!s->endpoint->transformation)
        return 0;
    if (!s->transform)
        return bl_err_set(err, BL_EINVAL, "%s", s->transform_error);
    if (j->body)
        return 0;
    j->body = bl_webhook_transformation_apply(s->transform, j->v.body, j->v.body_len, now_ms, &j->body_len, NULL,
                                              err);
    return j->body ? 0 : -1;
}
