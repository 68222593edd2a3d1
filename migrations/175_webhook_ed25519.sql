-- Standard Webhooks v1a (ed25519) beside v1 (HMAC-SHA256), per endpoint
-- (connectors/webhook/policy/signature_v1a.h, store/endpoint_store.h).
-- signature_scheme: which signatures webhook-signature carries: 'v1', 'v1a'
-- or 'both'. The ed25519 private key ("whsk_...") is sealed with the keyring
-- like the v1 secret (associated data: "<endpoint id>/ed25519"); its public
-- key ("whpk_...") is stored in the clear, it is what receivers are shown.
-- A rotation keeps the old pair signing until previous_ed25519_expires_at.
ALTER TABLE webhook_endpoints
    ADD COLUMN signature_scheme text NOT NULL DEFAULT 'v1'
        CHECK (signature_scheme IN ('v1', 'v1a', 'both')),
    ADD COLUMN ed25519_key_sealed text,
    ADD COLUMN ed25519_public_key text CHECK (ed25519_public_key ~ '^whpk_[A-Za-z0-9+/]{43}=$'),
    ADD COLUMN previous_ed25519_key_sealed text,
    ADD COLUMN previous_ed25519_public_key text,
    ADD COLUMN previous_ed25519_expires_at timestamptz,
    ADD CHECK ((ed25519_key_sealed IS NULL) = (ed25519_public_key IS NULL)),
    ADD CHECK (signature_scheme = 'v1' OR ed25519_key_sealed IS NOT NULL),
    ADD CHECK ((previous_ed25519_key_sealed IS NULL) = (previous_ed25519_public_key IS NULL)
               AND (previous_ed25519_key_sealed IS NULL) = (previous_ed25519_expires_at IS NULL));
