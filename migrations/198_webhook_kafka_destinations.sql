-- Kafka as a webhook destination (issue 21 item 6): an endpoint of type
-- 'kafka' delivers to its organization's own cluster and topic instead of
-- POSTing to url (which then holds "kafka://<brokers>/<topic>" for display).
-- kafka holds the settings without the SASL password: {brokers, topic,
-- securityProtocol, saslMechanism, saslUsername, sslCaCertificate}; the
-- password is sealed with the keyring like the endpoint secrets.
ALTER TABLE webhook_endpoints
    ADD COLUMN destination_type text NOT NULL DEFAULT 'http'
        CHECK (destination_type IN ('http', 'kafka')),
    ADD COLUMN kafka jsonb,
    ADD COLUMN kafka_sasl_password_sealed text,
    ADD CONSTRAINT webhook_endpoints_kafka_settings
        CHECK ((destination_type = 'kafka') = (kafka IS NOT NULL));
