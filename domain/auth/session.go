package auth

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// Verify checks a token and its session and renews the session's idle
// timeout. Any failure of the token or an ended session is AUTH_EXPIRED. This
// is the hot path of every page load: one token check (cached by the token
// adapter) and one session store round trip.
func (s *Service) Verify(ctx context.Context, token string) (domain.Claims, error) {
	if token == "" {
		return domain.Claims{}, domain.ErrAuthRequired
	}
	now := s.clock.Now()
	claims, err := s.tokens.Verify(token, now)
	if err != nil {
		return domain.Claims{}, domain.ErrAuthExpired
	}
	if _, err := s.sessions.Touch(ctx, claims.UserID, claims.SessionID, now, s.policy.Session.IdleTimeout); err != nil {
		if errors.Is(err, domain.ErrSessionNotFound) {
			return domain.Claims{}, domain.ErrAuthExpired
		}
		return domain.Claims{}, err
	}
	return claims, nil
}

// RefreshCode makes a single-use code that refreshes the caller's token. It
// is bound to the caller's session and user.
func (s *Service) RefreshCode(ctx context.Context, who domain.Claims) (string, error) {
	return s.codes.Issue(ctx, refreshKey(who), who.UserID.String(), s.policy.RefreshCode)
}

// RefreshToken spends a refresh code and signs a new token for the same
// session. The previous token stays valid until its own expiry; the session's
// absolute timeout bounds both.
func (s *Service) RefreshToken(ctx context.Context, who domain.Claims, code string) (Login, error) {
	if !domain.IsCodeFormat(code) {
		return Login{}, domain.Invalid("code must be 6 digits")
	}
	if err := s.codes.Use(ctx, refreshKey(who), who.UserID.String(), code, s.policy.RefreshCode); err != nil {
		return Login{}, err
	}
	now := s.clock.Now()
	sess, err := s.sessions.Touch(ctx, who.UserID, who.SessionID, now, s.policy.Session.IdleTimeout)
	if errors.Is(err, domain.ErrSessionNotFound) {
		return Login{}, domain.ErrAuthExpired
	}
	if err != nil {
		return Login{}, err
	}
	return s.issue(sess, now)
}

// Logout ends the sessions of scope; their tokens stop working at once.
// Ending other sessions (others, global) sends the owner a notice when any
// ended.
func (s *Service) Logout(ctx context.Context, who domain.Claims, scope LogoutScope, c domain.Client) error {
	switch scope {
	case LogoutOthers:
		_, err := s.EndOtherSessions(ctx, who, c)
		return err
	case LogoutGlobal:
		// Others first, then the caller's: a failure in between leaves the
		// caller signed in to try again, never signed out with others left.
		n, err := s.sessions.DeleteAllForUser(ctx, who.UserID, who.SessionID)
		if err != nil {
			return err
		}
		if err := s.sessions.Delete(ctx, who.UserID, who.SessionID); err != nil {
			return err
		}
		return s.noticeSessionsEnded(ctx, who, domain.MailSignedOutEverywhere, n, c.Lang)
	default:
		return s.sessions.Delete(ctx, who.UserID, who.SessionID)
	}
}

func refreshKey(who domain.Claims) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeRefreshCode, Owner: who.SessionID.String()}
}
