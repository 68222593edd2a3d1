-- Per-endpoint TLS (connectors/webhook/policy/endpoint_tls.h): a client
-- certificate and its key for mutual TLS, and a CA bundle trusted instead of
-- the system's for that endpoint, as PEM text. The key is sealed with the
-- keyring like the signing secrets (bound to "<id>/tls"); the certificates
-- are public. Certificate and key come together.
ALTER TABLE webhook_endpoints
    ADD COLUMN tls_client_certificate text,
    ADD COLUMN tls_client_key_sealed text,
    ADD COLUMN tls_ca_certificate text,
    ADD CONSTRAINT webhook_endpoints_tls_pair
        CHECK ((tls_client_certificate IS NULL) = (tls_client_key_sealed IS NULL));
