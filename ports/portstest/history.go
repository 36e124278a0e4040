package portstest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// HistoryStore is a store of accounts that also reads and prunes their
// login history, as both UserStores do.
type HistoryStore interface {
	ports.UserStore
	ports.LoginHistory
}

// TestLoginHistory runs the ports.LoginHistory contract against the stores
// that newStore opens, each case on its own empty store, in parallel.
func TestLoginHistory(t *testing.T, newStore func(t *testing.T) HistoryStore) {
	for _, c := range historyCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

var historyCases = []struct {
	name string
	run  func(t *testing.T, store HistoryStore)
}{
	{"an account without attempts has an empty history", testHistoryEmpty},
	{"pages run newest first to the end", testHistoryPagesToTheEnd},
	{"attempts written out of order read in order", testHistoryOutOfOrder},
	{"results read back as written", testHistoryResults},
	{"accounts have their own histories", testHistoryAccountsApart},
	{"prune deletes only what is older, in batches", testHistoryPrune},
	{"parallel prunes delete each attempt once", testHistoryParallelPrune},
}

// historyTime is the base of the attempts' times, at the microsecond
// precision both stores keep.
var historyTime = time.Date(2030, 3, 4, 5, 6, 7, 123456000, time.UTC)

func historyAttempt(minute int, result domain.LoginResult) domain.LoginRecord {
	return domain.LoginRecord{
		Time:      historyTime.Add(time.Duration(minute) * time.Minute),
		IP:        fmt.Sprintf("198.51.100.%d", minute%250+1),
		UserAgent: fmt.Sprintf("agent/%d", minute),
		Method:    domain.LoginEmail,
		Success:   result == domain.LoginSucceeded,
		Locked:    result == domain.LoginRefused,
	}
}

func historyRecord(t *testing.T, store HistoryStore, userID domain.UserID, rec domain.LoginRecord) {
	t.Helper()
	if err := store.RecordLogin(t.Context(), userID, rec); err != nil {
		t.Fatalf("RecordLogin = %v", err)
	}
}

// historyAll reads the whole history page by page, checking each page.
func historyAll(t *testing.T, store HistoryStore, userID domain.UserID, limit int) []domain.LoginAttempt {
	t.Helper()
	var all []domain.LoginAttempt
	var before domain.HistoryPosition
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page, err := store.LoginHistory(t.Context(), userID, before, limit)
		if err != nil {
			t.Fatalf("LoginHistory = %v", err)
		}
		if len(page) > limit {
			t.Fatalf("page of %d attempts, limit %d", len(page), limit)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		before = page[len(page)-1].Position()
	}
}

func historyUser(t *testing.T, store HistoryStore, n int) domain.UserID {
	t.Helper()
	u := userNew(n)
	userCreate(t, store, u)
	return u.ID
}

func testHistoryEmpty(t *testing.T, store HistoryStore) {
	id := historyUser(t, store, 1)
	for _, userID := range []domain.UserID{id, "0190b7c4-0000-7000-8000-00000000dead", "not-a-uuid"} {
		page, err := store.LoginHistory(t.Context(), userID, domain.HistoryPosition{}, 10)
		if err != nil || len(page) != 0 {
			t.Errorf("LoginHistory(%s) = %v, %v; want empty", userID, page, err)
		}
	}
}

func testHistoryPagesToTheEnd(t *testing.T, store HistoryStore) {
	id := historyUser(t, store, 1)
	const n = 23
	for i := range n {
		// Pairs of attempts share an instant: Seq orders them.
		historyRecord(t, store, id, historyAttempt(i/2, domain.LoginFailed))
	}
	for _, limit := range []int{1, 7, n, n + 5} {
		all := historyAll(t, store, id, limit)
		if len(all) != n {
			t.Fatalf("limit %d: %d attempts read, want %d", limit, len(all), n)
		}
		seen := map[domain.HistoryPosition]bool{}
		for i, a := range all {
			if seen[a.Position()] {
				t.Fatalf("limit %d: attempt %+v read twice", limit, a.Position())
			}
			seen[a.Position()] = true
			if i > 0 {
				prev := all[i-1]
				if a.Time.After(prev.Time) || (a.Time.Equal(prev.Time) && a.Seq >= prev.Seq) {
					t.Fatalf("limit %d: attempt %d (%v, %d) is not older than the one before (%v, %d)", limit, i, a.Time, a.Seq, prev.Time, prev.Seq)
				}
			}
		}
		if !all[0].Time.Equal(historyAttempt((n-1)/2, "").Time) || !all[n-1].Time.Equal(historyTime) {
			t.Fatalf("limit %d: newest %v, oldest %v", limit, all[0].Time, all[n-1].Time)
		}
	}
}

func testHistoryOutOfOrder(t *testing.T, store HistoryStore) {
	id := historyUser(t, store, 1)
	minutes := rand.Perm(15)
	for _, m := range minutes {
		historyRecord(t, store, id, historyAttempt(m, domain.LoginFailed))
	}
	all := historyAll(t, store, id, 4)
	if len(all) != len(minutes) {
		t.Fatalf("%d attempts read, want %d", len(all), len(minutes))
	}
	for i, a := range all {
		want := historyAttempt(len(minutes)-1-i, domain.LoginFailed)
		if !a.Time.Equal(want.Time) || a.UserAgent != want.UserAgent {
			t.Fatalf("attempt %d = %v %q, want %v %q", i, a.Time, a.UserAgent, want.Time, want.UserAgent)
		}
	}
}

func testHistoryResults(t *testing.T, store HistoryStore) {
	id := historyUser(t, store, 1)
	results := []domain.LoginResult{domain.LoginFailed, domain.LoginRefused, domain.LoginSucceeded, domain.LoginFailed}
	for i, r := range results {
		rec := historyAttempt(i, r)
		rec.Method = []domain.LoginMethod{domain.LoginEmail, domain.LoginSMS, domain.LoginTOTP, domain.LoginLark}[i]
		historyRecord(t, store, id, rec)
	}
	all := historyAll(t, store, id, 10)
	if len(all) != len(results) {
		t.Fatalf("%d attempts read, want %d", len(all), len(results))
	}
	for i, a := range all {
		k := len(results) - 1 - i
		want := historyAttempt(k, results[k])
		want.Method = []domain.LoginMethod{domain.LoginEmail, domain.LoginSMS, domain.LoginTOTP, domain.LoginLark}[k]
		if a.LoginRecord != want {
			t.Errorf("attempt %d = %+v, want %+v", i, a.LoginRecord, want)
		}
		if a.Result() != results[k] {
			t.Errorf("attempt %d result %s, want %s", i, a.Result(), results[k])
		}
	}
}

func testHistoryAccountsApart(t *testing.T, store HistoryStore) {
	a, b := historyUser(t, store, 1), historyUser(t, store, 2)
	for i := range 3 {
		historyRecord(t, store, a, historyAttempt(i, domain.LoginFailed))
	}
	historyRecord(t, store, b, historyAttempt(10, domain.LoginSucceeded))
	if got := historyAll(t, store, a, 10); len(got) != 3 {
		t.Errorf("account a has %d attempts, want 3", len(got))
	}
	got := historyAll(t, store, b, 10)
	if len(got) != 1 || !got[0].Success {
		t.Errorf("account b has %+v, want its one success", got)
	}
}

func testHistoryPrune(t *testing.T, store HistoryStore) {
	a, b := historyUser(t, store, 1), historyUser(t, store, 2)
	for i := range 10 {
		historyRecord(t, store, a, historyAttempt(i, domain.LoginFailed))
		historyRecord(t, store, b, historyAttempt(i, domain.LoginRefused))
	}
	// Minutes 0 to 5 are older than the cutoff; minute 6 is at it and stays.
	cutoff := historyAttempt(6, "").Time
	n, skipped, err := store.PruneLoginHistory(t.Context(), cutoff, 4, time.Millisecond)
	if err != nil || skipped || n != 12 {
		t.Fatalf("PruneLoginHistory = %d, %v, %v; want 12 deleted", n, skipped, err)
	}
	for _, id := range []domain.UserID{a, b} {
		left := historyAll(t, store, id, 100)
		if len(left) != 4 || left[len(left)-1].Time.Before(cutoff) {
			t.Fatalf("after prune: %d attempts, oldest %v; want 4 from %v on", len(left), left[len(left)-1].Time, cutoff)
		}
	}
	if n, _, err := store.PruneLoginHistory(t.Context(), cutoff, 4, 0); err != nil || n != 0 {
		t.Fatalf("second prune = %d, %v; want 0", n, err)
	}
}

func testHistoryParallelPrune(t *testing.T, store HistoryStore) {
	id := historyUser(t, store, 1)
	const n = 30
	for i := range n {
		historyRecord(t, store, id, historyAttempt(i, domain.LoginFailed))
	}
	cutoff := historyAttempt(n, "").Time
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
	)
	for range 4 {
		wg.Go(func() {
			deleted, _, err := store.PruneLoginHistory(t.Context(), cutoff, 3, time.Millisecond)
			if err != nil {
				t.Errorf("PruneLoginHistory = %v", err)
			}
			mu.Lock()
			total += deleted
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != n {
		t.Fatalf("parallel prunes deleted %d in all, want %d", total, n)
	}
	if left := historyAll(t, store, id, 10); len(left) != 0 {
		t.Fatalf("%d attempts left, want none", len(left))
	}
}
