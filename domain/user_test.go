package domain

import (
	"reflect"
	"testing"
)

// Clone shares no pointer with the original: editing the copy, down to the
// Lark binding and the latest login, leaves the original as it was.
func TestUserClone(t *testing.T) {
	u := &User{ID: "id", Name: "Ada", Lark: &LarkProfile{Name: "Ada"}, LastLogin: &LoginRecord{IP: "203.0.113.1"},
		TOTP: &SealedTOTP{KeyID: "k1", Data: []byte{1, 2, 3}}}
	c := u.Clone()
	if !reflect.DeepEqual(c, u) {
		t.Fatalf("Clone = %+v, want %+v", c, u)
	}
	c.Name, c.Lark.Name, c.LastLogin.IP = "x", "x", "x"
	c.TOTP.KeyID, c.TOTP.Data[0] = "x", 9
	if u.Name != "Ada" || u.Lark.Name != "Ada" || u.LastLogin.IP != "203.0.113.1" || u.TOTP.KeyID != "k1" || u.TOTP.Data[0] != 1 {
		t.Fatalf("editing the clone changed the original: %+v %+v %+v", u, *u.Lark, *u.LastLogin)
	}
	if (*User)(nil).Clone() != nil {
		t.Fatal("Clone of nil is not nil")
	}
}

// Clone copies the pointer fields it knows of; a new field that can share
// memory (pointer, slice, map) must be added to Clone and to this list.
func TestUserCloneKnowsEveryReference(t *testing.T) {
	copied := map[string]bool{"User.Lark": true, "User.LastLogin": true, "User.TOTP": true, "SealedTOTP.Data": true}
	for _, typ := range []reflect.Type{reflect.TypeFor[User](), reflect.TypeFor[LarkProfile](), reflect.TypeFor[LoginRecord](), reflect.TypeFor[SealedTOTP]()} {
		for f := range typ.Fields() {
			switch f.Type.Kind() {
			case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Chan, reflect.Func:
				if !copied[typ.Name()+"."+f.Name] {
					t.Errorf("%s.%s (%s) can share memory and Clone does not copy it", typ.Name(), f.Name, f.Type)
				}
			}
		}
	}
}
