package auth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/onetime"
)

const (
	email    = "alice@example.com"
	password = "correct-Horse-42"
	phone    = "+8613800138000"
	clientIP = "203.0.113.7"
)

var client = domain.Client{IP: clientIP, UserAgent: "test", Lang: domain.LangEnglish}

var policy = auth.Policy{
	Session: domain.SessionPolicy{
		TokenTTL:       2 * time.Hour,
		IdleTimeout:    time.Hour,
		AbsoluteExpiry: 7 * 24 * time.Hour,
		PerAccount:     50,
	},
	SMSCode:     domain.CodePolicy{TTL: 2 * time.Minute, MaxAttempts: 5},
	MailCode:    domain.CodePolicy{TTL: 15 * time.Minute, MaxAttempts: 5},
	RefreshCode: domain.CodePolicy{TTL: 30 * time.Second, MaxAttempts: 5},
	Password:    domain.DefaultPasswordPolicy,
	TOTP:        domain.DefaultTOTPPolicy,
	PhoneRegion: "CN",
}

type env struct {
	clk      *clock.Fake
	users    *memory.UserStore
	sessions *memory.SessionStore
	hasher   *argon2.Hasher
	outbox   *memory.Outbox
	history  *recorder
	recovery *memory.RecoveryCodeStore
	log      *bytes.Buffer
	deps     auth.Deps // what svc was built from
	svc      *auth.Service
}

// recorder is a ports.LoginRecorder that keeps what it is handed.
type recorder struct {
	mu   sync.Mutex
	recs []domain.LoginRecord
	ids  []domain.UserID
}

func (r *recorder) Record(userID domain.UserID, rec domain.LoginRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, userID)
	r.recs = append(r.recs, rec)
}

func (r *recorder) taken() ([]domain.UserID, []domain.LoginRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]domain.UserID(nil), r.ids...), append([]domain.LoginRecord(nil), r.recs...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// A step boundary plus 10 s, so ±1 step is never ambiguous.
	clk := clock.NewFake(time.Unix(1_700_000_010, 0))
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := jwt.NewIssuer(jwt.Config{Issuer: "gatehouse-test", Audience: "gatehouse-test"}, key)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		clk:      clk,
		users:    memory.NewUserStore(clk),
		sessions: memory.NewSessionStore(clk),
		hasher:   argon2.NewHasher(argon2.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 4),
		outbox:   &memory.Outbox{},
		history:  &recorder{},
		log:      &bytes.Buffer{},
	}
	e.recovery = memory.NewRecoveryCodeStore(e.users)
	codes := onetime.New(memory.NewCodeStore(clk), memory.NewThrottle(clk), rand.Reader,
		[]byte("test-secret-test-secret-test-secret"),
		domain.ResendPolicy{Interval: time.Minute, HourlyLimit: 10}, onetime.Caps{})
	guard := lockout.NewGuard(memory.NewAttemptCounter(clk), domain.LockoutPolicy{AccountLimit: 5, IPLimit: 10, Lock: 15 * time.Minute}, nil, nil)
	e.deps = auth.Deps{
		Users:         e.users,
		History:       e.history,
		Sessions:      e.sessions,
		TOTP:          memory.NewTOTPStore(clk),
		Hasher:        e.hasher,
		RecoveryCodes: e.recovery,
		Tokens:        issuer,
		SMS:           e.outbox,
		Mail:          e.outbox,
		Clock:         clk,
		Codes:         codes,
		Guard:         guard,
		Log:           slog.New(slog.NewTextHandler(e.log, nil)),
		LarkStates:    memory.NewLarkStateStore(clk),
		Geo:           testGeo{},
	}
	e.svc = newService(t, e.deps)
	return e
}

