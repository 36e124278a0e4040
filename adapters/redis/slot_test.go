package redis

import (
	"strconv"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
)

// TestKeySlot checks keySlot against what CLUSTER KEYSLOT of Redis 7 answers.
func TestKeySlot(t *testing.T) {
	for key, want := range map[string]uint16{
		"foo":                  12182,
		"somekey":              11058,
		"hello":                866,
		"{user1000}.following": 3443,
		"user1000":             3443,
		"a{}b":                 13694, // an empty tag hashes the whole key
		"{}":                   15257,
		"a{b":                  13340, // so does an unclosed one
		"x{%00}y":              7920,
	} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestStoreKeysShareASlot builds the keys each multi-key call of the stores
// uses, for identifiers that would break a naive hash tag, and checks them
// the way exec does: a key set that spans slots is a bug caught here, not a
// CROSSSLOT reply in production.
func TestStoreKeysShareASlot(t *testing.T) {
	c := &Client{prefix: "pre:fix:"}
	for _, id := range []string{"", "u1", "a}b", "{x}", "}{", "%7B", "user@example.com", "+8613800138000", "ip:203.0.113.9"} {
		ac := NewAttemptCounter(c)
		sets := map[string][]string{
			"attempts": ac.keys(id),
			"reset":    {c.tagged("fail", id), c.tagged("lock", id)},
		}
		index := NewSessionStore(c).index(domain.UserID(id))
		sets["session create"] = []string{index + ":" + "s1", index, index + "#origin"}
		var steps []string
		for step := range int64(3) {
			steps = append(steps, c.tagged("totp", id)+":step:"+strconv.FormatInt(step, 10))
		}
		steps = append(steps, NewTOTPStore(c).pendingKey(domain.UserID(id)))
		sets["totp"] = steps
		for name, keys := range sets {
			if err := oneSlot(keys); err != nil {
				t.Errorf("%s keys of %q: %v", name, id, err)
			}
		}
	}
	if oneSlot([]string{c.tagged("fail", "a"), c.tagged("fail", "b")}) == nil {
		t.Error("oneSlot accepted keys of two tags")
	}
}
