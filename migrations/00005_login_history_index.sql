-- Login history as the self-service route reads it: a page of one
-- account's attempts, newest first, after a cursor (at, id). The index on
-- (user_id, at, id) serves that as one backward range scan, however long
-- the history; it replaces (user_id, at), which it extends. Retention
-- finds the oldest rows in bounded batches through a BRIN index on at:
-- rows arrive in about time order, so a few block ranges hold the old
-- ones, and the index is tiny. A B-tree on at would also offer the planner
-- a scan in at order filtered by user, which it may pick for a page and
-- which reads the whole table for an account with few attempts; BRIN
-- cannot give an order, so pages always take the index above.
-- Refusals by the lockout are recorded too, as locked: rows written before
-- this migration were never refusals.

-- +goose Up
ALTER TABLE login_history ADD COLUMN locked boolean NOT NULL DEFAULT false;
CREATE INDEX login_history_user_at_id ON login_history (user_id, at, id);
DROP INDEX login_history_user_at;
CREATE INDEX login_history_at ON login_history USING brin (at);

-- +goose Down
DROP INDEX login_history_at;
CREATE INDEX login_history_user_at ON login_history (user_id, at);
DROP INDEX login_history_user_at_id;
ALTER TABLE login_history DROP COLUMN locked;
