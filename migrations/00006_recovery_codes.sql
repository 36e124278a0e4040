-- TOTP recovery codes: each account's current set, as SHA-256 digests of
-- the codes (hex), never the codes. 120 random bits need neither a key nor
-- a slow hash, so the digests survive a rotation of GATEHOUSE_SECRET. A
-- code is spent by setting used_at in one UPDATE ... WHERE used_at IS NULL,
-- so two parallel uses of one code succeed once. Making a new set deletes
-- the old one; so do removing or rebinding TOTP and a password reset.
-- Deleting an account deletes its codes with it.

-- +goose Up
CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
