-- Sessions ended by a logout (or a reused refresh token): the refresh
-- family id, which every access token of the session carries as "sid".
-- Each API replica keeps the unexpired rows in memory (api/auth/
-- revocations.c): loaded at start and after a lost connection, kept current
-- by NOTIFY busline_session_revoked (payload: the session id), so an access
-- token of an ended session is refused at once, with no query per request.
-- expires_at: when the last access token of the session expires; past it
-- the row may be deleted.
CREATE TABLE api_session_revocations (
    session_id text PRIMARY KEY,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX api_session_revocations_expiry ON api_session_revocations (expires_at);
