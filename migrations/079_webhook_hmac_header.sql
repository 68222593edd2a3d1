-- A per-endpoint HMAC header beside the Standard Webhooks ones: when
-- hmac_header is set (a header name such as X-Powalyze-Signature or
-- X-Webhook-Signature), every delivery carries "<hmac_header>: sha256=<hex
-- HMAC-SHA256 of the body>" keyed with the secret's text as shown to the
-- user ("whsec_..."). NULL: no such header. The names busline sets itself
-- are refused by the endpoint store (connectors/webhook/store/endpoint_spec.c).
ALTER TABLE webhook_endpoints
    ADD COLUMN hmac_header text
        CHECK (hmac_header ~ '^[A-Za-z0-9!#$%&''*+.^_`|~-]{1,64}$');
