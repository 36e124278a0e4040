package profile_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/profile"
)

// A live session whose account no longer exists is a dead session: every
// operation on the caller's account answers AUTH_EXPIRED, not "not found".
func TestCallerAccountGone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ghost := domain.Claims{UserID: "0b9d6c3e-5f1a-4c4e-9a51-1d2f3e4a5b6c", SessionID: "orphan"}

	t.Run("Get", func(t *testing.T) {
		_, err := e.svc.Get(ctx, ghost)
		wantErr(t, err, domain.ErrAuthExpired)
	})
	t.Run("Update", func(t *testing.T) {
		name := "New Name"
		wantErr(t, e.svc.Update(ctx, ghost, profile.Update{Key: profile.FieldName, Name: &name}), domain.ErrAuthExpired)
	})
	t.Run("ChangePassword", func(t *testing.T) {
		wantErr(t, e.svc.ChangePassword(ctx, ghost, profile.PasswordChange{Old: password, Password: "another-Horse-43", Client: client}), domain.ErrAuthExpired)
	})
	t.Run("Remove", func(t *testing.T) {
		wantErr(t, e.svc.Remove(ctx, ghost, "phone", client), domain.ErrAuthExpired)
	})
	t.Run("BindPhone", func(t *testing.T) {
		const phone = "+8613800138000"
		if err := e.svc.SendBindCode(ctx, ghost, phone, client); err != nil {
			t.Fatal(err)
		}
		code := e.outbox.SMS()[len(e.outbox.SMS())-1].Code
		wantErr(t, e.svc.BindPhone(ctx, ghost, profile.PhoneBinding{Phone: phone, Code: code, Client: client}), domain.ErrAuthExpired)
	})
}
