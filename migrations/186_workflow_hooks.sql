-- The inbound URL of each `webhook` workflow trigger (connectors/workflows/
-- README.md, "Webhook triggers"): POST /v1/workflows/:id/hooks, signed per
-- Standard Webhooks with the workflow's own secret. The secret ("whsec_...")
-- is kept only sealed with the keyring (AES-256-GCM, the key id inside the
-- sealed text, bound to the workflow id); it is shown once, when an admin
-- asks for a new one (POST /v1/workflows/:id/hook-secret). A replayed
-- webhook-id is refused by the execution it started: its trigger id is
-- "webhook:<webhook-id>", unique per workflow.
CREATE TABLE workflow_hooks (
    workflow_id uuid PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    secret_sealed text NOT NULL,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now()
);
