-- The credential epoch counts the revocations of an account's sessions: a
-- new password and every change of status add one, in the same UPDATE that
-- makes the change. A login notes the epoch when it checks the password and
-- gives up its new session when the epoch has moved by the time the session
-- exists, so a login in flight cannot outlive a revocation. Existing rows
-- start at 0: only changes of the epoch matter, never its value.

-- +goose Up
ALTER TABLE users ADD COLUMN credential_epoch bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN credential_epoch;
