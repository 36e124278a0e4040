package portstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TestUserStore runs the ports.UserStore contract against the stores that
// newStore opens. Every case opens its own empty store, so List sees only
// what that case created, and the cases run in parallel.
func TestUserStore(t *testing.T, newStore func(t *testing.T) ports.UserStore) {
	for _, c := range userCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

// userCases are the behaviours of the UserStore contract, one named function
// each, so a failure names the rule that broke.
var userCases = []struct {
	name string
	run  func(t *testing.T, store ports.UserStore)
}{
	{"create and read back", testUserCreateReadBack},
	{"a new id is a UUIDv7", testUserNewIDIsUUIDv7},
	{"a sealed TOTP secret opens only for its account", testUserSealedTOTPOpensOnlyForItsAccount},
	{"an account whose secret does not open still reads", testUserUnreadableTOTPStillReads},
	{"a new account has no logins", testUserNewHasNoLogins},
	{"a given id is kept", testUserGivenIDKept},
	{"an id in use is refused", testUserIDInUseRefused},
	{"an id that is not a UUID is refused", testUserIDNotUUIDRefused},
	{"an email key is required", testUserEmailKeyRequired},
	{"reads return copies", testUserReadsReturnCopies},
	{"unknown accounts are not found", testUserUnknownNotFound},
	{"writes to unknown accounts are not found", testUserUnknownWritesNotFound},
	{"email taken on create", testUserEmailTakenOnCreate},
	{"email taken on update", testUserEmailTakenOnUpdate},
	{"a new case of one's own email is no conflict", testUserOwnEmailNewCase},
	{"phone taken on create", testUserPhoneTakenOnCreate},
	{"phone taken on update", testUserPhoneTakenOnUpdate},
	{"a cleared phone is free again", testUserClearedPhoneFree},
	{"update writes the editable fields", testUserUpdateWritesEditable},
	{"unbinding TOTP and Lark reads back unbound", testUserUnbindReadsBackUnbound},
	{"update keeps the logins", testUserUpdateKeepsLogins},
	{"record login", testUserRecordLogin},
	{"list is oldest first", testUserListOldestFirst},
	{"one of parallel creates with one email wins", testUserParallelCreatesOneWins},
	{"parallel updates never undo each other", testUserParallelUpdatesSerialize},
	{"a refused change writes nothing", testUserRefusedChangeWritesNothing},
	{"ping", testUserPing},
	{"a Lark binding is found by its key", testUserByLark},
	{"Lark taken on create", testUserLarkTakenOnCreate},
	{"Lark taken on update", testUserLarkTakenOnUpdate},
	{"an unbound Lark key is free again", testUserUnboundLarkFree},
	{"one of parallel Lark bindings of one key wins", testUserParallelLarkBindsOneWins},
}

func testUserCreateReadBack(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.ID = domain.UserID(uuid.NewString())
	u.TOTP = userSeal(t, store, u.ID, "JBSWY3DPEHPK3PXP")
	u.Lark = &domain.LarkProfile{Name: "艾达", EnName: "Ada", AvatarURL: "https://lark.example/a.png", OpenID: "ou_1", UnionID: "on_1"}
	userCreate(t, store, u)

	if u.CreatedAt.IsZero() || u.UpdatedAt.Before(u.CreatedAt) {
		t.Errorf("Create set CreatedAt %v, UpdatedAt %v", u.CreatedAt, u.UpdatedAt)
	}
	userMustEqual(t, "ByID", userByID(t, store, u.ID), u)
	userMustEqual(t, "ByID in upper case", userByID(t, store, domain.UserID(strings.ToUpper(u.ID.String()))), u)
	got, err := store.ByEmailKey(t.Context(), u.EmailKey)
	userCheckGot(t, "ByEmailKey", got, err, u)
	got, err = store.ByPhone(t.Context(), u.Phone)
	userCheckGot(t, "ByPhone", got, err, u)
}

func testUserNewIDIsUUIDv7(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	id, err := uuid.Parse(u.ID.String())
	if err != nil || id.Version() != 7 {
		t.Errorf("Create gave id %q, want a UUIDv7", u.ID)
	}
}

func testUserSealedTOTPOpensOnlyForItsAccount(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	userCreate(t, store, a)
	userCreate(t, store, b)
	const secret = "JBSWY3DPEHPK3PXP"
	sealed := userSeal(t, store, a.ID, secret)
	if got, err := store.OpenTOTP(domain.UserID(strings.ToUpper(a.ID.String())), *sealed); err != nil || got != secret {
		t.Errorf("OpenTOTP for its account = %q, %v; want the secret", got, err)
	}
	if _, err := store.OpenTOTP(b.ID, *sealed); !errors.Is(err, domain.ErrTOTPUnreadable) {
		t.Errorf("OpenTOTP for another account = %v, want ErrTOTPUnreadable", err)
	}
	gone := domain.SealedTOTP{KeyID: "rotated-away", Data: sealed.Data}
	if _, err := store.OpenTOTP(a.ID, gone); !errors.Is(err, domain.ErrTOTPUnreadable) {
		t.Errorf("OpenTOTP under an unknown key = %v, want ErrTOTPUnreadable", err)
	}
	tampered := domain.SealedTOTP{KeyID: sealed.KeyID, Data: append([]byte{}, sealed.Data...)}
	tampered.Data[len(tampered.Data)-1] ^= 1
	got, err := store.OpenTOTP(a.ID, tampered)
	if err == nil && got == secret {
		t.Errorf("a changed sealed secret opened as the original")
	}
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Errorf("the error names the secret: %v", err)
	}
}

