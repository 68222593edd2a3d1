-- The SaaS providers and their types are the code's table
-- (connectors/providers.c): the API refuses an unknown provider before it
-- writes a row, and the type comes from the provider's row. A CHECK listing
-- them here was one more copy to keep in step with every new connector.
ALTER TABLE integrations DROP CONSTRAINT integrations_provider_check;
ALTER TABLE integrations DROP CONSTRAINT integrations_type_check;
