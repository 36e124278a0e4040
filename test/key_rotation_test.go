package test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/config"
)

// keyFiles holds the signing and verify-only key files of a rotation test.
type keyFiles struct {
	t             *testing.T
	sign, verify  string
	keyA, keyB    []byte // PKCS#8 PEM
	publicA, pubB []byte // PKIX PEM
}

func newKeyFiles(t *testing.T) *keyFiles {
	dir := t.TempDir()
	k := &keyFiles{t: t, sign: filepath.Join(dir, "sign.pem"), verify: filepath.Join(dir, "verify.pem")}
	k.keyA, k.publicA = newKeyPair(t)
	k.keyB, k.pubB = newKeyPair(t)
	return k
}

func newKeyPair(t *testing.T) (private, public []byte) {
	t.Helper()
	private, err := jwt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwt.ParsePrivateKeyPEM(private)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return private, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// write replaces the content of both files, as an operator would.
func (k *keyFiles) write(sign, verify []byte) {
	k.t.Helper()
	for path, b := range map[string][]byte{k.sign: sign, k.verify: verify} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			k.t.Fatal(err)
		}
	}
}

// jwksKids lists the kids of GET /.well-known/jwks.json in order.
func jwksKids(t *testing.T, c *client) []string {
	t.Helper()
	r := c.get("/.well-known/jwks.json")
	expect(t, r, http.StatusOK, "")
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// newToken logs in with a fresh client and returns the token and its kid.
func newToken(t *testing.T, e *env) (string, string) {
	t.Helper()
	c := e.browser()
	c.login(alice, alicePass)
	tok := c.token()
	kid, _ := ctJWTPart(t, tok, 0)["kid"].(string)
	return tok, kid
}

// TestKeyRotation walks the README's rotation procedure: the next key is
// verify-only and published; a reload makes it sign while tokens of the
// old key keep verifying, with no failed request under load; a broken key
// file changes nothing; removing the old key ends its tokens at once.
func TestKeyRotation(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		keys := newKeyFiles(t)
		// Step 1: A signs, B (its private key file) is verify-only.
		keys.write(keys.keyA, keys.keyB)
		e := newEnv(t, m, func(c *config.Config) {
			c.JWTKeyFile = keys.sign
			c.JWTVerifyKeyFiles = config.List{keys.verify}
		})
		e.createUser(alice, alicePass, "")
		c := e.bare()

		tokA, kidA := newToken(t, e)
		kids := jwksKids(t, c)
		if len(kids) != 2 || kids[0] != kidA {
			t.Fatalf("JWKS kids %v: want the signing key %s first and the verify-only key", kids, kidA)
		}
		kidB := kids[1]

		// Step 2 under load: B signs, A becomes verify-only.
		var failed, done atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		// The load goroutines only count failures: t.Fatal belongs to the
		// test's own goroutine.
		for range 4 {
			lc := e.bare()
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if r := lc.get("/verify", "Authorization", "Bearer "+tokA); r.status != http.StatusNoContent {
						failed.Add(1)
					}
					done.Add(1)
				}
			})
		}
		loginClient, verifyClient := e.browser(), e.bare()
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := loginClient.post("/login", map[string]string{"email": alice, "password": alicePass})
				if r.status != http.StatusNoContent {
					failed.Add(1)
					continue
				}
				if r := verifyClient.get("/verify", "Authorization", "Bearer "+loginClient.token()); r.status != http.StatusNoContent {
					failed.Add(1)
				}
			}
		})
		for done.Load() < 100 {
			// let the load run before the reload
			e.bare().get("/healthz")
		}
		keys.write(keys.keyB, keys.publicA)
		if err := e.app.ReloadKeys(); err != nil {
			t.Fatalf("reload: %v", err)
		}
		for target := done.Load() + 200; done.Load() < target; {
			e.bare().get("/healthz")
		}
		close(stop)
		wg.Wait()
		if n := failed.Load(); n > 0 {
			t.Fatalf("%d requests failed during the reload (of %d)", n, done.Load())
		}

		tokB, kid := newToken(t, e)
		if kid != kidB {
			t.Fatalf("after the reload tokens carry kid %s, want %s", kid, kidB)
		}
		if kids := jwksKids(t, c); len(kids) != 2 || kids[0] != kidB || kids[1] != kidA {
			t.Fatalf("JWKS kids %v after the reload, want [%s %s]", kids, kidB, kidA)
		}
		expect(t, c.get("/verify", "Authorization", "Bearer "+tokA), http.StatusNoContent, "")

		// A broken file on reload changes nothing.
		keys.write(keys.keyB, []byte("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"))
		if err := e.app.ReloadKeys(); err == nil {
			t.Fatal("a broken verify key file was accepted")
		}
		if kids := jwksKids(t, c); len(kids) != 2 || kids[0] != kidB {
			t.Fatalf("JWKS kids %v after a failed reload", kids)
		}
		expect(t, c.get("/verify", "Authorization", "Bearer "+tokA), http.StatusNoContent, "")
		if _, kid := newToken(t, e); kid != kidB {
			t.Fatalf("a failed reload changed the signing key to %s", kid)
		}

		// Step 4: A removed from both lists stops verifying at once,
		// although it was verified (and cached) a moment ago.
		keys.write(keys.keyB, keys.pubB)
		if err := e.app.ReloadKeys(); err != nil {
			t.Fatalf("reload: %v", err)
		}
		expect(t, c.get("/verify", "Authorization", "Bearer "+tokA), http.StatusUnauthorized, "AUTH_EXPIRED")
		expect(t, c.get("/verify", "Authorization", "Bearer "+tokB), http.StatusNoContent, "")
		if kids := jwksKids(t, c); len(kids) != 1 || kids[0] != kidB {
			t.Fatalf("JWKS kids %v, want only %s", kids, kidB)
		}
	})
}