func testUserUnreadableTOTPStillReads(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	sealed := userSeal(t, store, u.ID, "JBSWY3DPEHPK3PXP")
	// As if sealed under a key this process no longer has.
	u.TOTP = &domain.SealedTOTP{KeyID: "rotated-away", Data: sealed.Data}
	userUpdate(t, store, u)

	got := userByID(t, store, u.ID)
	userMustEqual(t, "ByID", got, u)
	userMustEqual(t, "ByEmailKey", userByEmailKey(t, store, u.EmailKey), u)
	list, err := store.List(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %d accounts, %v; want 1", len(list), err)
	}
	if _, err := store.OpenTOTP(got.ID, *got.TOTP); !errors.Is(err, domain.ErrTOTPUnreadable) {
		t.Errorf("OpenTOTP = %v, want ErrTOTPUnreadable", err)
	}
	// Updating something else keeps the secret as stored.
	u.Name = "renamed"
	userUpdate(t, store, u)
	userMustEqual(t, "ByID after another update", userByID(t, store, u.ID), u)
}

func testUserNewHasNoLogins(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.LoginCount = 7
	u.LastLogin = &domain.LoginRecord{Time: userSuiteTime, Method: domain.LoginEmail, Success: true}
	userCreate(t, store, u)
	got := userByID(t, store, u.ID)
	if got.LoginCount != 0 || got.LastLogin != nil {
		t.Errorf("new account has LoginCount %d, LastLogin %+v; want 0, nil", got.LoginCount, got.LastLogin)
	}
}

func testUserGivenIDKept(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.ID = domain.UserID(uuid.NewString())
	want := u.ID
	userCreate(t, store, u)
	if u.ID != want {
		t.Errorf("Create changed the id %s to %s", want, u.ID)
	}
	userByID(t, store, want)
}

func testUserIDInUseRefused(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	again := userNew(2)
	again.ID = u.ID
	if err := store.Create(t.Context(), again); err == nil {
		t.Error("Create with an id in use succeeded")
	}
	userMustEqual(t, "the account holding the id", userByID(t, store, u.ID), u)
}

