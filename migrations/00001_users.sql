-- Accounts. The latest successful login is kept on the row itself
-- (last_login_*, login_count) so that GET /user is one query; the full
-- history lives in login_history.

-- +goose Up
CREATE TABLE users (
    id                    uuid PRIMARY KEY, -- UUIDv7, made by the adapter
    email                 text NOT NULL,    -- as typed
    email_key             text NOT NULL,    -- case-folded; what uniqueness uses
    name                  text NOT NULL DEFAULT '',
    avatar                text NOT NULL DEFAULT '',
    phone                 text,             -- E.164; NULL when not bound
    password_hash         text NOT NULL DEFAULT '',
    totp_secret           bytea,            -- nonce || XChaCha20-Poly1305 ciphertext
    totp_key_id           text,             -- which key sealed totp_secret
    lark                  jsonb,
    active                boolean NOT NULL,
    login_count           bigint NOT NULL DEFAULT 0,
    last_login_at         timestamptz,
    last_login_ip         text,
    last_login_user_agent text,
    last_login_method     text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- The adapter maps violations of these two by name to EMAIL_TAKEN and
    -- PHONE_TAKEN, so their names are part of the contract.
    CONSTRAINT users_email_key_unique UNIQUE (email_key),
    CONSTRAINT users_phone_unique UNIQUE (phone),
    CONSTRAINT users_email_key_not_empty CHECK (email_key <> ''),
    CONSTRAINT users_phone_not_empty CHECK (phone <> ''),
    CONSTRAINT users_totp_sealed CHECK ((totp_secret IS NULL) = (totp_key_id IS NULL))
);

-- List pages through accounts oldest first.
CREATE INDEX users_created_at_id ON users (created_at, id);

-- +goose Down
DROP TABLE users;
