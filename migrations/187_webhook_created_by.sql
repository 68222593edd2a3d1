-- Who created each webhook endpoint (the Powalyze document's webhooks.created_by):
-- the API key's id, or the signed-in user's id, that sent the create request
-- through /v1/webhooks. NULL for endpoints made before this column, or by a
-- path that names no caller (the CLI, the SmartLeakPro surface).
ALTER TABLE webhook_endpoints ADD COLUMN created_by text;