func testUserIDNotUUIDRefused(t *testing.T, store ports.UserStore) {
	bad := userNew(1)
	bad.ID = "not-a-uuid"
	if err := store.Create(t.Context(), bad); err == nil {
		t.Error("Create with an id that is not a UUID succeeded")
	}
}

func testUserEmailKeyRequired(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.EmailKey = domain.EmailKey{}
	if err := store.Create(t.Context(), u); err == nil {
		t.Fatal("Create without an email key succeeded")
	}
	u = userNew(2)
	userCreate(t, store, u)
	u.EmailKey = domain.EmailKey{}
	if err := userWrite(t.Context(), store, u); err == nil {
		t.Error("Update to an empty email key succeeded")
	}
}

func testUserReadsReturnCopies(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.Lark = &domain.LarkProfile{Name: "Ada", OpenID: "ou_1"}
	userCreate(t, store, u)
	want := u.Clone()

	// Neither the value given to Create nor one read back is the stored one.
	u.Name, u.Lark.Name = "changed", "changed"
	got := userByID(t, store, want.ID)
	got.Name, got.Lark.Name = "changed", "changed"
	userRecord(t, store, want.ID, userLogin(0, true))
	got = userByID(t, store, want.ID)
	got.LastLogin.IP = "changed"
	list, err := store.List(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %d accounts, %v; want 1", len(list), err)
	}
	list[0].Lark.Name = "changed"

	want.LoginCount, want.LastLogin = 1, userLastLogin(userLogin(0, true))
	userMustEqual(t, "ByID after changing copies", userByID(t, store, want.ID), want)
}

func testUserUnknownNotFound(t *testing.T, store ports.UserStore) {
	userCreate(t, store, userNew(1))
	ctx := t.Context()
	for name, read := range map[string]func() (*domain.User, error){
		"ByID unknown":     func() (*domain.User, error) { return store.ByID(ctx, domain.UserID(uuid.Must(uuid.NewV7()).String())) },
		"ByID not a UUID":  func() (*domain.User, error) { return store.ByID(ctx, "not-a-uuid") },
		"ByID empty":       func() (*domain.User, error) { return store.ByID(ctx, "") },
		"ByEmailKey":       func() (*domain.User, error) { return store.ByEmailKey(ctx, domain.NewEmailKey("nobody@example.com")) },
		"ByEmailKey empty": func() (*domain.User, error) { return store.ByEmailKey(ctx, domain.EmailKey{}) },
		"ByPhone":          func() (*domain.User, error) { return store.ByPhone(ctx, "+8613900000000") },
		"ByPhone empty":    func() (*domain.User, error) { return store.ByPhone(ctx, "") },
	} {
		if u, err := read(); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("%s = %+v, %v; want ErrUserNotFound", name, u, err)
		}
	}
}

func testUserUnknownWritesNotFound(t *testing.T, store ports.UserStore) {
	userCreate(t, store, userNew(1))
	ctx := t.Context()
	ghost := userNew(2)
	ghost.ID = domain.UserID(uuid.Must(uuid.NewV7()).String())
	if err := userWrite(ctx, store, ghost); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("Update of an unknown account = %v, want ErrUserNotFound", err)
	}
	ghost.ID = "not-a-uuid"
	if err := userWrite(ctx, store, ghost); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("Update of a malformed id = %v, want ErrUserNotFound", err)
	}
	for _, id := range []domain.UserID{domain.UserID(uuid.Must(uuid.NewV7()).String()), "not-a-uuid"} {
		if err := store.RecordLogin(ctx, id, userLogin(0, true)); !errors.Is(err, domain.ErrUserNotFound) {
			t.Errorf("RecordLogin(%q) = %v, want ErrUserNotFound", id, err)
		}
	}
}

