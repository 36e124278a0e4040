package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// UserStore keeps accounts in memory, with the same rules as the Postgres
// store: unique email keys and phones, UUIDv7 ids, login counting, and times
// at microsecond precision. Callers get copies, so nothing they change
// reaches the store except through Create and Update.
type UserStore struct {
	clock ports.Clock
	mu    sync.RWMutex
	users map[string]*domain.User // by canonical id; private copies
	// The indexes play the part of the database's unique constraints.
	byEmailKey map[string]string
	byPhone    map[string]string
}

var _ ports.UserStore = (*UserStore)(nil)

// NewUserStore returns an empty store that stamps accounts with clock's time.
func NewUserStore(clock ports.Clock) *UserStore {
	return &UserStore{
		clock:      clock,
		users:      make(map[string]*domain.User),
		byEmailKey: make(map[string]string),
		byPhone:    make(map[string]string),
	}
}

// Create stores a copy of u, giving it a UUIDv7 id when it has none, and
// sets u.ID, u.CreatedAt and u.UpdatedAt. A new account has no logins.
func (st *UserStore) Create(_ context.Context, u *domain.User) error {
	id := u.ID
	if id == "" {
		v7, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("memory: new user id: %w", err)
		}
		id = v7.String()
	} else {
		parsed, err := uuid.Parse(id)
		if err != nil {
			return fmt.Errorf("memory: user id %q is not a UUID", id)
		}
		id = parsed.String()
	}
	if u.EmailKey == "" {
		return errors.New("memory: user has no email key")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.users[id]; ok {
		return fmt.Errorf("memory: user id %s exists", id)
	}
	if err := st.userConflict(id, u); err != nil {
		return err
	}
	now := userTime(st.clock.Now())
	u.ID, u.CreatedAt, u.UpdatedAt = id, now, now
	u.LoginCount, u.LastLogin = 0, nil
	stored := userCopy(u)
	st.users[id] = stored
	st.userIndex(stored)
	return nil
}

// ByID returns a copy of the account with the given id.
func (st *UserStore) ByID(_ context.Context, id string) (*domain.User, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return nil, domain.ErrUserNotFound
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(parsed.String())
}

// ByEmailKey returns a copy of the account whose case-folded email is
// emailKey.
func (st *UserStore) ByEmailKey(_ context.Context, emailKey string) (*domain.User, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(st.byEmailKey[emailKey])
}

// ByPhone returns a copy of the account bound to phone.
func (st *UserStore) ByPhone(_ context.Context, phone string) (*domain.User, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(st.byPhone[phone])
}

// Update lets change edit a copy of the account and stores its editable
// fields, all under the store's lock; the login count and last login stay
// as stored.
func (st *UserStore) Update(_ context.Context, id string, change func(u *domain.User) error) (*domain.User, error) {
	parsed, err := uuid.Parse(id)
	if err != nil {
		return nil, domain.ErrUserNotFound
	}
	id = parsed.String()
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.users[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	u := userCopy(old)
	if err := change(u); err != nil {
		return nil, err
	}
	if u.EmailKey == "" {
		return nil, errors.New("memory: user has no email key")
	}
	if err := st.userConflict(id, u); err != nil {
		return nil, err
	}
	next := userCopy(u)
	next.ID = id
	next.LoginCount, next.LastLogin = old.LoginCount, old.LastLogin
	next.CreatedAt = old.CreatedAt
	next.UpdatedAt = userTime(st.clock.Now())
	st.userUnindex(old)
	st.users[id] = next
	st.userIndex(next)
	return userCopy(next), nil
}

// RecordLogin counts a successful login and makes it the latest one. The
// port offers no way to read the full history back, so, unlike Postgres,
// this store keeps only what reads can see.
func (st *UserStore) RecordLogin(_ context.Context, userID string, rec domain.LoginRecord) error {
	parsed, err := uuid.Parse(userID)
	if err != nil {
		return domain.ErrUserNotFound
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.users[parsed.String()]
	if !ok {
		return domain.ErrUserNotFound
	}
	if !rec.Success {
		return nil
	}
	rec.Time = userTime(rec.Time)
	u.LoginCount++
	u.LastLogin = &rec
	return nil
}

// List returns copies of every account, oldest first, ids breaking ties as
// they do in Postgres.
func (st *UserStore) List(context.Context) ([]domain.User, error) {
	st.mu.RLock()
	users := make([]domain.User, 0, len(st.users))
	for _, u := range st.users {
		users = append(users, *userCopy(u))
	}
	st.mu.RUnlock()
	slices.SortFunc(users, func(a, b domain.User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return users, nil
}

// Ping always succeeds: memory is always there.
func (st *UserStore) Ping(context.Context) error { return nil }

// userGet returns a copy of the account with canonical id; callers hold
// the lock.
func (st *UserStore) userGet(id string) (*domain.User, error) {
	u, ok := st.users[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	return userCopy(u), nil
}

// userConflict reports whether another account than id holds u's email key
// or phone; callers hold the lock.
func (st *UserStore) userConflict(id string, u *domain.User) error {
	if owner, ok := st.byEmailKey[u.EmailKey]; ok && owner != id {
		return domain.ErrEmailTaken
	}
	if owner, ok := st.byPhone[u.Phone]; ok && u.Phone != "" && owner != id {
		return domain.ErrPhoneTaken
	}
	return nil
}

// userIndex and userUnindex keep the unique indexes in step with the stored
// accounts; callers hold the lock.
func (st *UserStore) userIndex(u *domain.User) {
	st.byEmailKey[u.EmailKey] = u.ID
	if u.Phone != "" {
		st.byPhone[u.Phone] = u.ID
	}
}

func (st *UserStore) userUnindex(u *domain.User) {
	delete(st.byEmailKey, u.EmailKey)
	if u.Phone != "" {
		delete(st.byPhone, u.Phone)
	}
}

// userCopy copies u deeply enough that no pointer is shared with it.
func userCopy(u *domain.User) *domain.User {
	c := *u
	if u.Lark != nil {
		lark := *u.Lark
		c.Lark = &lark
	}
	if u.LastLogin != nil {
		last := *u.LastLogin
		c.LastLogin = &last
	}
	return &c
}

// userTime keeps what Postgres keeps of a time: UTC, to the microsecond, so
// both stores return the same values.
func userTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
