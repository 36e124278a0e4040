package profile

import (
	"bytes"
	"context"

	"github.com/gatehouse/gatehouse/domain"
)

// errTOTPNotBound refuses recovery codes to an account without TOTP (or
// whose TOTP changed while they were made): TOTP_INVALID, with a message
// that says why.
var errTOTPNotBound = &domain.Error{Code: domain.CodeTOTPInvalid, Message: "TOTP is not bound to this account"}

// RecoveryCodesRequest is the input of making recovery codes: the current
// password, since a stolen session alone must not mint a way back in.
type RecoveryCodesRequest struct {
	Password string
	Client   domain.Client
}

// MakeRecoveryCodes makes a new set of domain.RecoveryCodeCount recovery
// codes for the caller's account, which must have TOTP bound, and returns
// them: the only time they are shown, since the store keeps digests. Any
// earlier set is void. The password is checked like the old one of a
// password change: a wrong one is PASSWORD_INVALID and counts against the
// lockout. An account without TOTP is TOTP_INVALID, checked first, so it
// tells nothing about the password.
func (s *Service) MakeRecoveryCodes(ctx context.Context, who domain.Claims, in RecoveryCodesRequest) ([]string, error) {
	if in.Password == "" {
		return nil, domain.Invalid("password is required")
	}
	u, err := s.users.ByID(ctx, who.UserID)
	if err != nil {
		return nil, domain.CallerGone(err)
	}
	if u.TOTP == nil {
		return nil, errTOTPNotBound
	}
	if err := s.checkPassword(ctx, u, in.Password, in.Client.IP); err != nil {
		return nil, err
	}
	codes := make([]string, domain.RecoveryCodeCount)
	digests := make([]string, len(codes))
	for i := range codes {
		codes[i] = domain.NewRecoveryCode()
		digests[i], _ = domain.RecoveryCodeDigest(codes[i])
	}
	if err := s.recoveryCodes.Replace(ctx, u.ID, digests); err != nil {
		return nil, domain.CallerGone(err)
	}
	if err := s.confirmRecoveryCodes(ctx, u); err != nil {
		return nil, err
	}
	if err := s.notify(ctx, u, domain.MailRecoveryCodesMade, in.Client.Lang); err != nil {
		return nil, err
	}
	return codes, nil
}

// confirmRecoveryCodes reads the account again after its new codes were
// stored, and voids them when TOTP was removed or rebound, or the password
// changed or reset, since it was checked. Those changes void the codes
// themselves, but one that landed between the check and the store would
// void the old set and leave this one: either this read sees the change,
// or the change's own void comes after the codes were stored and takes
// them.
func (s *Service) confirmRecoveryCodes(ctx context.Context, checked *domain.User) error {
	u, err := s.users.ByID(ctx, checked.ID)
	var refused error
	switch {
	case err != nil:
		refused = domain.CallerGone(err)
	case !sameTOTP(u.TOTP, checked.TOTP):
		refused = errTOTPNotBound
	case u.CredentialEpoch != checked.CredentialEpoch:
		// A new password or status: the one that was checked is no
		// longer the account's, or the account was disabled.
		refused = domain.ErrPasswordInvalid
		if !u.Active {
			refused = domain.ErrAuthExpired
		}
	default:
		return nil
	}
	if err := s.recoveryCodes.Void(context.WithoutCancel(ctx), checked.ID); err != nil {
		return err
	}
	return refused
}

// sameTOTP reports whether a and b are the same sealed secret.
func sameTOTP(a, b *domain.SealedTOTP) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.KeyID == b.KeyID && bytes.Equal(a.Data, b.Data)
}

// RecoveryCodesLeft returns how many unused recovery codes u has; 0, with
// no store call, when no TOTP is bound, since codes stand in for TOTP
// only.
func (s *Service) RecoveryCodesLeft(ctx context.Context, u *domain.User) (int, error) {
	if u.TOTP == nil {
		return 0, nil
	}
	return s.recoveryCodes.Count(ctx, u.ID)
}
