package portstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// RecoveryCodeStores are a recovery code store under test and the user
// store whose accounts its codes belong to.
type RecoveryCodeStores struct {
	Codes ports.RecoveryCodeStore
	Users ports.UserStore
}

// TestRecoveryCodeStore runs the ports.RecoveryCodeStore contract against
// the stores that newStores opens. Every case makes its own accounts, so
// the cases run in parallel.
func TestRecoveryCodeStore(t *testing.T, newStores func(t *testing.T) RecoveryCodeStores) {
	for _, c := range recoveryCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStores(t))
		})
	}
}

var recoveryCases = []struct {
	name string
	run  func(t *testing.T, s RecoveryCodeStores)
}{
	{"a code is spent once", testRecoverySpentOnce},
	{"replace voids the earlier set", testRecoveryReplaceVoids},
	{"void forgets every code", testRecoveryVoid},
	{"codes belong to one account", testRecoveryOneAccount},
	{"unknown accounts have no codes", testRecoveryUnknownAccount},
	{"any spelling of the account id names it", testRecoveryIDSpelling},
	{"parallel spends of one code succeed once", testRecoveryParallelSpend},
	{"parallel replaces leave one whole set", testRecoveryParallelReplace},
}

// recoveryAt is the time codes are spent at; stores may or may not keep it.
var recoveryAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func recoveryAccount(t *testing.T, s RecoveryCodeStores) domain.UserID {
	t.Helper()
	u := &domain.User{Email: uuid.NewString() + "@example.com", Active: true}
	u.EmailKey = domain.NewEmailKey(u.Email)
	if err := s.Users.Create(t.Context(), u); err != nil {
		t.Fatalf("create account: %v", err)
	}
	return u.ID
}

// recoveryDigests returns n distinct digests marked with tag.
func recoveryDigests(tag string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d-%s", tag, i, uuid.NewString())
	}
	return out
}

func recoveryReplace(t *testing.T, s RecoveryCodeStores, user domain.UserID, digests []string) {
	t.Helper()
	if err := s.Codes.Replace(t.Context(), user, digests); err != nil {
		t.Fatalf("Replace: %v", err)
	}
}

func recoverySpend(t *testing.T, s RecoveryCodeStores, user domain.UserID, digest string, wantOK bool, wantLeft int) {
	t.Helper()
	left, ok, err := s.Codes.Spend(t.Context(), user, digest, recoveryAt)
	if err != nil {
		t.Fatalf("Spend: %v", err)
	}
	if ok != wantOK || (ok && left != wantLeft) {
		t.Fatalf("Spend = %d left, %v; want %d, %v", left, ok, wantLeft, wantOK)
	}
}

func recoveryCount(t *testing.T, s RecoveryCodeStores, user domain.UserID, want int) {
	t.Helper()
	n, err := s.Codes.Count(t.Context(), user)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	if n != want {
		t.Fatalf("Count = %d, want %d", n, want)
	}
}

func testRecoverySpentOnce(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	recoveryCount(t, s, user, 0)
	codes := recoveryDigests("a", 10)
	recoveryReplace(t, s, user, codes)
	recoveryCount(t, s, user, 10)

	recoverySpend(t, s, user, codes[3], true, 9)
	recoveryCount(t, s, user, 9)
	recoverySpend(t, s, user, codes[3], false, 0)
	recoverySpend(t, s, user, "not-a-code", false, 0)
	recoveryCount(t, s, user, 9)
	recoverySpend(t, s, user, codes[0], true, 8)
	for i, c := range codes[4:] {
		recoverySpend(t, s, user, c, true, 8-i-1)
	}
	recoverySpend(t, s, user, codes[1], true, 1)
	recoverySpend(t, s, user, codes[2], true, 0)
	recoveryCount(t, s, user, 0)
	for _, c := range codes {
		recoverySpend(t, s, user, c, false, 0)
	}
}

func testRecoveryReplaceVoids(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	old := recoveryDigests("old", 10)
	recoveryReplace(t, s, user, old)
	recoverySpend(t, s, user, old[0], true, 9)
	fresh := recoveryDigests("new", 10)
	recoveryReplace(t, s, user, fresh)
	recoveryCount(t, s, user, 10)
	for _, c := range old {
		recoverySpend(t, s, user, c, false, 0)
	}
	recoverySpend(t, s, user, fresh[9], true, 9)
	// A set may be replaced by the same digests: they start unused again.
	recoveryReplace(t, s, user, fresh)
	recoveryCount(t, s, user, 10)
	recoverySpend(t, s, user, fresh[9], true, 9)
}

