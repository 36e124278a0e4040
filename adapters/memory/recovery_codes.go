package memory

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// RecoveryCodeStore keeps TOTP recovery code digests in memory, with the
// rules of the PostgreSQL table: codes belong to an existing account, and
// one lock makes every call one atomic step. An account holds at most one
// set (domain.RecoveryCodeCount codes), so the store grows only with the
// accounts of its UserStore.
type RecoveryCodeStore struct {
	users ports.UserStore
	mu    sync.Mutex
	// sets maps a canonical user id to its codes, by digest.
	sets map[string]map[string]recoveryCode
}

// recoveryCode is the state of one code: unused, or used at a time.
type recoveryCode struct {
	used   bool
	usedAt time.Time
}

var _ ports.RecoveryCodeStore = (*RecoveryCodeStore)(nil)

// NewRecoveryCodeStore returns an empty store for the accounts of users.
func NewRecoveryCodeStore(users ports.UserStore) *RecoveryCodeStore {
	return &RecoveryCodeStore{users: users, sets: make(map[string]map[string]recoveryCode)}
}

// Replace makes digests the account's only codes, all unused.
func (st *RecoveryCodeStore) Replace(ctx context.Context, userID domain.UserID, digests []string) error {
	id, ok := canonicalUserID(userID)
	if !ok {
		return domain.ErrUserNotFound
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	// Checked under the lock, as the database checks its foreign key in
	// the transaction that inserts.
	if _, err := st.users.ByID(ctx, domain.UserID(id)); err != nil {
		return err
	}
	set := make(map[string]recoveryCode, len(digests))
	for _, d := range digests {
		set[d] = recoveryCode{}
	}
	st.sets[id] = set
	return nil
}

// Spend marks an unused code used and counts the unused ones left.
func (st *RecoveryCodeStore) Spend(_ context.Context, userID domain.UserID, digest string, at time.Time) (int, bool, error) {
	id, _ := canonicalUserID(userID)
	st.mu.Lock()
	defer st.mu.Unlock()
	set := st.sets[id]
	code, ok := set[digest]
	if !ok || code.used {
		return 0, false, nil
	}
	set[digest] = recoveryCode{used: true, usedAt: at}
	return unusedIn(set), true, nil
}

// Count returns how many unused codes the account has.
func (st *RecoveryCodeStore) Count(_ context.Context, userID domain.UserID) (int, error) {
	id, _ := canonicalUserID(userID)
	st.mu.Lock()
	defer st.mu.Unlock()
	return unusedIn(st.sets[id]), nil
}

// Void forgets every code of the account.
func (st *RecoveryCodeStore) Void(_ context.Context, userID domain.UserID) error {
	id, _ := canonicalUserID(userID)
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sets, id)
	return nil
}

func unusedIn(set map[string]recoveryCode) int {
	n := 0
	for _, code := range set {
		if !code.used {
			n++
		}
	}
	return n
}

// canonicalUserID is id in the form the UserStore keys accounts by, so
// that any spelling of a UUID names one account, as in PostgreSQL.
func canonicalUserID(id domain.UserID) (string, bool) {
	parsed, err := uuid.Parse(id.String())
	if err != nil {
		return "", false
	}
	return parsed.String(), true
}
