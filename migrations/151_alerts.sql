-- Alerts (seed document 002's PerformanceAlert and APIAlert, with the
-- thresholds of the SmartLeakPro document): rules, and the alerts the
-- evaluator (api/alerts/evaluator.c) opens, updates and resolves.
--
-- A rule applies to every organization (organization_id NULL) or to one,
-- and to every custom endpoint (custom_api_id NULL) or to one; for each
-- endpoint and type the most specific rule wins (an endpoint's own over its
-- organization's over the bus-wide default), and a disabled one silences
-- that type there. webhook-failure is bus-wide per organization: its
-- webhook deliveries that failed at an attempt above 3.
--   high-latency    p95 response time (ms) over the window  > threshold
--   error-rate      percent of calls answered >= 500        > threshold
--   rate-limit      percent of calls answered 429           > threshold
--   downtime        percent of calls answered >= 500        >= threshold
--   webhook-failure failed deliveries past attempt 3        > threshold
-- Only with at least min_calls calls (deliveries) in the window.
CREATE TABLE alert_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid REFERENCES api_organizations (id) ON DELETE CASCADE,
    custom_api_id uuid REFERENCES custom_apis (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (type IN ('high-latency', 'error-rate', 'rate-limit', 'downtime', 'webhook-failure')),
    threshold double precision NOT NULL CHECK (threshold >= 0),
    severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    window_seconds integer NOT NULL DEFAULT 300 CHECK (window_seconds BETWEEN 60 AND 86400),
    min_calls integer NOT NULL DEFAULT 1 CHECK (min_calls >= 1),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (type <> 'webhook-failure' OR custom_api_id IS NULL),
    CHECK (custom_api_id IS NULL OR organization_id IS NOT NULL)
);
CREATE UNIQUE INDEX alert_rules_scope ON alert_rules (
    coalesce(organization_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(custom_api_id, '00000000-0000-0000-0000-000000000000'), type);

-- The defaults, for every organization and endpoint: the SmartLeakPro
-- document's "temps de réponse > 2s, taux d'erreur > 5 %, échec de webhook
-- > 3 tentatives", plus rate limiting (more than a tenth of the calls
-- refused) and downtime (every call of the window failed).
INSERT INTO alert_rules (type, threshold, severity, window_seconds, min_calls) VALUES
    ('high-latency', 2000, 'medium', 300, 5),
    ('error-rate', 5, 'high', 300, 5),
    ('rate-limit', 10, 'low', 300, 5),
    ('downtime', 100, 'critical', 300, 3),
    ('webhook-failure', 0, 'high', 300, 1);

-- One row per alert: opened once (at most one open per organization,
-- type and subject), its current value updated while it lasts, resolved
-- when its condition clears. subject: "custom_api:<id>" or "webhooks".
CREATE TABLE api_alerts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES api_organizations (id) ON DELETE CASCADE,
    rule_id uuid REFERENCES alert_rules (id) ON DELETE SET NULL,
    custom_api_id uuid,
    subject text NOT NULL,
    type text NOT NULL,
    threshold double precision NOT NULL,
    current_value double precision NOT NULL,
    severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE UNIQUE INDEX api_alerts_one_open ON api_alerts (organization_id, type, subject) WHERE resolved_at IS NULL;
CREATE INDEX api_alerts_org_time ON api_alerts (organization_id, created_at DESC);
CREATE INDEX api_alerts_severity_time ON api_alerts (severity, created_at);