func testRecoveryVoid(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	codes := recoveryDigests("v", 10)
	recoveryReplace(t, s, user, codes)
	recoverySpend(t, s, user, codes[0], true, 9)
	for range 2 {
		if err := s.Codes.Void(t.Context(), user); err != nil {
			t.Fatalf("Void: %v", err)
		}
		recoveryCount(t, s, user, 0)
	}
	for _, c := range codes {
		recoverySpend(t, s, user, c, false, 0)
	}
	recoveryReplace(t, s, user, codes)
	recoveryCount(t, s, user, 10)
}

func testRecoveryOneAccount(t *testing.T, s RecoveryCodeStores) {
	alice, bob := recoveryAccount(t, s), recoveryAccount(t, s)
	codes := recoveryDigests("shared", 10)
	recoveryReplace(t, s, alice, codes)
	recoverySpend(t, s, bob, codes[0], false, 0)
	recoveryCount(t, s, bob, 0)
	// Bob may hold the same digests; spending his leaves Alice's unused.
	recoveryReplace(t, s, bob, codes)
	recoverySpend(t, s, bob, codes[0], true, 9)
	recoveryCount(t, s, alice, 10)
	if err := s.Codes.Void(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	recoveryCount(t, s, alice, 10)
	recoverySpend(t, s, alice, codes[0], true, 9)
}

func testRecoveryUnknownAccount(t *testing.T, s RecoveryCodeStores) {
	for _, ghost := range []domain.UserID{domain.UserID(uuid.NewString()), domain.UserID(uuid.Nil.String()), "not-a-uuid"} {
		err := s.Codes.Replace(t.Context(), ghost, recoveryDigests("g", 10))
		if !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("Replace for %q = %v, want %v", ghost, err, domain.ErrUserNotFound)
		}
		recoveryCount(t, s, ghost, 0)
		recoverySpend(t, s, ghost, "g-00", false, 0)
		if err := s.Codes.Void(t.Context(), ghost); err != nil {
			t.Errorf("Void for %q: %v", ghost, err)
		}
	}
}

func testRecoveryIDSpelling(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	upper := uuidUpper(user)
	codes := recoveryDigests("c", 10)
	recoveryReplace(t, s, upper, codes)
	recoveryCount(t, s, user, 10)
	recoverySpend(t, s, user, codes[0], true, 9)
	recoverySpend(t, s, upper, codes[0], false, 0)
	recoveryCount(t, s, upper, 9)
}

func uuidUpper(id domain.UserID) domain.UserID {
	b := []byte(id.String())
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return domain.UserID(b)
}

func testRecoveryParallelSpend(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	codes := recoveryDigests("p", 10)
	recoveryReplace(t, s, user, codes)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range raceGoroutines {
		wg.Go(func() {
			left, ok, err := s.Codes.Spend(context.Background(), user, codes[5], recoveryAt)
			if err != nil {
				t.Errorf("Spend: %v", err)
			}
			if ok {
				wins.Add(1)
				if left != 9 {
					t.Errorf("the winning spend left %d, want 9", left)
				}
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Errorf("%d of %d parallel spends of one code succeeded, want 1", n, raceGoroutines)
	}
	recoveryCount(t, s, user, 9)
}

func testRecoveryParallelReplace(t *testing.T, s RecoveryCodeStores) {
	user := recoveryAccount(t, s)
	sets := make([][]string, raceGoroutines)
	var wg sync.WaitGroup
	for i := range sets {
		sets[i] = recoveryDigests(fmt.Sprintf("set%d", i), 10)
		wg.Go(func() {
			if err := s.Codes.Replace(context.Background(), user, sets[i]); err != nil {
				t.Errorf("Replace: %v", err)
			}
		})
	}
	wg.Wait()
	recoveryCount(t, s, user, 10)
	// Exactly one set survived, whole: spending finds all of its codes and
	// none of the others'.
	winner := -1
	for i, set := range sets {
		left, ok, err := s.Codes.Spend(t.Context(), user, set[0], recoveryAt)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue
		}
		if winner >= 0 {
			t.Fatalf("codes of sets %d and %d both remain", winner, i)
		}
		winner = i
		if left != 9 {
			t.Errorf("after one spend of the surviving set %d left, want 9", left)
		}
	}
	if winner < 0 {
		t.Fatal("no set survived the parallel replaces")
	}
}
