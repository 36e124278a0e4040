-- Lark binding keys. A Lark open_id is unique only within one app on one
-- platform, so the key is the three together; no two accounts may hold the
-- same one. The profile shown by GET /user (name, avatar, union_id, ...)
-- stays in the lark jsonb column; these columns are what logins look up and
-- what the unique constraint guards. A row either has all three or none
-- (unbound): NULLs never clash in a unique constraint.
--
-- Rows bound before (a lark column with no key) keep their profile but no
-- key: nothing could set one before this migration, and such a row cannot
-- log in by Lark until it is bound again.

-- +goose Up
ALTER TABLE users
    ADD COLUMN lark_platform text,
    ADD COLUMN lark_app_id   text,
    ADD COLUMN lark_open_id  text,
    -- The adapter maps a violation of this one by name to LARK_TAKEN.
    ADD CONSTRAINT users_lark_unique UNIQUE (lark_platform, lark_app_id, lark_open_id),
    ADD CONSTRAINT users_lark_key_whole CHECK (
        (lark_platform IS NULL AND lark_app_id IS NULL AND lark_open_id IS NULL)
        OR (lark_platform <> '' AND lark_app_id <> '' AND lark_open_id <> '')
    );

-- +goose Down
ALTER TABLE users
    DROP CONSTRAINT users_lark_key_whole,
    DROP CONSTRAINT users_lark_unique,
    DROP COLUMN lark_open_id,
    DROP COLUMN lark_app_id,
    DROP COLUMN lark_platform;