func testUserEmailTakenOnCreate(t *testing.T, store ports.UserStore) {
	first := userNew(1)
	userCreate(t, store, first)
	// Callers pass the case-folded key: an address differing only by
	// case has the same key and must collide.
	dup := userNew(2)
	dup.Email = strings.ToUpper(first.Email)
	dup.EmailKey = first.EmailKey
	if err := store.Create(t.Context(), dup); !errors.Is(err, domain.ErrEmailTaken) {
		t.Fatalf("Create with a taken email = %v, want ErrEmailTaken", err)
	}
	// Nothing of the refused account was stored.
	if _, err := store.ByPhone(t.Context(), dup.Phone); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("ByPhone of the refused account = %v, want ErrUserNotFound", err)
	}
	userMustEqual(t, "first account", userByID(t, store, first.ID), first)
}

func testUserEmailTakenOnUpdate(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	userCreate(t, store, a)
	userCreate(t, store, b)
	want := b.Clone()
	b.Email, b.EmailKey = strings.ToUpper(a.Email), a.EmailKey
	b.Name = "not written"
	if err := userWrite(t.Context(), store, b); !errors.Is(err, domain.ErrEmailTaken) {
		t.Fatalf("Update to a taken email = %v, want ErrEmailTaken", err)
	}
	userMustEqual(t, "refused account", userByID(t, store, b.ID), want)
}

func testUserOwnEmailNewCase(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	userCreate(t, store, a)
	userCreate(t, store, b)
	// Changing only the case of one's own address is no conflict.
	b.Email = strings.ToUpper(b.Email)
	userUpdate(t, store, b)
	userMustEqual(t, "ByEmailKey", userByEmailKey(t, store, b.EmailKey), b)
}

func testUserPhoneTakenOnCreate(t *testing.T, store ports.UserStore) {
	first := userNew(1)
	userCreate(t, store, first)
	dup := userNew(2)
	dup.Phone = first.Phone
	if err := store.Create(t.Context(), dup); !errors.Is(err, domain.ErrPhoneTaken) {
		t.Fatalf("Create with a taken phone = %v, want ErrPhoneTaken", err)
	}
	if _, err := store.ByEmailKey(t.Context(), dup.EmailKey); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("ByEmailKey of the refused account = %v, want ErrUserNotFound", err)
	}
}

func testUserPhoneTakenOnUpdate(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	userCreate(t, store, a)
	userCreate(t, store, b)
	want := b.Clone()
	b.Phone = a.Phone
	if err := userWrite(t.Context(), store, b); !errors.Is(err, domain.ErrPhoneTaken) {
		t.Fatalf("Update to a taken phone = %v, want ErrPhoneTaken", err)
	}
	userMustEqual(t, "refused account", userByID(t, store, b.ID), want)
	userMustEqual(t, "ByPhone", userByPhone(t, store, a.Phone), a)
}

func testUserClearedPhoneFree(t *testing.T, store ports.UserStore) {
	a, b, c := userNew(1), userNew(2), userNew(3)
	b.Phone, c.Phone = "", "" // many accounts may have no phone
	userCreate(t, store, a)
	userCreate(t, store, b)
	userCreate(t, store, c)
	phone := a.Phone

	a.Phone = ""
	userUpdate(t, store, a)
	if _, err := store.ByPhone(t.Context(), phone); !errors.Is(err, domain.ErrUserNotFound) {
		t.Fatalf("ByPhone of a cleared phone = %v, want ErrUserNotFound", err)
	}
	if got := userByID(t, store, a.ID); got.Phone != "" {
		t.Errorf("cleared phone reads back as %q", got.Phone)
	}
	b.Phone = phone
	userUpdate(t, store, b)
	userMustEqual(t, "ByPhone", userByPhone(t, store, phone), b)
}

