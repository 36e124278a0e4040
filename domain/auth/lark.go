package auth

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// LarkStart is a Lark sign-in begun: where to send the browser, and the
// state and PKCE verifier that the browser must bring back, which the edge
// keeps in a signed cookie of that browser only.
type LarkStart struct {
	URL      string
	State    string
	Verifier string
	Action   domain.LarkAction
}

// StartLark begins a Lark sign-in for action. A link needs the caller's live
// session (who, already verified); the state records it, so that only the
// same session can finish the binding. The state is kept server-side for
// the state TTL and works once.
func (s *Service) StartLark(ctx context.Context, action domain.LarkAction, who *domain.Claims) (LarkStart, error) {
	if s.lark == nil {
		return LarkStart{}, errLarkOff
	}
	st := domain.LarkState{Action: action}
	switch action {
	case domain.LarkLogin:
	case domain.LarkLink:
		if who == nil {
			return LarkStart{}, domain.ErrAuthRequired
		}
		st.UserID, st.SessionID = who.UserID, who.SessionID
	default:
		return LarkStart{}, domain.Invalid("action must be login or link")
	}
	state, verifier := domain.NewLarkSecret(), domain.NewLarkSecret()
	if err := s.larkStates.Put(ctx, state, st, s.policy.LarkStateTTL); err != nil {
		return LarkStart{}, err
	}
	return LarkStart{URL: s.lark.AuthorizeURL(state, verifier), State: state, Verifier: verifier, Action: action}, nil
}

// LarkCallback is what came back from Lark, with what the browser's cookie
// said. The edge has already checked that State is the cookie's own (signed,
// unexpired, equal in constant time).
type LarkCallback struct {
	State    string
	Action   domain.LarkAction // as the cookie says
	Verifier string
	Code     string
	// Denied is set when Lark sent the person back with an error instead
	// of a code: they declined, or Lark would not ask them.
	Denied bool
	// Caller is the session the callback request carries, verified live;
	// nil when it carries none.
	Caller *domain.Claims
	Client domain.Client
}

// LarkResult is a finished Lark sign-in: a login (Login set) or a binding
// (Linked).
type LarkResult struct {
	Login  *Login
	Linked bool
}

// FinishLark completes a Lark sign-in. The state is spent first, whatever
// happens next, so a callback works once; a state that is unknown, expired,
// spent or of another action fails with LARK_STATE_INVALID before the code
// is ever sent to Lark. A link then needs the very session that started it
// (else AUTH_EXPIRED), so a state planted in a victim's browser can never
// bind the planter's Lark account to the victim. Lark's refusal or outage
// is LARK_FAILED; the person declining is LARK_DENIED.
func (s *Service) FinishLark(ctx context.Context, in LarkCallback) (LarkResult, error) {
	if s.lark == nil {
		return LarkResult{}, errLarkOff
	}
	if in.State == "" || in.Verifier == "" {
		return LarkResult{}, domain.ErrLarkStateInvalid
	}
	st, err := s.larkStates.Take(ctx, in.State)
	if errors.Is(err, domain.ErrNotFound) {
		return LarkResult{}, domain.ErrLarkStateInvalid
	}
	if err != nil {
		return LarkResult{}, err
	}
	if st.Action != in.Action {
		return LarkResult{}, domain.ErrLarkStateInvalid
	}
	if in.Denied {
		return LarkResult{}, domain.ErrLarkDenied
	}
	if st.Action == domain.LarkLink && !sameSession(in.Caller, st) {
		return LarkResult{}, domain.ErrAuthExpired
	}
	if in.Code == "" {
		return LarkResult{}, domain.ErrLarkFailed
	}
	p, err := s.lark.Profile(ctx, in.Code, in.Verifier)
	if err != nil {
		// The adapter's error names what Lark said, never the code or token.
		s.log.Warn("lark sign-in failed", "action", string(st.Action), "err", err)
		return LarkResult{}, domain.ErrLarkFailed
	}
	if !p.Key().Valid() {
		s.log.Warn("lark sign-in failed", "action", string(st.Action), "err", "the profile has no complete binding key")
		return LarkResult{}, domain.ErrLarkFailed
	}
	if st.Action == domain.LarkLink {
		return LarkResult{Linked: true}, s.linkLark(ctx, st.UserID, p, in.Client)
	}
	login, err := s.loginLark(ctx, p, in.Client)
	if err != nil {
		return LarkResult{}, err
	}
	// Only a success is a verdict here: there is no secret to get wrong,
	// and an unbound identity is not a failed guess.
	s.observeLogin(domain.LoginLark, nil)
	return LarkResult{Login: &login}, nil
}

// linkLark binds p to the account, replacing any earlier binding, and sends
// a security notice. The store refuses a key bound to another account.
func (s *Service) linkLark(ctx context.Context, userID domain.UserID, p domain.LarkProfile, c domain.Client) error {
	u, err := s.users.Update(ctx, userID, func(u *domain.User) error {
		if !u.Active {
			// A disabled account has no live session; the link lost a race
			// with the disable.
			return domain.ErrAuthExpired
		}
		u.Lark = &p
		return nil
	})
	if err != nil {
		return domain.CallerGone(err)
	}
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailLarkLinked, Lang: c.Lang})
}

// loginLark logs in the active account bound to p's key. Accounts are never
// matched by email or phone: Lark's would be the word of another service.
// There is no secret to guess, so the lockout does not apply.
func (s *Service) loginLark(ctx context.Context, p domain.LarkProfile, c domain.Client) (Login, error) {
	u, err := s.users.ByLark(ctx, p.Key())
	if errors.Is(err, domain.ErrUserNotFound) {
		return Login{}, domain.ErrLarkNotBound
	}
	if err != nil {
		return Login{}, err
	}
	if !u.Active {
		return Login{}, domain.ErrLarkNotBound
	}
	login, err := s.startSession(ctx, u, domain.LoginLark, c)
	if errors.Is(err, domain.ErrLoginInvalid) {
		// Disabled or unbound while the login was in flight.
		return Login{}, domain.ErrLarkNotBound
	}
	return login, err
}

// sameSession reports whether the callback carries the session recorded
// when the link began.
func sameSession(who *domain.Claims, st domain.LarkState) bool {
	return who != nil && st.SessionID != "" && who.SessionID == st.SessionID && who.UserID == st.UserID
}

// errLarkOff answers when Lark is not configured; the edge does not route
// the Lark paths then, so this is a wiring mistake, not a client's.
var errLarkOff = errors.New("lark is not configured")
