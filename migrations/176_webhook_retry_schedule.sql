-- Retry schedules per webhook endpoint (store/endpoint_store.h,
-- consumers/retry_policy.h). retry_schedule: explicit delays in seconds
-- before retry 1, 2, ... instead of the exponential backoff (NULL: that
-- backoff); max_attempts then holds the schedule's length + 1.
-- max_age_seconds: a delivery older than this, from its creation, is
-- dead-lettered whatever its attempts (NULL: no limit).
ALTER TABLE webhook_endpoints
    ADD COLUMN retry_schedule integer[]
        CHECK (retry_schedule IS NULL OR (cardinality(retry_schedule) BETWEEN 1 AND 20
               AND 1 <= ALL (retry_schedule) AND 604800 >= ALL (retry_schedule))),
    ADD COLUMN max_age_seconds integer CHECK (max_age_seconds BETWEEN 1 AND 2592000);