func testUserUpdateWritesEditable(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	created := u.CreatedAt

	u.Email, u.EmailKey = "Renamed@Example.org", domain.NewEmailKey("renamed@example.org")
	u.Name, u.Avatar, u.Phone = "Renamed", "https://img.example/new.png", "+8613800009999"
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3"
	u.TOTP = userSeal(t, store, u.ID, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	u.Lark = &domain.LarkProfile{Name: "L", EnName: "L", AvatarURL: "https://lark.example/l.png", OpenID: "ou_2", UnionID: "on_2"}
	u.Active = false
	u.CredentialEpoch = 3
	u.CreatedAt = time.Time{} // not editable: ignored
	userUpdate(t, store, u)
	if u.UpdatedAt.Before(created) {
		t.Errorf("UpdatedAt %v is before CreatedAt %v", u.UpdatedAt, created)
	}
	u.CreatedAt = created
	userMustEqual(t, "ByID", userByID(t, store, u.ID), u)
	userMustEqual(t, "ByEmailKey", userByEmailKey(t, store, domain.NewEmailKey("renamed@example.org")), u)
	if _, err := store.ByEmailKey(t.Context(), domain.NewEmailKey("user1@example.com")); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("the old email key still finds the account: %v", err)
	}
}

func testUserUnbindReadsBackUnbound(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.ID = domain.UserID(uuid.NewString())
	u.TOTP = userSeal(t, store, u.ID, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	u.Lark = &domain.LarkProfile{Name: "L", OpenID: "ou_2"}
	userCreate(t, store, u)
	u.TOTP, u.Lark = nil, nil
	userUpdate(t, store, u)
	userMustEqual(t, "ByID after unbinding", userByID(t, store, u.ID), u)
}

func testUserUpdateKeepsLogins(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	stale := u.Clone() // read before the login
	rec := userLogin(0, true)
	userRecord(t, store, u.ID, rec)

	stale.Name = "edited"
	stale.LoginCount, stale.LastLogin = 99, nil
	userUpdate(t, store, stale)
	got := userByID(t, store, u.ID)
	if got.Name != "edited" {
		t.Errorf("Name = %q, want edited", got.Name)
	}
	if got.LoginCount != 1 || !userSameLogin(got.LastLogin, userLastLogin(rec)) {
		t.Errorf("after Update LoginCount = %d, LastLogin = %+v; want 1, %+v", got.LoginCount, got.LastLogin, rec)
	}
}

func testUserRecordLogin(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	check := func(step string, count int64, last *domain.LoginRecord) {
		t.Helper()
		got := userByID(t, store, u.ID)
		if got.LoginCount != count || !userSameLogin(got.LastLogin, last) {
			t.Errorf("%s: LoginCount = %d, LastLogin = %+v; want %d, %+v", step, got.LoginCount, got.LastLogin, count, last)
		}
	}
	userRecord(t, store, u.ID, userLogin(0, false))
	check("after a failure", 0, nil)

	first := userLogin(1, true)
	first.Method = domain.LoginSMS
	userRecord(t, store, u.ID, first)
	check("after a success", 1, userLastLogin(first))

	second := userLogin(2, true)
	second.Method = domain.LoginTOTP
	userRecord(t, store, u.ID, second)
	check("after a second success", 2, userLastLogin(second))

	userRecord(t, store, u.ID, userLogin(3, false))
	check("after another failure", 2, userLastLogin(second))
}

func testUserListOldestFirst(t *testing.T, store ports.UserStore) {
	if list, err := store.List(t.Context()); err != nil || len(list) != 0 {
		t.Fatalf("List of an empty store = %d accounts, %v", len(list), err)
	}
	var want []*domain.User
	for i := range 5 {
		u := userNew(i + 1)
		userCreate(t, store, u)
		want = append(want, u)
	}
	list, err := store.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(want) {
		t.Fatalf("List = %d accounts, want %d", len(list), len(want))
	}
	for i := range list {
		userMustEqual(t, fmt.Sprintf("List[%d]", i), &list[i], want[i])
	}
}

func testUserParallelCreatesOneWins(t *testing.T, store ports.UserStore) {
	var wg sync.WaitGroup
	var won, taken atomic.Int32
	errs := make(chan error, raceGoroutines)
	for i := range raceGoroutines {
		wg.Go(func() {
			u := userNew(100 + i) // distinct phones
			// Each racer types the address in its own case.
			u.Email, u.EmailKey = userCaseVariant("Race@Example.com", i), domain.NewEmailKey("race@example.com")
			switch err := store.Create(t.Context(), u); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, domain.ErrEmailTaken):
				taken.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Create = %v, want nil or ErrEmailTaken", err)
	}
	if won.Load() != 1 || taken.Load() != raceGoroutines-1 {
		t.Errorf("%d creates won and %d were refused, want 1 and %d", won.Load(), taken.Load(), raceGoroutines-1)
	}
	if list, err := store.List(t.Context()); err != nil || len(list) != 1 {
		t.Errorf("List = %d accounts, %v; want 1", len(list), err)
	}
}

func testUserParallelUpdatesSerialize(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	var wg sync.WaitGroup
	for range raceGoroutines {
		wg.Go(func() {
			// A read-modify-write that only holds if each one sees the
			// write of the one before.
			if _, err := store.Update(t.Context(), u.ID, func(x *domain.User) error {
				x.Name += "x"
				return nil
			}); err != nil {
				t.Errorf("Update = %v", err)
			}
		})
	}
	wg.Wait()
	if got := userByID(t, store, u.ID).Name; got != u.Name+strings.Repeat("x", raceGoroutines) {
		t.Fatalf("name after %d parallel appends = %q", raceGoroutines, got)
	}
}

func testUserRefusedChangeWritesNothing(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	userCreate(t, store, u)
	stop := errors.New("stop")
	_, err := store.Update(t.Context(), u.ID, func(x *domain.User) error {
		x.Name = "not written"
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Update = %v, want the change's error", err)
	}
	userMustEqual(t, "after a refused change", userByID(t, store, u.ID), u)
}

func testUserPing(t *testing.T, store ports.UserStore) {
	if err := store.Ping(t.Context()); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

// userSuiteTime is a fixed instant with whole microseconds, which every
// store keeps exactly.
var userSuiteTime = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

// userNew returns a distinct, valid account that has not been stored: the
// number n picks its email and phone.
func userNew(n int) *domain.User {
	email := fmt.Sprintf("User%d@Example.com", n)
	return &domain.User{
		Email:        email,
		EmailKey:     domain.NewEmailKey(email),
		Name:         fmt.Sprintf("User %d", n),
		Avatar:       fmt.Sprintf("https://img.example/%d.png", n),
		Phone:        domain.Phone(fmt.Sprintf("+86138%08d", n)),
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Active:       true,
	}
}

// userLogin returns the n-th login attempt of a sequence, each a minute
// after the previous.
func userLogin(n int, success bool) domain.LoginRecord {
	return domain.LoginRecord{
		Time:      userSuiteTime.Add(time.Duration(n) * time.Minute),
		IP:        fmt.Sprintf("203.0.113.%d", n+1),
		UserAgent: fmt.Sprintf("agent/%d", n),
		Method:    domain.LoginEmail,
		Success:   success,
	}
}

// userLastLogin is what LastLogin reads after rec succeeded.
func userLastLogin(rec domain.LoginRecord) *domain.LoginRecord {
	rec.Success = true
	return &rec
}

// userCaseVariant spells s with the letters' case chosen by the bits of n.
func userCaseVariant(s string, n int) string {
	var b strings.Builder
	for i, r := range s {
		if n>>(i%8)&1 == 1 {
			b.WriteString(strings.ToUpper(string(r)))
		} else {
			b.WriteString(strings.ToLower(string(r)))
		}
	}
	return b.String()
}

func userCreate(t *testing.T, store ports.UserStore, u *domain.User) {
	t.Helper()
	if err := store.Create(t.Context(), u); err != nil {
		t.Fatalf("Create(%s) = %v", u.Email, err)
	}
}

func userUpdate(t *testing.T, store ports.UserStore, u *domain.User) {
	t.Helper()
	if err := userWrite(t.Context(), store, u); err != nil {
		t.Fatalf("Update(%s) = %v", u.Email, err)
	}
}

// userWrite stores every editable field of u through Update, and takes the
// stored update time back into u.
func userWrite(ctx context.Context, store ports.UserStore, u *domain.User) error {
	got, err := store.Update(ctx, u.ID, func(x *domain.User) error {
		*x = *u.Clone()
		return nil
	})
	if err == nil {
		u.UpdatedAt = got.UpdatedAt
	}
	return err
}

// userSeal seals a TOTP secret for the account id through store.
func userSeal(t *testing.T, store ports.UserStore, id domain.UserID, secret string) *domain.SealedTOTP {
	t.Helper()
	sealed, err := store.SealTOTP(id, secret)
	if err != nil || sealed == nil {
		t.Fatalf("SealTOTP = %v, %v", sealed, err)
	}
	return sealed
}

func userRecord(t *testing.T, store ports.UserStore, id domain.UserID, rec domain.LoginRecord) {
	t.Helper()
	if err := store.RecordLogin(t.Context(), id, rec); err != nil {
		t.Fatalf("RecordLogin = %v", err)
	}
}

func userByID(t *testing.T, store ports.UserStore, id domain.UserID) *domain.User {
	t.Helper()
	u, err := store.ByID(t.Context(), id)
	if err != nil {
		t.Fatalf("ByID(%s) = %v", id, err)
	}
	return u
}

func userByEmailKey(t *testing.T, store ports.UserStore, key domain.EmailKey) *domain.User {
	t.Helper()
	u, err := store.ByEmailKey(t.Context(), key)
	if err != nil {
		t.Fatalf("ByEmailKey(%s) = %v", key, err)
	}
	return u
}

func userByPhone(t *testing.T, store ports.UserStore, phone domain.Phone) *domain.User {
	t.Helper()
	u, err := store.ByPhone(t.Context(), phone)
	if err != nil {
		t.Fatalf("ByPhone(%s) = %v", phone, err)
	}
	return u
}

func userCheckGot(t *testing.T, what string, got *domain.User, err error, want *domain.User) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", what, err)
	}
	userMustEqual(t, what, got, want)
}

// userMustEqual fails t unless got and want hold the same account; times
// compare as instants, whatever their location.
func userMustEqual(t *testing.T, what string, got, want *domain.User) {
	t.Helper()
	g, w := userComparable(got), userComparable(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, userString(g), userString(w))
	}
}

// userSameLogin reports whether two latest logins are the same.
func userSameLogin(a, b *domain.LoginRecord) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	x.Time, y.Time = time.Time{}, time.Time{}
	return a.Time.Equal(b.Time) && x == y
}

func userComparable(u *domain.User) *domain.User {
	if u == nil {
		return nil
	}
	c := u.Clone()
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.LastLogin != nil {
		c.LastLogin.Time = c.LastLogin.Time.UTC()
	}
	return c
}

// userString spells out the pointers of u, which %+v would print as
// addresses.
func userString(u *domain.User) string {
	if u == nil {
		return "<nil>"
	}
	c := *u
	lark, last, totp := "<nil>", "<nil>", "<nil>"
	if u.Lark != nil {
		lark = fmt.Sprintf("%+v", *u.Lark)
	}
	if u.LastLogin != nil {
		last = fmt.Sprintf("%+v", *u.LastLogin)
	}
	if u.TOTP != nil {
		totp = fmt.Sprintf("%s:%x", u.TOTP.KeyID, u.TOTP.Data)
	}
	c.Lark, c.LastLogin, c.TOTP = nil, nil, nil
	return fmt.Sprintf("%+v Lark:%s LastLogin:%s TOTP:%s", c, lark, last, totp)
}
