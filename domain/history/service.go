// Package history is the login history service: the caller's own login
// attempts, page by page with an opaque cursor, each placed by the geo
// database, and the retention that deletes old attempts in the background.
package history

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Page sizes of API.md "Login history".
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Policy is every number the service applies.
type Policy struct {
	// Retention is how long an attempt is kept.
	Retention time.Duration
	// PruneInterval is how often the background retention runs.
	PruneInterval time.Duration
	// PruneBatch bounds the rows deleted by one statement, and PrunePause
	// is the rest between two, so a large backlog never holds the store.
	PruneBatch int
	PrunePause time.Duration
}

// Deps are what the service drives.
type Deps struct {
	Store ports.LoginHistory
	Geo   ports.GeoLocator
	Clock ports.Clock
	Log   *slog.Logger
}

// Service is the login history service.
type Service struct {
	deps   Deps
	policy Policy
}

// New returns the service. Every dependency is required: a missing one is
// an error at start-up rather than a nil dereference on a rare path.
func New(d Deps, p Policy) (*Service, error) {
	if err := domain.RequireDependencies("history",
		domain.Dependency{Name: "Store", Missing: d.Store == nil},
		domain.Dependency{Name: "Geo", Missing: d.Geo == nil},
		domain.Dependency{Name: "Clock", Missing: d.Clock == nil},
		domain.Dependency{Name: "Log", Missing: d.Log == nil},
	); err != nil {
		return nil, err
	}
	return &Service{deps: d, policy: p}, nil
}

// Query asks for one page, with the parameters as the client wrote them:
// Limit empty means DefaultLimit, Before empty means from the newest.
type Query struct {
	Limit  string
	Before string
}

// Entry is one attempt with where it came from (nil when unknown).
type Entry struct {
	domain.LoginRecord
	Location *domain.Location
}

// Page is one page of history, newest first. Next is the cursor of the
// following page, empty on the last one.
type Page struct {
	Items []Entry
	Next  string
}

// Page returns one page of the caller's login attempts.
func (s *Service) Page(ctx context.Context, who domain.Claims, q Query) (Page, error) {
	limit, err := parseLimit(q.Limit)
	if err != nil {
		return Page{}, err
	}
	var before domain.HistoryPosition
	if q.Before != "" {
		if before, err = decodeCursor(q.Before); err != nil {
			return Page{}, err
		}
	}
	// One more than asked tells whether a next page exists, so the last
	// page says so instead of pointing at an empty one.
	attempts, err := s.deps.Store.LoginHistory(ctx, who.UserID, before, limit+1)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(attempts) > limit {
		attempts = attempts[:limit]
		p.Next = encodeCursor(attempts[limit-1].Position())
	}
	p.Items = make([]Entry, len(attempts))
	places := map[string]*domain.Location{}
	for i, a := range attempts {
		loc, seen := places[a.IP]
		if !seen {
			loc = s.Locate(a.IP)
			places[a.IP] = loc
		}
		p.Items[i] = Entry{LoginRecord: a.LoginRecord, Location: loc}
	}
	return p, nil
}

// Locate places ip with the geo database: nil without one, or when ip is
// not in it. A nil Service knows no places, so assemblies without login
// history (tests of other routes) still answer GET /user.
func (s *Service) Locate(ip string) *domain.Location {
	if s == nil || ip == "" {
		return nil
	}
	return s.deps.Geo.Locate(ip)
}

// ErrPruneBusy is Prune's answer when another process is pruning the same
// store.
var ErrPruneBusy = errors.New("another process is pruning the login history now")

// Prune deletes the attempts older than the retention, now, and returns
// how many it deleted and the cutoff it applied.
func (s *Service) Prune(ctx context.Context) (int64, time.Time, error) {
	cutoff := s.deps.Clock.Now().Add(-s.policy.Retention)
	n, skipped, err := s.deps.Store.PruneLoginHistory(ctx, cutoff, s.policy.PruneBatch, s.policy.PrunePause)
	if err == nil && skipped {
		err = ErrPruneBusy
	}
	return n, cutoff, err
}

// firstPruneDelay caps the wait before the first background prune, so a
// service restarted more often than the interval still prunes.
const firstPruneDelay = time.Minute

// RunRetention prunes in the background every PruneInterval until ctx
// ends. A prune skipped because another replica runs one is not an error:
// that replica does the work.
func (s *Service) RunRetention(ctx context.Context) {
	wait := min(s.policy.PruneInterval, firstPruneDelay)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, cutoff, err := s.Prune(ctx)
		switch {
		case errors.Is(err, ErrPruneBusy), ctx.Err() != nil:
		case err != nil:
			s.deps.Log.Error("login history: prune failed", "err", err)
		case n > 0:
			s.deps.Log.Info("login history: pruned", "deleted", n, "older_than", cutoff.UTC().Format(time.RFC3339))
		}
		t.Reset(s.policy.PruneInterval)
	}
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	// Plain digits only: Atoi would also take a sign.
	n, err := strconv.Atoi(s)
	if err != nil || s[0] < '0' || s[0] > '9' || n < 1 || n > MaxLimit {
		return 0, domain.Invalid("limit must be a whole number from 1 to " + strconv.Itoa(MaxLimit))
	}
	return n, nil
}

// A cursor is the position of the last attempt of a page: its time in
// Unix microseconds (what the stores keep) and its sequence number, 16
// bytes in base64url. Clients treat it as opaque.
const cursorBytes = 16

func encodeCursor(p domain.HistoryPosition) string {
	var b [cursorBytes]byte
	binary.BigEndian.PutUint64(b[:8], uint64(p.Time.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(p.Seq))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var errBadCursor = domain.Invalid("before must be a cursor from a previous page's next")

func decodeCursor(s string) (domain.HistoryPosition, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != cursorBytes {
		return domain.HistoryPosition{}, errBadCursor
	}
	micros := int64(binary.BigEndian.Uint64(b[:8]))
	seq := int64(binary.BigEndian.Uint64(b[8:]))
	if micros <= 0 || seq < 0 {
		return domain.HistoryPosition{}, errBadCursor
	}
	return domain.HistoryPosition{Time: time.UnixMicro(micros).UTC(), Seq: seq}, nil
}
