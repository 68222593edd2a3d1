-- What each delivery attempt sent, for the /v1 webhook logs' "payload"
-- (the Powalyze document's webhook_logs.payload): the body's first 4096
-- bytes (BL_DELIVERY_PAYLOAD_MAX, connectors/webhook/store/delivery_log.h)
-- and its whole size, so a reader knows when the excerpt is cut. NULL for
-- an attempt that sent nothing (refused URL, DNS failure, disabled endpoint)
-- and for rows written before this migration.
ALTER TABLE webhook_deliveries
    ADD COLUMN payload_excerpt text CHECK (octet_length(payload_excerpt) <= 4096),
    ADD COLUMN payload_bytes integer CHECK (payload_bytes >= 0);
