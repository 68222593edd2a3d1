-- State of SaaS connectors (connectors/state_store.h): durable key/value
-- pairs per integration, such as the Jira issue created for a risk
-- ("issue/<risk id>" -> "OPS-12") or the events already handled
-- ("done/<event id>/<rule>"), so a connector killed and restarted mid-run
-- neither repeats nor loses an action. integration_id is the integration's
-- id (the integrations API's, or a config file's); no foreign key, so
-- connectors also run from a config file.
CREATE TABLE connector_state (
    integration_id text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 512),
    value text NOT NULL CHECK (length(value) <= 512),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (integration_id, key)
);
