-- Payload transformations per webhook endpoint (issue 21 item 7;
-- connectors/webhook/policy/transformation.h). transformation: one
-- TransformationRule of the custom-API document (seeds/002: id, name, type,
-- inputSchema, outputSchema, rules, testCases), checked on save (it compiles
-- and its test cases pass) and applied by the delivery worker to the JSON
-- body before it is signed. NULL: the body is sent as built.
ALTER TABLE webhook_endpoints
    ADD COLUMN transformation jsonb
        CHECK (transformation IS NULL OR jsonb_typeof(transformation) = 'object');
