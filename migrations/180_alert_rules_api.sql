-- Alert rules become each organization's own, edited at /v1/alert-rules
-- (api/alerts/route_alert_rules.c): the evaluator reads only them.
--
-- The defaults (the SmartLeakPro document's thresholds, 151_alerts.sql)
-- move to alert_rule_defaults, a template: every organization gets its own
-- copy of each (is_default), now and when it is created (a trigger), which
-- it may edit, disable or delete like any rule it made. A rule applies to
-- all of its organization's custom endpoints (custom_api_id NULL, "bus-wide")
-- or to one (the more specific wins for a type); webhook-failure is
-- bus-wide only.
--
-- comparison: how the measured value meets the threshold to fire (gt: >,
-- gte: >=, lt: <, lte: <=); downtime keeps its >= 100 %.
-- channels: labels (e.g. "ops-pager", "slack:#ops") carried in every
-- alert.opened and alert.resolved event of the rule, for the subscribers
-- (webhook conditions, workflows) to route by.
CREATE TABLE alert_rule_defaults (
    type text PRIMARY KEY CHECK (type IN ('high-latency', 'error-rate', 'rate-limit', 'downtime', 'webhook-failure')),
    threshold double precision NOT NULL CHECK (threshold >= 0),
    comparison text NOT NULL CHECK (comparison IN ('gt', 'gte', 'lt', 'lte')),
    severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    window_seconds integer NOT NULL CHECK (window_seconds BETWEEN 60 AND 86400),
    min_calls integer NOT NULL CHECK (min_calls >= 1)
);
INSERT INTO alert_rule_defaults (type, threshold, comparison, severity, window_seconds, min_calls)
    SELECT type, threshold, CASE type WHEN 'downtime' THEN 'gte' ELSE 'gt' END, severity, window_seconds, min_calls
    FROM alert_rules WHERE organization_id IS NULL;

ALTER TABLE alert_rules
    ADD COLUMN comparison text NOT NULL DEFAULT 'gt' CHECK (comparison IN ('gt', 'gte', 'lt', 'lte')),
    ADD COLUMN channels jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(channels) = 'array'),
    ADD COLUMN is_default boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE alert_rules SET comparison = 'gte' WHERE type = 'downtime';

INSERT INTO alert_rules (organization_id, type, threshold, comparison, severity, window_seconds, min_calls, is_default)
    SELECT o.id, d.type, d.threshold, d.comparison, d.severity, d.window_seconds, d.min_calls, true
    FROM api_organizations o CROSS JOIN alert_rule_defaults d
    ON CONFLICT DO NOTHING;
DELETE FROM alert_rules WHERE organization_id IS NULL;
ALTER TABLE alert_rules ALTER COLUMN organization_id SET NOT NULL;
CREATE INDEX alert_rules_org ON alert_rules (organization_id, created_at DESC);

CREATE FUNCTION alert_rules_seed_defaults() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO alert_rules (organization_id, type, threshold, comparison, severity, window_seconds, min_calls,
                             is_default)
        SELECT NEW.id, d.type, d.threshold, d.comparison, d.severity, d.window_seconds, d.min_calls, true
        FROM alert_rule_defaults d
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER api_organizations_alert_rules AFTER INSERT ON api_organizations
    FOR EACH ROW EXECUTE FUNCTION alert_rules_seed_defaults();