// newService builds the service on d, failing t when New refuses it.
func newService(t testing.TB, d auth.Deps) *auth.Service {
	t.Helper()
	svc, err := auth.New(d, policy)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// addUser creates an active account with the test email, password and phone.
func (e *env) addUser(t *testing.T, mutate func(*domain.User)) *domain.User {
	t.Helper()
	hash, err := e.hasher.Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	u := &domain.User{Email: email, EmailKey: domain.NewEmailKey(email), Phone: phone, PasswordHash: hash, Active: true}
	if mutate != nil {
		mutate(u)
	}
	if err := e.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) login(t *testing.T, pw string) (auth.Login, error) {
	t.Helper()
	return e.svc.Login(context.Background(), auth.PasswordLogin{Email: email, Password: pw, Client: client})
}

func (e *env) mustLogin(t *testing.T) auth.Login {
	t.Helper()
	l, err := e.login(t, password)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return l
}

func (e *env) verify(t *testing.T, token string) (domain.Claims, error) {
	t.Helper()
	return e.svc.Verify(context.Background(), token)
}

func (e *env) mustVerify(t *testing.T, token string) domain.Claims {
	t.Helper()
	c, err := e.verify(t, token)
	if err != nil {
		t.Fatalf("verify at %v: %v", e.clk.Now(), err)
	}
	return c
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func wantLocked(t *testing.T, err error) {
	t.Helper()
	var de *domain.Error
	if !errors.Is(err, domain.ErrLoginLocked) || !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("err = %#v, want LOGIN_LOCKED with RetryAfter > 0", err)
	}
}

func TestLoginSuccess(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	l := e.mustLogin(t)
	if l.Token == "" || !l.ExpiresAt.Equal(e.clk.Now().Add(2*time.Hour)) {
		t.Fatalf("login = %+v, want a token expiring in 2h", l)
	}
	c := e.mustVerify(t, l.Token)
	if c.UserID != u.ID {
		t.Fatalf("claims user = %q, want %q", c.UserID, u.ID)
	}
	got, err := e.users.ByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LoginCount != 1 || got.LastLogin == nil || got.LastLogin.Method != domain.LoginEmail || got.LastLogin.IP != clientIP {
		t.Fatalf("login history = %d %+v", got.LoginCount, got.LastLogin)
	}
	// The email matches case-insensitively.
	if _, err := e.svc.Login(context.Background(), auth.PasswordLogin{Email: "ALICE@example.com", Password: password, Client: client}); err != nil {
		t.Fatalf("login with upper-case email: %v", err)
	}
}

func TestLoginInvalid(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	e.addUser(t, func(u *domain.User) {
		u.Email, u.EmailKey, u.Phone, u.Active = "bob@example.com", domain.NewEmailKey("bob@example.com"), "", false
	})
	ctx := context.Background()
	cases := []struct{ name, email, password string }{
		{"wrong password", email, "wrong-Horse-42"},
		{"password differs by case", email, "CORRECT-HORSE-42"},
		{"password with a trailing space", email, password + " "},
		{"unknown email", "nobody@example.com", password},
		{"disabled account", "bob@example.com", password},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Login(ctx, auth.PasswordLogin{Email: tc.email, Password: tc.password, Client: client})
			wantErr(t, err, domain.ErrLoginInvalid)
		})
	}
	_, err := e.svc.Login(ctx, auth.PasswordLogin{Email: "not an email", Password: password, Client: client})
	wantErr(t, err, domain.ErrValidation)
	_, err = e.svc.Login(ctx, auth.PasswordLogin{Email: email, Password: "", Client: client})
	wantErr(t, err, domain.ErrValidation)
}

func TestLockoutAfterFiveFailures(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	for i := 1; i <= 5; i++ {
		_, err := e.login(t, "wrong-Horse-42")
		wantErr(t, err, domain.ErrLoginInvalid) // the 5th still answers LOGIN_INVALID
	}
	_, err := e.login(t, password)
	wantLocked(t, err)
	_, err = e.login(t, "wrong-Horse-42")
	wantLocked(t, err)

	e.clk.Advance(15*time.Minute - time.Second)
	_, err = e.login(t, password)
	wantLocked(t, err)
	e.clk.Advance(time.Second)
	e.mustLogin(t)
}

func TestLockoutCountsUnknownAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := auth.PasswordLogin{Email: "ghost@example.com", Password: "whatever-1", Client: client}
	for i := 0; i < 5; i++ {
		_, err := e.svc.Login(ctx, in)
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	_, err := e.svc.Login(ctx, in)
	wantLocked(t, err)
}

func TestLockoutWindow(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	for i := 0; i < 4; i++ {
		_, err := e.login(t, "wrong-Horse-42")
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	e.clk.Advance(16 * time.Minute)
	for i := 0; i < 4; i++ {
		_, err := e.login(t, "wrong-Horse-42")
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	e.mustLogin(t) // 8 failures, but never 5 within one window
}

func TestLoginSuccessClearsAccountCount(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	for round := 0; round < 2; round++ {
		for i := 0; i < 4; i++ {
			_, err := e.login(t, "wrong-Horse-42")
			wantErr(t, err, domain.ErrLoginInvalid)
		}
		e.mustLogin(t)
	}
}

func TestIPLockout(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		// Ten different unknown accounts, so no account reaches its limit.
		_, err := e.svc.Login(ctx, auth.PasswordLogin{Email: string(rune('a'+i)) + "x@example.com", Password: "whatever-1", Client: client})
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	_, err := e.login(t, password)
	wantLocked(t, err)
	// Another client IP is not locked.
	if _, err := e.svc.Login(ctx, auth.PasswordLogin{Email: email, Password: password, Client: domain.Client{IP: "198.51.100.1"}}); err != nil {
		t.Fatalf("login from another IP: %v", err)
	}
}

func (e *env) sendSMS(t *testing.T, p string) error {
	t.Helper()
	return e.svc.SendLoginSMS(context.Background(), p, client)
}

func (e *env) loginSMS(t *testing.T, p, code string) (auth.Login, error) {
	t.Helper()
	return e.svc.LoginSMS(context.Background(), auth.SMSLogin{Phone: p, Code: code, Client: client})
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSMSLogin(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	// The national form in the default region is the same phone.
	if err := e.sendSMS(t, "13800138000"); err != nil {
		t.Fatal(err)
	}
	msgs := e.outbox.SMS()
	if len(msgs) != 1 || msgs[0].Phone != phone || msgs[0].Purpose != domain.PurposeSMSLogin || !domain.IsCodeFormat(msgs[0].Code) {
		t.Fatalf("sms = %+v", msgs)
	}
	e.clk.Advance(2*time.Minute - time.Second)
	l, err := e.loginSMS(t, phone, msgs[0].Code)
	if err != nil {
		t.Fatalf("sms login just before expiry: %v", err)
	}
	if c := e.mustVerify(t, l.Token); c.UserID != u.ID {
		t.Fatalf("claims = %+v", c)
	}
	// Single use.
	_, err = e.loginSMS(t, phone, msgs[0].Code)
	wantErr(t, err, domain.ErrLoginInvalid)
}

func TestSMSCodeExpires(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	_, err := e.loginSMS(t, phone, lastSMSCode(t, e.outbox))
	wantErr(t, err, domain.ErrLoginInvalid)
}

func TestSMSCodeVoidAfterFiveWrongTries(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	code := lastSMSCode(t, e.outbox)
	for i := 0; i < 5; i++ {
		_, err := e.loginSMS(t, phone, wrongCode(code))
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	// The five failures also locked the account; lift that lock so that the
	// answer shows what became of the code itself.
	_, err := e.loginSMS(t, phone, code)
	wantLocked(t, err)
	if err := e.deps.Guard.Clear(context.Background(), lockout.AccountKey(u, "")); err != nil {
		t.Fatal(err)
	}
	_, err = e.loginSMS(t, phone, code)
	wantErr(t, err, domain.ErrLoginInvalid)
}

func TestSMSCodeFourWrongTriesThenRight(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	code := lastSMSCode(t, e.outbox)
	for i := 0; i < 4; i++ {
		_, err := e.loginSMS(t, phone, wrongCode(code))
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	if _, err := e.loginSMS(t, phone, code); err != nil {
		t.Fatalf("right code after 4 wrong tries: %v", err)
	}
}

func TestSMSResendReplacesCode(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	first := lastSMSCode(t, e.outbox)
	e.clk.Advance(time.Minute)
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	second := lastSMSCode(t, e.outbox)
	if first != second {
		_, err := e.loginSMS(t, phone, first)
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	if _, err := e.loginSMS(t, phone, second); err != nil {
		t.Fatalf("latest code: %v", err)
	}
}

func TestSMSResendThrottle(t *testing.T) {
	for _, tc := range []struct {
		name     string
		phone    string
		wantSent int
	}{
		{"registered phone", phone, 2},
		{"unknown phone", "+8613900139000", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.addUser(t, nil)
			if err := e.sendSMS(t, tc.phone); err != nil {
				t.Fatalf("first send: %v", err)
			}
			e.clk.Advance(59 * time.Second)
			err := e.sendSMS(t, tc.phone)
			var de *domain.Error
			if !errors.Is(err, domain.ErrCodeTooFrequent) || !errors.As(err, &de) || de.RetryAfter != time.Second {
				t.Fatalf("second send after 59s: %#v, want CODE_TOO_FREQUENT retry 1s", err)
			}
			e.clk.Advance(time.Second)
			if err := e.sendSMS(t, tc.phone); err != nil {
				t.Fatalf("send after 60s: %v", err)
			}
			if n := len(e.outbox.SMS()); n != tc.wantSent {
				t.Fatalf("sent %d SMS, want %d", n, tc.wantSent)
			}
		})
	}
}

func TestSMSHourlyLimit(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	for i := 0; i < 10; i++ {
		if err := e.sendSMS(t, phone); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
		e.clk.Advance(time.Minute)
	}
	wantErr(t, e.sendSMS(t, phone), domain.ErrCodeTooFrequent)
}

func TestSMSLoginUnknownOrDisabled(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, func(u *domain.User) { u.Active = false })
	if err := e.sendSMS(t, phone); err != nil {
		t.Fatal(err)
	}
	if n := len(e.outbox.SMS()); n != 0 {
		t.Fatalf("disabled account got %d SMS", n)
	}
	_, err := e.loginSMS(t, "+8613900139000", "123456")
	wantErr(t, err, domain.ErrLoginInvalid)
	_, err = e.loginSMS(t, "not a phone", "123456")
	wantErr(t, err, domain.ErrValidation)
	_, err = e.loginSMS(t, phone, "12345")
	wantErr(t, err, domain.ErrValidation)
}

func (e *env) addTOTPUser(t *testing.T) (*domain.User, string) {
	t.Helper()
	secret, _, err := domain.DefaultTOTPPolicy.NewKey("Gatehouse", email, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return e.addUser(t, func(u *domain.User) {
		u.ID = domain.UserID(uuid.NewString())
		if u.TOTP, err = e.users.SealTOTP(u.ID, secret); err != nil {
			t.Fatal(err)
		}
	}), secret
}

func totpCode(t *testing.T, secret string, step int64) string {
	t.Helper()
	code, err := domain.DefaultTOTPPolicy.CodeAt(secret, step)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (e *env) loginTOTP(t *testing.T, code string) (auth.Login, error) {
	t.Helper()
	return e.svc.LoginTOTP(context.Background(), auth.TOTPLogin{Email: email, Code: code, Client: client})
}

func TestTOTPLoginStepUsedOnce(t *testing.T) {
	e := newEnv(t)
	_, secret := e.addTOTPUser(t)
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	code := totpCode(t, secret, now)
	if _, err := e.loginTOTP(t, code); err != nil {
		t.Fatalf("totp login: %v", err)
	}
	_, err := e.loginTOTP(t, code)
	wantErr(t, err, domain.ErrLoginInvalid) // replay of the same step
	// Still refused in the next step, while the old step lies within the skew.
	e.clk.Advance(30 * time.Second)
	_, err = e.loginTOTP(t, code)
	wantErr(t, err, domain.ErrLoginInvalid)
	// The new step is fresh.
	if _, err := e.loginTOTP(t, totpCode(t, secret, now+1)); err != nil {
		t.Fatalf("next step: %v", err)
	}
}

func TestTOTPLoginSkew(t *testing.T) {
	for _, tc := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		e := newEnv(t)
		_, secret := e.addTOTPUser(t)
		code := totpCode(t, secret, domain.DefaultTOTPPolicy.Step(e.clk.Now())+tc.offset)
		_, err := e.loginTOTP(t, code)
		if tc.ok && err != nil {
			t.Errorf("offset %+d: %v", tc.offset, err)
		}
		if !tc.ok && !errors.Is(err, domain.ErrLoginInvalid) {
			t.Errorf("offset %+d: err = %v, want LOGIN_INVALID", tc.offset, err)
		}
	}
}

func TestTOTPLoginWithoutTOTP(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	_, err := e.loginTOTP(t, "123456")
	wantErr(t, err, domain.ErrLoginInvalid)
}

func TestSessionIdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	l := e.mustLogin(t)
	// Activity renews the idle timeout: 100 minutes in, still alive.
	e.clk.Advance(50 * time.Minute)
	e.mustVerify(t, l.Token)
	e.clk.Advance(50 * time.Minute)
	e.mustVerify(t, l.Token)

	l2 := e.mustLogin(t)
	e.clk.Advance(time.Hour - time.Second)
	e.mustVerify(t, l2.Token)
	e.clk.Advance(time.Hour)
	_, err := e.verify(t, l2.Token) // token still valid, session idle for an hour
	wantErr(t, err, domain.ErrAuthExpired)
}

func TestSessionIdleTimeoutWithoutActivity(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	l := e.mustLogin(t)
	e.clk.Advance(time.Hour)
	_, err := e.verify(t, l.Token)
	wantErr(t, err, domain.ErrAuthExpired)
}

func TestTokenTTL(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	l := e.mustLogin(t)
	for i := 0; i < 3; i++ { // keep the session alive for 2h - 1s
		e.clk.Advance(40 * time.Minute)
		if i == 2 {
			e.clk.Advance(-time.Second)
		}
		e.mustVerify(t, l.Token)
	}
	e.clk.Advance(time.Second)
	_, err := e.verify(t, l.Token)
	wantErr(t, err, domain.ErrAuthExpired)
}

func TestAbsoluteTimeoutCapsRenewals(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	start := e.clk.Now()
	end := start.Add(7 * 24 * time.Hour)
	l := e.mustLogin(t)
	ctx := context.Background()
	for e.clk.Now().Add(50 * time.Minute).Before(end) {
		e.clk.Advance(50 * time.Minute)
		c := e.mustVerify(t, l.Token)
		code, err := e.svc.RefreshCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if l, err = e.svc.RefreshToken(ctx, c, code); err != nil {
			t.Fatalf("refresh at %v: %v", e.clk.Now().Sub(start), err)
		}
		if l.ExpiresAt.After(end) {
			t.Fatalf("token expires at %v, after the absolute expiry %v", l.ExpiresAt, end)
		}
	}
	e.clk.Set(end.Add(-time.Second))
	e.mustVerify(t, l.Token)
	e.clk.Set(end)
	_, err := e.verify(t, l.Token)
	wantErr(t, err, domain.ErrAuthExpired)
}

func TestRefreshCode(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	ctx := context.Background()
	l := e.mustLogin(t)
	c := e.mustVerify(t, l.Token)

	t.Run("expires after 30s", func(t *testing.T) {
		code, err := e.svc.RefreshCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(30 * time.Second)
		_, err = e.svc.RefreshToken(ctx, c, code)
		wantErr(t, err, domain.ErrCodeInvalid)
	})

	t.Run("single use, old token stays valid", func(t *testing.T) {
		code, err := e.svc.RefreshCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(29 * time.Second)
		nl, err := e.svc.RefreshToken(ctx, c, code)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if nl.Token == l.Token || !nl.ExpiresAt.Equal(e.clk.Now().Add(2*time.Hour)) {
			t.Fatalf("refreshed login = %+v", nl)
		}
		nc := e.mustVerify(t, nl.Token)
		if nc.SessionID != c.SessionID {
			t.Fatalf("refreshed token is for session %q, want %q", nc.SessionID, c.SessionID)
		}
		e.mustVerify(t, l.Token)
		_, err = e.svc.RefreshToken(ctx, c, code)
		wantErr(t, err, domain.ErrCodeInvalid)
	})

	t.Run("bound to its session", func(t *testing.T) {
		other := e.mustVerify(t, e.mustLogin(t).Token)
		code, err := e.svc.RefreshCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.RefreshToken(ctx, other, code)
		wantErr(t, err, domain.ErrCodeInvalid)
		// Still good for its own session.
		if _, err := e.svc.RefreshToken(ctx, c, code); err != nil {
			t.Fatalf("refresh in own session: %v", err)
		}
	})

	t.Run("ended session", func(t *testing.T) {
		code, err := e.svc.RefreshCode(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(ctx, c, auth.LogoutLocal, client); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.RefreshToken(ctx, c, code)
		wantErr(t, err, domain.ErrAuthExpired)
	})
}

func TestResetPassword(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	ctx := context.Background()
	a := e.mustLogin(t)
	b := e.mustLogin(t)
	for i := 0; i < 5; i++ {
		_, _ = e.login(t, "wrong-Horse-42")
	}
	_, err := e.login(t, password)
	wantLocked(t, err)

	// A locked account can still ask for a reset code.
	if err := e.svc.SendResetCode(ctx, "Alice@Example.com", client); err != nil {
		t.Fatal(err)
	}
	mails := e.outbox.Mails()
	if len(mails) != 1 || mails[0].To != email || mails[0].Kind != domain.MailResetCode || !domain.IsCodeFormat(mails[0].Code) {
		t.Fatalf("mails = %+v", mails)
	}
	code := mails[0].Code

	// A weak password is refused without spending the code.
	err = e.svc.ResetPassword(ctx, auth.PasswordReset{Email: email, Code: code, Password: "password1", Client: client})
	wantErr(t, err, domain.ErrPasswordWeak)

	const newPassword = "brand-New-Pass-7"
	if err := e.svc.ResetPassword(ctx, auth.PasswordReset{Email: email, Code: code, Password: newPassword, Client: client}); err != nil {
		t.Fatalf("reset: %v", err)
	}
	for _, l := range []auth.Login{a, b} {
		_, err := e.verify(t, l.Token)
		wantErr(t, err, domain.ErrAuthExpired)
	}
	// The lockout is lifted and the new password works at once.
	if _, err := e.login(t, newPassword); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
	_, err = e.login(t, password)
	wantErr(t, err, domain.ErrLoginInvalid)
	// The code was single use.
	err = e.svc.ResetPassword(ctx, auth.PasswordReset{Email: email, Code: code, Password: "another-Pass-8", Client: client})
	wantErr(t, err, domain.ErrCodeInvalid)
	if last := e.outbox.Mails(); last[len(last)-1].Kind != domain.MailPasswordChanged || last[len(last)-1].To != u.Email {
		t.Fatalf("last mail = %+v, want a password-changed notice", last[len(last)-1])
	}
}

func TestResetCodeExpiresAndUnknownEmail(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	ctx := context.Background()
	if err := e.svc.SendResetCode(ctx, "nobody@example.com", client); err != nil {
		t.Fatalf("unknown email: %v", err)
	}
	if n := len(e.outbox.Mails()); n != 0 {
		t.Fatalf("unknown email got %d mails", n)
	}
	wantErr(t, e.svc.SendResetCode(ctx, "nobody@example.com", client), domain.ErrCodeTooFrequent)

	if err := e.svc.SendResetCode(ctx, email, client); err != nil {
		t.Fatal(err)
	}
	code := e.outbox.Mails()[0].Code
	e.clk.Advance(15 * time.Minute)
	err := e.svc.ResetPassword(ctx, auth.PasswordReset{Email: email, Code: code, Password: "brand-New-Pass-7", Client: client})
	wantErr(t, err, domain.ErrCodeInvalid)
}

func TestLogoutEndsOnlyThatSession(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	a := e.mustLogin(t)
	b := e.mustLogin(t)
	ca := e.mustVerify(t, a.Token)
	if err := e.svc.Logout(context.Background(), ca, auth.LogoutLocal, client); err != nil {
		t.Fatal(err)
	}
	_, err := e.verify(t, a.Token)
	wantErr(t, err, domain.ErrAuthExpired)
	e.mustVerify(t, b.Token)
	// Logging out twice is harmless.
	if err := e.svc.Logout(context.Background(), ca, auth.LogoutLocal, client); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefusesGarbage(t *testing.T) {
	e := newEnv(t)
	_, err := e.verify(t, "")
	wantErr(t, err, domain.ErrAuthRequired)
	_, err = e.verify(t, "not.a.token")
	wantErr(t, err, domain.ErrAuthExpired)
}

// lastSMSCode returns the code of the latest SMS; the test fails when none
// was sent.
func lastSMSCode(t *testing.T, o *memory.Outbox) string {
	t.Helper()
	msgs := o.SMS()
	if len(msgs) == 0 {
		t.Fatal("no SMS was sent")
	}
	return msgs[len(msgs)-1].Code
}

func TestFailedLoginsOfKnownAccountsGoToTheRecorder(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	_, err := e.login(t, "wrong-Password-1")
	wantErr(t, err, domain.ErrLoginInvalid)
	_, err = e.svc.Login(context.Background(), auth.PasswordLogin{Email: "nobody@example.com", Password: password, Client: client})
	wantErr(t, err, domain.ErrLoginInvalid)
	_, err = e.loginSMS(t, phone, "000000")
	wantErr(t, err, domain.ErrLoginInvalid)
	ids, recs := e.history.taken()
	if len(recs) != 2 || ids[0] != u.ID || ids[1] != u.ID ||
		recs[0].Success || recs[0].Method != domain.LoginEmail || recs[0].UserAgent != client.UserAgent || recs[0].IP != clientIP ||
		recs[1].Method != domain.LoginSMS {
		t.Fatalf("recorder got %v %+v; want the two failures of the known account", ids, recs)
	}
	// A success is written at once instead, so GET /user shows it.
	e.mustLogin(t)
	if _, recs := e.history.taken(); len(recs) != 2 {
		t.Fatalf("a success went to the recorder: %+v", recs)
	}
	if got, _ := e.users.ByID(context.Background(), u.ID); got.LoginCount != 1 || got.LastLogin == nil {
		t.Fatalf("after a success the account reads %d logins, last %+v", got.LoginCount, got.LastLogin)
	}
}

func TestDisabledAccountRefusalIsRecorded(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, func(u *domain.User) { u.Active = false })
	_, err := e.login(t, password)
	wantErr(t, err, domain.ErrLoginInvalid)
	if _, recs := e.history.taken(); len(recs) != 1 || recs[0].Success {
		t.Fatalf("recorder got %+v; want one failure", recs)
	}
}

func TestTOTPSecretThatDoesNotOpenIsAWrongCode(t *testing.T) {
	e := newEnv(t)
	u, secret := e.addTOTPUser(t)
	// As if sealed under a key since rotated away.
	if _, err := e.users.Update(context.Background(), u.ID, func(u *domain.User) error {
		u.TOTP.KeyID = "rotated-away"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	step := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	for i := range 5 {
		// The right code of the right secret: still refused.
		_, err := e.loginTOTP(t, totpCode(t, secret, step+int64(i%2)-1))
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	// Each counted as a failure: the account is locked now.
	_, err := e.login(t, password)
	wantLocked(t, err)

	out := e.log.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, u.ID.String()) || strings.Contains(out, secret) {
		t.Fatalf("log = %q; want an error naming the account and not the secret", out)
	}
	// Five TOTP failures, then the refused password login.
	if _, recs := e.history.taken(); len(recs) != 6 || recs[0].Method != domain.LoginTOTP || !recs[5].Locked {
		t.Fatalf("recorder got %+v; want five TOTP failures and a lockout refusal", recs)
	}
}
