-- Document 001's integrations API (api/attendance/): who connected an
-- integration (connectedBy: the API key or user id of the connect, NULL
-- for rows made before) and when it was disconnected. A disconnected
-- integration keeps its row (tokens cleared, status 'disconnected') so its
-- history and the cleanup run of the disconnect stay readable.
ALTER TABLE integrations
    ADD COLUMN connected_by text,
    ADD COLUMN disconnected_at timestamptz;
