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
	now := s.Clock.Now()
	claims, err := s.Tokens.Verify(token, now)
	if err != nil {
		return domain.Claims{}, domain.ErrAuthExpired
	}
	if _, err := s.Sessions.Touch(ctx, claims.UserID, claims.SessionID, now, s.policy.Session.IdleTimeout); err != nil {
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
	return s.Codes.Issue(ctx, refreshKey(who), who.UserID, s.policy.RefreshCode)
}

// RefreshToken spends a refresh code and signs a new token for the same
// session. The previous token stays valid until its own expiry; the session's
// absolute timeout bounds both.
func (s *Service) RefreshToken(ctx context.Context, who domain.Claims, code string) (Login, error) {
	if !domain.IsCodeFormat(code) {
		return Login{}, domain.Invalid("code must be 6 digits")
	}
	if err := s.Codes.Use(ctx, refreshKey(who), who.UserID, code, s.policy.RefreshCode); err != nil {
		return Login{}, err
	}
	now := s.Clock.Now()
	sess, err := s.Sessions.Touch(ctx, who.UserID, who.SessionID, now, s.policy.Session.IdleTimeout)
	if errors.Is(err, domain.ErrSessionNotFound) {
		return Login{}, domain.ErrAuthExpired
	}
	if err != nil {
		return Login{}, err
	}
	return s.issue(sess, now)
}

// Logout ends the caller's session; its tokens stop working at once.
func (s *Service) Logout(ctx context.Context, who domain.Claims) error {
	return s.Sessions.Delete(ctx, who.UserID, who.SessionID)
}

func refreshKey(who domain.Claims) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeRefreshCode, Owner: who.SessionID}
}
