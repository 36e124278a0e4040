package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// RecoveryCodeStore keeps TOTP recovery code digests in the recovery_codes
// table (migrations/00006_recovery_codes.sql).
type RecoveryCodeStore struct {
	db *DB
}

var _ ports.RecoveryCodeStore = (*RecoveryCodeStore)(nil)

// NewRecoveryCodeStore returns a store on db.
func NewRecoveryCodeStore(db *DB) *RecoveryCodeStore {
	return &RecoveryCodeStore{db: db}
}

// Replace deletes the account's codes and inserts digests in one
// transaction. It first locks the account's row, so parallel replaces of
// one account run one after the other and the last one's set is all that
// remains: without the lock, two could each delete the old set and both
// insert theirs. FOR NO KEY UPDATE conflicts with itself and with updates
// of the account, but not with the key-share locks of inserts that merely
// reference it (login history).
func (s *RecoveryCodeStore) Replace(ctx context.Context, userID domain.UserID, digests []string) error {
	parsed, err := uuid.Parse(userID.String())
	if err != nil {
		return domain.ErrUserNotFound
	}
	id := parsed.String()
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	err = pgx.BeginFunc(ctx, s.db.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO recovery_codes (user_id, code_hash)
			SELECT $1, d FROM unnest($2::text[]) AS d
			ON CONFLICT DO NOTHING`, id, digests)
		return err
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == codeForeignKeyViolation:
		return domain.ErrUserNotFound
	case err != nil:
		return dbError("replace recovery codes", err)
	}
	return nil
}

// Spend sets used_at of the unused code in one statement: its WHERE
// used_at IS NULL is checked again under the row lock, so of parallel
// spends of one code one updates the row and the others find it used. The
// count of what is left comes in the same statement, from the snapshot
// the statement started with, so it still counts the code being spent;
// a code of the account spent in parallel by another statement may not be
// reflected yet. A wrong digest costs one primary key lookup, whether or
// not the account exists.
func (s *RecoveryCodeStore) Spend(ctx context.Context, userID domain.UserID, digest string, at time.Time) (int, bool, error) {
	parsed, err := uuid.Parse(userID.String())
	if err != nil {
		return 0, false, nil
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var spent bool
	var unused int
	err = s.db.pool.QueryRow(ctx, `
		WITH spent AS (
			UPDATE recovery_codes SET used_at = $3
			WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
			RETURNING 1
		)
		SELECT EXISTS (SELECT 1 FROM spent),
			CASE WHEN EXISTS (SELECT 1 FROM spent)
				THEN (SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)
				ELSE 0 END`,
		parsed.String(), digest, at).Scan(&spent, &unused)
	if err != nil {
		return 0, false, dbError("spend recovery code", err)
	}
	if !spent {
		return 0, false, nil
	}
	return max(unused-1, 0), true, nil
}

// Count returns how many unused codes the account has.
func (s *RecoveryCodeStore) Count(ctx context.Context, userID domain.UserID) (int, error) {
	parsed, err := uuid.Parse(userID.String())
	if err != nil {
		return 0, nil
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var n int
	err = s.db.pool.QueryRow(ctx,
		`SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`, parsed.String()).Scan(&n)
	if err != nil {
		return 0, dbError("count recovery codes", err)
	}
	return n, nil
}

// Void deletes every code of the account.
func (s *RecoveryCodeStore) Void(ctx context.Context, userID domain.UserID) error {
	parsed, err := uuid.Parse(userID.String())
	if err != nil {
		return nil
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, parsed.String()); err != nil {
		return dbError("void recovery codes", err)
	}
	return nil
}
