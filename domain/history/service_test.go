package history

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// fakeStore serves attempts newest first, as the port promises.
type fakeStore struct {
	attempts []domain.LoginAttempt // newest first
	cutoff   time.Time
}

func (f *fakeStore) LoginHistory(_ context.Context, _ domain.UserID, before domain.HistoryPosition, limit int) ([]domain.LoginAttempt, error) {
	var out []domain.LoginAttempt
	for _, a := range f.attempts {
		older := before.IsZero() || a.Time.Before(before.Time) || (a.Time.Equal(before.Time) && a.Seq < before.Seq)
		if older && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakeStore) PruneLoginHistory(_ context.Context, cutoff time.Time, _ int, _ time.Duration) (int64, bool, error) {
	f.cutoff = cutoff
	return 0, true, nil
}

type fakeGeo struct{ calls int }

func (g *fakeGeo) Locate(ip string) *domain.Location {
	g.calls++
	if ip == "203.0.113.1" {
		return &domain.Location{Country: "Japan"}
	}
	return nil
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func newService(n int) (*Service, *fakeStore, *fakeGeo) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	store := &fakeStore{}
	for i := n; i >= 1; i-- {
		ip := "198.51.100.1"
		if i%2 == 0 {
			ip = "203.0.113.1"
		}
		// Pairs share an instant, told apart by Seq.
		store.attempts = append(store.attempts, domain.LoginAttempt{
			LoginRecord: domain.LoginRecord{Time: base.Add(time.Duration(i/2) * time.Second), IP: ip},
			Seq:         int64(i),
		})
	}
	geo := &fakeGeo{}
	s, err := New(Deps{Store: store, Geo: geo, Clock: fixedClock(base.Add(100 * time.Hour)), Log: slog.New(slog.DiscardHandler)}, Policy{Retention: time.Hour, PruneBatch: 10})
	if err != nil {
		panic(err) // every dependency is given above
	}
	return s, store, geo
}

func TestPagesFollowTheCursorToTheEnd(t *testing.T) {
	s, store, geo := newService(7)
	var got []int64
	q := Query{Limit: "3"}
	for pages := 1; ; pages++ {
		p, err := s.Page(t.Context(), domain.Claims{UserID: "u"}, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			got = append(got, store.attempts[len(got)].Seq)
			if (e.IP == "203.0.113.1") != (e.Location != nil) {
				t.Fatalf("attempt from %s has location %+v", e.IP, e.Location)
			}
		}
		if p.Next == "" {
			if pages != 3 || len(got) != 7 {
				t.Fatalf("ended after %d pages with %d attempts, want 3 and 7", pages, len(got))
			}
			break
		}
		q.Before = p.Next
	}
	if geo.calls > 6 { // at most two distinct IPs a page
		t.Fatalf("%d geo lookups for 3 pages, want one per IP and page", geo.calls)
	}
}

func TestExactlyFullLastPageHasNoNext(t *testing.T) {
	s, _, _ := newService(4)
	p, err := s.Page(t.Context(), domain.Claims{UserID: "u"}, Query{Limit: "2"})
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %v, next %q", err, p.Next)
	}
	p, err = s.Page(t.Context(), domain.Claims{UserID: "u"}, Query{Limit: "2", Before: p.Next})
	if err != nil || len(p.Items) != 2 || p.Next != "" {
		t.Fatalf("second page = %d items, next %q, %v; want 2 and no next", len(p.Items), p.Next, err)
	}
	p, err = s.Page(t.Context(), domain.Claims{UserID: "u"}, Query{})
	if err != nil || len(p.Items) != 4 || p.Next != "" {
		t.Fatalf("default page = %d items, next %q, %v", len(p.Items), p.Next, err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	pos := domain.HistoryPosition{Time: time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC), Seq: 1 << 40}
	got, err := decodeCursor(encodeCursor(pos))
	if err != nil || !got.Time.Equal(pos.Time) || got.Seq != pos.Seq {
		t.Fatalf("round trip of %+v = %+v, %v", pos, got, err)
	}
}

func TestMalformedQueriesAreInvalid(t *testing.T) {
	s, _, _ := newService(1)
	for _, q := range []Query{
		{Limit: "0"}, {Limit: "101"}, {Limit: "x"}, {Limit: " 5"}, {Limit: "+5"},
		{Before: "AAAA"}, {Before: "AAAAAAAAAAAAAAAAAAAAAA"}, {Before: "////////////////////////"},
		{Before: encodeCursor(domain.HistoryPosition{Time: time.Now()}) + "="},
	} {
		_, err := s.Page(t.Context(), domain.Claims{UserID: "u"}, q)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeValidationFailed {
			t.Errorf("Page(%+v) = %v, want VALIDATION_FAILED", q, err)
		}
	}
}

func TestPruneAppliesTheRetentionAndReportsBusy(t *testing.T) {
	s, store, _ := newService(1)
	_, cutoff, err := s.Prune(t.Context())
	if !errors.Is(err, ErrPruneBusy) {
		t.Fatalf("Prune = %v, want ErrPruneBusy when the store skipped", err)
	}
	if want := time.Date(2030, 1, 1, 99, 0, 0, 0, time.UTC); !cutoff.Equal(want) || !store.cutoff.Equal(want) {
		t.Fatalf("cutoff %v (store saw %v), want now less the retention, %v", cutoff, store.cutoff, want)
	}
}
