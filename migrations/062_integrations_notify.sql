-- Tells every `busline connect <provider>` (connectors/integration_source.h)
-- that an integration of a provider changed what it runs on: inserted,
-- deleted, or its status, settings (rules included) or organization changed.
-- Payload: the provider, so each connector reloads only for its own rows.
-- Token refreshes, sync bookkeeping and error counters change nothing a
-- connector loads, so they do not wake every connector on each refresh.
CREATE FUNCTION integrations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('busline_integrations', OLD.provider);
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.settings = NEW.settings
       AND OLD.organization_id = NEW.organization_id AND OLD.provider = NEW.provider THEN
        RETURN NEW;
    END IF;
    PERFORM pg_notify('busline_integrations', NEW.provider);
    RETURN NEW;
END
$$;

CREATE TRIGGER integrations_notify
    AFTER INSERT OR UPDATE OR DELETE ON integrations
    FOR EACH ROW EXECUTE FUNCTION integrations_notify();
