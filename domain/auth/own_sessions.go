package auth

import (
	"context"

	"github.com/gatehouse/gatehouse/domain"
)

// ListSessions returns the caller's live sessions, newest first, with how
// each was made and when it was last seen.
func (s *Service) ListSessions(ctx context.Context, who domain.Claims) ([]domain.Session, error) {
	return s.sessions.List(ctx, who.UserID, s.clock.Now())
}

// EndSession ends the session id of the caller's account; its tokens stop
// working at once. An id that is not a live session of the account changes
// nothing and is no error: the store looks only under the caller's own
// account, so no other account's session can be ended or probed this way.
func (s *Service) EndSession(ctx context.Context, who domain.Claims, id domain.SessionID) error {
	return s.sessions.Delete(ctx, who.UserID, id)
}

// EndOtherSessions ends every session of the caller's account except the
// caller's own and returns how many it ended. When it ended any, the owner
// gets a notice: a stolen session could use this to shut the owner out.
func (s *Service) EndOtherSessions(ctx context.Context, who domain.Claims, c domain.Client) (int, error) {
	n, err := s.sessions.DeleteAllForUser(ctx, who.UserID, who.SessionID)
	if err != nil {
		return 0, err
	}
	return n, s.noticeSessionsEnded(ctx, who, domain.MailSessionsEnded, n, c.Lang)
}

// LogoutScope says which sessions a logout ends.
type LogoutScope string

// The scopes of POST /logout.
const (
	LogoutLocal  LogoutScope = "local"  // the caller's session
	LogoutOthers LogoutScope = "others" // every other session of the account
	LogoutGlobal LogoutScope = "global" // every session of the account
)

// ParseLogoutScope reads a scope; empty is LogoutLocal.
func ParseLogoutScope(v string) (LogoutScope, error) {
	switch scope := LogoutScope(v); scope {
	case "":
		return LogoutLocal, nil
	case LogoutLocal, LogoutOthers, LogoutGlobal:
		return scope, nil
	}
	return "", domain.Invalid("scope must be local, others or global")
}

// noticeSessionsEnded tells the owner that n sessions other than the
// asking one were ended; nothing when none were.
func (s *Service) noticeSessionsEnded(ctx context.Context, who domain.Claims, kind domain.MailKind, n int, lang domain.Lang) error {
	if n == 0 {
		return nil
	}
	u, err := s.users.ByID(ctx, who.UserID)
	if err != nil {
		return domain.CallerGone(err)
	}
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: kind, Lang: lang, Sessions: n})
}
