package postgres

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

var _ ports.LoginHistory = (*UserStore)(nil)

// LoginHistory returns a page of the account's attempts, newest first. The
// row comparison (at, id) < (before) is what lets PostgreSQL walk the index
// login_history_user_at_id (migrations/00005) backwards from the cursor and
// stop after limit rows, so a page costs the same on any history length.
func (s *UserStore) LoginHistory(ctx context.Context, userID domain.UserID, before domain.HistoryPosition, limit int) ([]domain.LoginAttempt, error) {
	parsed, err := uuid.Parse(userID.String())
	if err != nil || limit < 1 {
		return nil, nil // no account has such an id: no history
	}
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var rows pgx.Rows
	if before.IsZero() {
		rows, err = s.db.pool.Query(ctx, historyPageQuery(false), parsed, limit)
	} else {
		rows, err = s.db.pool.Query(ctx, historyPageQuery(true), parsed, limit, before.Time, before.Seq)
	}
	if err != nil {
		return nil, dbError("read login history", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.LoginAttempt, error) {
		var a domain.LoginAttempt
		var method string
		err := row.Scan(&a.Seq, &a.Time, &a.IP, &a.UserAgent, &method, &a.Success, &a.Locked)
		a.Time = a.Time.UTC()
		a.Method = domain.LoginMethod(method)
		return a, err
	})
	if err != nil {
		return nil, dbError("read login history", err)
	}
	return out, nil
}

// historyPageQuery is the page query, with or without a cursor.
func historyPageQuery(after bool) string {
	where := `user_id = $1`
	if after {
		where += ` AND (at, id) < ($3, $4)`
	}
	return `SELECT id, at, ip, user_agent, method, success, locked FROM login_history
		WHERE ` + where + ` ORDER BY at DESC, id DESC LIMIT $2`
}

// PruneLoginHistory deletes the attempts older than cutoff, batch rows per
// statement (see pruneBatchQuery), resting pause between
// statements so that other writers and autovacuum keep up. Replicas take
// turns through a session advisory lock, held on one pooled connection for
// the whole prune: pg_try_advisory_lock never waits, so a replica that
// finds it taken skips this round.
func (s *UserStore) PruneLoginHistory(ctx context.Context, cutoff time.Time, batch int, pause time.Duration) (deleted int64, skipped bool, err error) {
	batch = max(batch, 1)
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return 0, false, dbError("prune login history", err)
	}
	defer conn.Release()
	lockID := pruneLockID(s.db.schema)
	locked, err := s.tryLock(ctx, conn.Conn(), lockID)
	if err != nil || !locked {
		return 0, !locked && err == nil, err
	}
	defer func() {
		uctx, cancel := s.db.withTimeout(context.WithoutCancel(ctx))
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, lockID); uerr != nil {
			// A session lock lives as long as its connection: close this
			// one rather than hand it back to the pool still holding it.
			_ = conn.Hijack().Close(uctx)
		}
	}()
	for {
		qctx, cancel := s.db.withTimeout(ctx)
		tag, err := conn.Exec(qctx, pruneBatchQuery, cutoff, batch)
		cancel()
		if err != nil {
			return deleted, false, dbError("prune login history", err)
		}
		deleted += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return deleted, false, nil
		}
		select {
		case <-ctx.Done():
			return deleted, false, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// pruneBatchQuery deletes one batch. The ids are collected first (an
// InitPlan over the BRIN index on at) and deleted through the primary key:
// with id IN (subquery) the planner may instead join against a scan of
// the whole table.
const pruneBatchQuery = `DELETE FROM login_history
	WHERE id = ANY(ARRAY(SELECT id FROM login_history WHERE at < $1 LIMIT $2))`

func (s *UserStore) tryLock(ctx context.Context, conn *pgx.Conn, id int64) (bool, error) {
	ctx, cancel := s.db.withTimeout(ctx)
	defer cancel()
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&ok); err != nil {
		return false, dbError("prune login history: lock", err)
	}
	return ok, nil
}

// pruneLockID is the advisory lock of the prune: one per schema, as for
// migrations, so deployments in different schemas do not wait for each
// other.
func pruneLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gatehouse login history prune\x00" + schema))
	return int64(h.Sum64())
}
