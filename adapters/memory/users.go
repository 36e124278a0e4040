package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// UserStore keeps accounts in memory, with the same rules as the Postgres
// store: unique email keys, phones and Lark binding keys, UUIDv7 ids, login counting, and times
// at microsecond precision. Callers get copies, so nothing they change
// reaches the store except through Create and Update.
type UserStore struct {
	clock ports.Clock
	mu    sync.RWMutex
	users map[domain.UserID]*domain.User // by canonical id; private copies
	// The indexes play the part of the database's unique constraints.
	byEmailKey map[domain.EmailKey]domain.UserID
	byPhone    map[domain.Phone]domain.UserID
	history    loginHistory
	byLark     map[domain.LarkKey]domain.UserID
}

var _ ports.UserStore = (*UserStore)(nil)

// NewUserStore returns an empty store that stamps accounts with clock's time.
func NewUserStore(clock ports.Clock) *UserStore {
	return &UserStore{
		clock:      clock,
		users:      make(map[domain.UserID]*domain.User),
		byEmailKey: make(map[domain.EmailKey]domain.UserID),
		byPhone:    make(map[domain.Phone]domain.UserID),
		history:    newLoginHistory(),
		byLark:     make(map[domain.LarkKey]domain.UserID),
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
		id = domain.UserID(v7.String())
	} else {
		canonical, ok := canonicalID(id)
		if !ok {
			return fmt.Errorf("memory: user id %q is not a UUID", id)
		}
		id = canonical
	}
	if u.EmailKey.IsZero() {
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
	stored := u.Clone()
	st.users[id] = stored
	st.userIndex(stored)
	return nil
}

// ByID returns a copy of the account with the given id.
func (st *UserStore) ByID(_ context.Context, id domain.UserID) (*domain.User, error) {
	canonical, ok := canonicalID(id)
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(canonical)
}

// ByEmailKey returns a copy of the account whose case-folded email is
// emailKey.
func (st *UserStore) ByEmailKey(_ context.Context, emailKey domain.EmailKey) (*domain.User, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(st.byEmailKey[emailKey])
}

// ByPhone returns a copy of the account bound to phone.
func (st *UserStore) ByPhone(_ context.Context, phone domain.Phone) (*domain.User, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(st.byPhone[phone])
}

// ByLark returns a copy of the account bound to the Lark identity key.
func (st *UserStore) ByLark(_ context.Context, key domain.LarkKey) (*domain.User, error) {
	if !key.Valid() {
		return nil, domain.ErrUserNotFound
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.userGet(st.byLark[key])
}

// Update lets change edit a copy of the account and stores its editable
// fields, all under the store's lock; the login count and last login stay
// as stored.
func (st *UserStore) Update(_ context.Context, id domain.UserID, change func(u *domain.User) error) (*domain.User, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.users[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	u := old.Clone()
	if err := change(u); err != nil {
		return nil, err
	}
	if u.EmailKey.IsZero() {
		return nil, errors.New("memory: user has no email key")
	}
	if err := st.userConflict(id, u); err != nil {
		return nil, err
	}
	next := u.Clone()
	next.ID = id
	next.LoginCount, next.LastLogin = old.LoginCount, old.LastLogin
	next.CreatedAt = old.CreatedAt
	next.UpdatedAt = userTime(st.clock.Now())
	st.userUnindex(old)
	st.users[id] = next
	st.userIndex(next)
	return next.Clone(), nil
}

// RecordLogin appends rec to the account's bounded history (see
// loginHistory) and, when it succeeded, counts it and makes it the latest
// login.
func (st *UserStore) RecordLogin(_ context.Context, userID domain.UserID, rec domain.LoginRecord) error {
	id, ok := canonicalID(userID)
	if !ok {
		return domain.ErrUserNotFound
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.users[id]
	if !ok {
		return domain.ErrUserNotFound
	}
	rec.Time = userTime(rec.Time)
	st.history.add(u.ID, rec)
	if !rec.Success {
		return nil
	}
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
		users = append(users, *u.Clone())
	}
	st.mu.RUnlock()
	slices.SortFunc(users, func(a, b domain.User) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return users, nil
}

// Ping always succeeds: memory is always there.
func (st *UserStore) Ping(context.Context) error { return nil }

// memoryKeyID names the one "key" of this store. Nothing here is at rest,
// so nothing is encrypted; the sealed form still carries the account it
// belongs to and a key id, so that it fails to open in the same cases as
// Postgres's: on another account, or under a key id this store lacks.
const memoryKeyID = "memory"

// SealTOTP wraps secret for the account, bound to its canonical id.
func (st *UserStore) SealTOTP(userID domain.UserID, secret string) (*domain.SealedTOTP, error) {
	id, ok := canonicalID(userID)
	if !ok {
		return nil, fmt.Errorf("memory: user id %q is not a UUID", userID)
	}
	return &domain.SealedTOTP{KeyID: memoryKeyID, Data: []byte(id.String() + "\x00" + secret)}, nil
}

// OpenTOTP unwraps what SealTOTP made for the same account.
func (st *UserStore) OpenTOTP(userID domain.UserID, sealed domain.SealedTOTP) (string, error) {
	if sealed.KeyID != memoryKeyID {
		return "", fmt.Errorf("%w: memory: TOTP secret of user %s is sealed with unknown key %q", domain.ErrTOTPUnreadable, userID, sealed.KeyID)
	}
	id, valid := canonicalID(userID)
	owner, secret, ok := strings.Cut(string(sealed.Data), "\x00")
	if !valid || !ok || owner != id.String() || secret == "" {
		return "", fmt.Errorf("%w: memory: TOTP secret of user %s does not open", domain.ErrTOTPUnreadable, userID)
	}
	return secret, nil
}

// userGet returns a copy of the account with canonical id; callers hold
// the lock.
func (st *UserStore) userGet(id domain.UserID) (*domain.User, error) {
	u, ok := st.users[id]
	if !ok {
		return nil, domain.ErrUserNotFound
	}
	return u.Clone(), nil
}

// userConflict reports whether another account than id holds u's email
// key, phone or Lark binding key; callers hold the lock.
func (st *UserStore) userConflict(id domain.UserID, u *domain.User) error {
	if owner, ok := st.byEmailKey[u.EmailKey]; ok && owner != id {
		return domain.ErrEmailTaken
	}
	if owner, ok := st.byPhone[u.Phone]; ok && u.Phone != "" && owner != id {
		return domain.ErrPhoneTaken
	}
	if key, ok := larkKey(u); ok {
		if owner, taken := st.byLark[key]; taken && owner != id {
			return domain.ErrLarkTaken
		}
	}
	return nil
}

// larkKey returns the binding key of u's Lark profile, when it has a
// complete one. Like the database's unique index, which ignores rows with
// a NULL part, a profile without a complete key claims nothing.
func larkKey(u *domain.User) (domain.LarkKey, bool) {
	if u.Lark == nil {
		return domain.LarkKey{}, false
	}
	key := u.Lark.Key()
	return key, key.Valid()
}

// userIndex and userUnindex keep the unique indexes in step with the stored
// accounts; callers hold the lock.
func (st *UserStore) userIndex(u *domain.User) {
	st.byEmailKey[u.EmailKey] = u.ID
	if u.Phone != "" {
		st.byPhone[u.Phone] = u.ID
	}
	if key, ok := larkKey(u); ok {
		st.byLark[key] = u.ID
	}
}

func (st *UserStore) userUnindex(u *domain.User) {
	delete(st.byEmailKey, u.EmailKey)
	if u.Phone != "" {
		delete(st.byPhone, u.Phone)
	}
	if key, ok := larkKey(u); ok {
		delete(st.byLark, key)
	}
}

// canonicalID returns id in the canonical form the store keys accounts by,
// or false when it is not a UUID.
func canonicalID(id domain.UserID) (domain.UserID, bool) {
	parsed, err := uuid.Parse(id.String())
	if err != nil {
		return "", false
	}
	return domain.UserID(parsed.String()), true
}

// userTime keeps what Postgres keeps of a time: UTC, to the microsecond, so
// both stores return the same values.
func userTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
