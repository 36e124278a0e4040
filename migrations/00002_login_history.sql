-- Every login attempt on a known account, successful or not. Rows are only
-- ever added: a trigger refuses updates, so the history cannot be rewritten.
-- Deleting an account deletes its history with it.

-- +goose Up
CREATE TABLE login_history (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    method     text NOT NULL,
    success    boolean NOT NULL
);

CREATE INDEX login_history_user_at ON login_history (user_id, at);

-- +goose StatementBegin
CREATE FUNCTION login_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'login_history is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER login_history_no_update
    BEFORE UPDATE ON login_history
    FOR EACH ROW EXECUTE FUNCTION login_history_append_only();

-- +goose Down
DROP TABLE login_history;
DROP FUNCTION login_history_append_only();
