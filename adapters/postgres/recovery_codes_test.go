package postgres

import (
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

func TestRecoveryCodeStore(t *testing.T) {
	portstest.TestRecoveryCodeStore(t, func(t *testing.T) portstest.RecoveryCodeStores {
		db := openTestDB(t, true)
		return portstest.RecoveryCodeStores{Codes: NewRecoveryCodeStore(db), Users: NewUserStore(db, testKeyring(t))}
	})
}

// Deleting an account deletes its codes (ON DELETE CASCADE): the port has
// no account deletion, but an operator's DELETE must not be refused or
// leave codes behind.
func TestRecoveryCodesGoWithTheirAccount(t *testing.T) {
	db := openTestDB(t, true)
	stores := portstest.RecoveryCodeStores{Codes: NewRecoveryCodeStore(db), Users: NewUserStore(db, testKeyring(t))}
	acc := &domain.User{Email: "gone@example.com", EmailKey: domain.NewEmailKey("gone@example.com"), Active: true}
	if err := stores.Users.Create(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
	u := acc.ID
	if err := stores.Codes.Replace(t.Context(), u, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(t.Context(), "DELETE FROM users WHERE id = $1", u); err != nil {
		t.Fatalf("delete an account with codes: %v", err)
	}
	var left int
	if err := db.pool.QueryRow(t.Context(), "SELECT count(*) FROM recovery_codes").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d codes left after their account was deleted (%v)", left, err)
	}
}
