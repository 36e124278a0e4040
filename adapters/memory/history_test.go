package memory

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// An account keeps its latest perAccount attempts, and all accounts
// together at most maxRecords: reaching it drops the oldest half.
func TestLoginHistoryIsBounded(t *testing.T) {
	h := newLoginHistory()
	h.perAccount, h.maxRecords = 10, 40
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int) domain.LoginRecord {
		return domain.LoginRecord{Time: base.Add(time.Duration(i) * time.Second)}
	}
	for i := range 25 {
		h.add("a", at(i))
	}
	got := h.page("a", domain.HistoryPosition{}, 100)
	if len(got) != 10 || !got[0].Time.Equal(at(24).Time) || !got[9].Time.Equal(at(15).Time) {
		t.Fatalf("account a keeps %d attempts, %v to %v; want the latest 10", len(got), got[len(got)-1].Time, got[0].Time)
	}
	// Four more accounts of 10 bring the total past 40.
	for _, id := range []domain.UserID{"b", "c", "d", "e"} {
		for i := range 10 {
			h.add(id, at(100+i))
		}
		if h.total > h.maxRecords {
			t.Fatalf("%d attempts held, cap %d", h.total, h.maxRecords)
		}
	}
	var n int
	for _, list := range h.byUser {
		n += len(list)
	}
	if n != h.total || n > h.maxRecords {
		t.Fatalf("%d attempts held, total says %d, cap %d", n, h.total, h.maxRecords)
	}
	if len(h.page("a", domain.HistoryPosition{}, 100)) != 0 {
		t.Fatal("the oldest attempts (account a's) survived the cap")
	}
}
