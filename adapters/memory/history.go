package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

var _ ports.LoginHistory = (*UserStore)(nil)

const (
	// historyPerAccount is how many attempts an account keeps: its latest
	// ones. A guesser hammering one account cannot grow it further.
	historyPerAccount = 1000
	// historyMaxRecords caps the attempts of all accounts together, as
	// expiringMaxEntries caps the other maps of this package: at a few
	// hundred bytes an attempt (a user agent is up to 512), a full history
	// costs some 100 MiB. Reaching it drops the oldest half.
	historyMaxRecords = 1 << 18
)

// loginHistory is the in-memory login history: per account, attempts in
// (Time, Seq) order, oldest first. It is not safe for concurrent use: the
// UserStore's mutex guards it.
type loginHistory struct {
	byUser map[domain.UserID][]domain.LoginAttempt
	seq    int64 // the last Seq given out
	total  int   // attempts held, across accounts
	// perAccount and maxRecords are the caps, fields so tests can lower
	// them.
	perAccount, maxRecords int
}

func newLoginHistory() loginHistory {
	return loginHistory{byUser: map[domain.UserID][]domain.LoginAttempt{}, perAccount: historyPerAccount, maxRecords: historyMaxRecords}
}

func compareAttempt(a domain.LoginAttempt, p domain.HistoryPosition) int {
	return cmp.Or(a.Time.Compare(p.Time), cmp.Compare(a.Seq, p.Seq))
}

// add stores rec for the account with canonical id. Attempts usually come
// in time order, but the recorder's writers run in parallel, so each is put
// in its place.
func (h *loginHistory) add(id domain.UserID, rec domain.LoginRecord) {
	h.seq++
	a := domain.LoginAttempt{LoginRecord: rec, Seq: h.seq}
	list := h.byUser[id]
	i, _ := slices.BinarySearchFunc(list, a.Position(), compareAttempt)
	list = slices.Insert(list, i, a)
	h.total++
	if len(list) > h.perAccount {
		drop := len(list) - h.perAccount
		list = slices.Delete(list, 0, drop)
		h.total -= drop
	}
	h.byUser[id] = list
	if h.total > h.maxRecords {
		h.dropOldestHalf()
	}
}

// dropOldestHalf forgets the older half of all attempts. Halving rather
// than dropping one keeps the cost amortised: the next time is at least
// maxRecords/2 attempts away.
func (h *loginHistory) dropOldestHalf() {
	all := make([]domain.HistoryPosition, 0, h.total)
	for _, list := range h.byUser {
		for _, a := range list {
			all = append(all, a.Position())
		}
	}
	slices.SortFunc(all, func(a, b domain.HistoryPosition) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq))
	})
	h.pruneBefore(all[len(all)/2])
}

// pruneBefore forgets the attempts before p and returns how many. Seq
// numbers are unique, so a cut by position, unlike one by time, is exact
// even when many attempts share an instant.
func (h *loginHistory) pruneBefore(p domain.HistoryPosition) int64 {
	var n int64
	for id, list := range h.byUser {
		i, _ := slices.BinarySearchFunc(list, p, compareAttempt)
		if i == 0 {
			continue
		}
		n += int64(i)
		if i == len(list) {
			delete(h.byUser, id)
			continue
		}
		h.byUser[id] = slices.Clone(list[i:])
	}
	h.total -= int(n)
	return n
}

// page returns at most limit attempts of id older than before, newest
// first.
func (h *loginHistory) page(id domain.UserID, before domain.HistoryPosition, limit int) []domain.LoginAttempt {
	list := h.byUser[id]
	end := len(list)
	if !before.IsZero() {
		end, _ = slices.BinarySearchFunc(list, before, compareAttempt)
	}
	out := make([]domain.LoginAttempt, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, list[i])
	}
	return out
}

// LoginHistory returns a page of the account's attempts, newest first.
func (st *UserStore) LoginHistory(_ context.Context, userID domain.UserID, before domain.HistoryPosition, limit int) ([]domain.LoginAttempt, error) {
	id, ok := canonicalID(userID)
	if !ok || limit < 1 {
		return nil, nil
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.history.page(id, before, limit), nil
}

// PruneLoginHistory deletes the attempts older than cutoff in one step
// under the store's lock: memory is one process, and dropping from sorted
// lists is quick, so there is nothing to batch or to coordinate.
func (st *UserStore) PruneLoginHistory(_ context.Context, cutoff time.Time, _ int, _ time.Duration) (int64, bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.history.pruneBefore(domain.HistoryPosition{Time: cutoff}), false, nil
}
