package testinbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMS is one message as the webhook receiver got it.
type SMS struct {
	Phone   string `json:"phone"`
	Code    string `json:"code"`
	Purpose string `json:"purpose"`
	Message string `json:"message"`
}

// SMSInbox is an httptest server that plays the SMS webhook receiver. A
// request with a wrong signature, content type or body fails the test that
// made the inbox. It checks both signatures: the first version's
// X-Gatehouse-Signature under the first secret, and the Standard Webhooks
// headers, which must carry a valid signature under every secret, a fresh
// timestamp, and a message id it has not seen before.
type SMSInbox struct {
	t       testing.TB
	secret  []byte   // the first secret as written
	keys    [][]byte // every secret, whsec_ ones decoded
	srv     *httptest.Server
	seenIDs map[string]bool

	mu       sync.Mutex
	messages []SMS
	taken    []bool // taken[i]: messages[i] was already returned by WaitFor
	failing  bool
	requests int
}

// NewSMSInbox starts a receiver that checks signatures under secret, which
// may hold several secrets separated by spaces as GATEHOUSE_SMS_WEBHOOK_SECRET
// does; it stops when the test ends.
func NewSMSInbox(t testing.TB, secret string) *SMSInbox {
	t.Helper()
	in := &SMSInbox{t: t, seenIDs: map[string]bool{}}
	fields := strings.Fields(secret)
	if len(fields) == 0 {
		fields = []string{""}
	}
	in.secret = []byte(fields[0])
	for _, f := range fields {
		key := []byte(f)
		if enc, ok := strings.CutPrefix(f, "whsec_"); ok {
			var err error
			if key, err = base64.StdEncoding.DecodeString(enc); err != nil {
				t.Fatalf("testinbox: secret %q: %v", f, err)
			}
		}
		in.keys = append(in.keys, key)
	}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

// URL is the address to configure as the webhook URL.
func (in *SMSInbox) URL() string { return in.srv.URL }

// SetFailing makes the receiver answer 500 (and keep nothing) while fail is
// true, to test what happens when delivery fails.
func (in *SMSInbox) SetFailing(fail bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.failing = fail
}

// Requests counts every request the receiver got, failed ones included.
func (in *SMSInbox) Requests() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.requests
}

// All returns every message received so far, oldest first.
func (in *SMSInbox) All() []SMS {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]SMS(nil), in.messages...)
}

// WaitFor returns the oldest message to phone for purpose that no earlier
// WaitFor returned, waiting up to timeout for it; it fails the test when
// none comes. Delivery is asynchronous, hence the wait.
func (in *SMSInbox) WaitFor(t testing.TB, phone, purpose string, timeout time.Duration) SMS {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m, ok := in.take(phone, purpose); ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("testinbox: no new %q SMS to %s within %s", purpose, phone, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (in *SMSInbox) take(phone, purpose string) (SMS, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, m := range in.messages {
		if !in.taken[i] && m.Phone == phone && m.Purpose == purpose {
			in.taken[i] = true
			return m, true
		}
	}
	return SMS{}, false
}

func (in *SMSInbox) serve(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	in.requests++
	failing := in.failing
	in.mu.Unlock()

	if r.Method != http.MethodPost {
		in.t.Errorf("testinbox: SMS webhook got method %s, want POST", r.Method)
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		in.t.Errorf("testinbox: SMS webhook got Content-Type %q, want application/json", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		in.t.Errorf("testinbox: read SMS webhook body: %v", err)
		return
	}
	mac := hmac.New(sha256.New, in.secret)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get("X-Gatehouse-Signature"); !hmac.Equal([]byte(got), []byte(want)) {
		in.t.Errorf("testinbox: SMS webhook signature %q does not match the body", got)
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	if err := in.verifyStandard(r.Header, body); err != nil {
		in.t.Errorf("testinbox: SMS webhook Standard Webhooks signature: %v", err)
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	m, err := decodeSMS(body)
	if err != nil {
		in.t.Errorf("testinbox: SMS webhook body %s: %v", body, err)
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	if failing {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
		return
	}
	in.mu.Lock()
	in.messages = append(in.messages, m)
	in.taken = append(in.taken, false)
	in.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// verifyStandard checks the Standard Webhooks headers as a receiver should:
// the timestamp within five minutes, an id never seen before (a replay is
// refused), and for every secret a "v1," signature of "{id}.{timestamp}.{body}".
func (in *SMSInbox) verifyStandard(h http.Header, body []byte) error {
	id, ts := h.Get("webhook-id"), h.Get("webhook-timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("webhook-id %q or webhook-timestamp %q missing", id, ts)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("webhook-timestamp %s is too far from now", ts)
	}
	in.mu.Lock()
	replay := in.seenIDs[id]
	in.seenIDs[id] = true
	in.mu.Unlock()
	if replay {
		return fmt.Errorf("webhook-id %s was already delivered", id)
	}
	got := strings.Fields(h.Get("webhook-signature"))
	for i, key := range in.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !slices.ContainsFunc(got, func(s string) bool { return hmac.Equal([]byte(s), []byte(want)) }) {
			return fmt.Errorf("no valid v1 signature under secret %d in %q", i+1, got)
		}
	}
	return nil
}

// decodeSMS insists on exactly the four fields of the contract, each a
// non-empty string.
func decodeSMS(body []byte) (SMS, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return SMS{}, err
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"code", "message", "phone", "purpose"}; !slices.Equal(keys, want) {
		return SMS{}, fmt.Errorf("fields %v, want %v", keys, want)
	}
	var m SMS
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return SMS{}, err
	}
	if m.Phone == "" || m.Code == "" || m.Purpose == "" || m.Message == "" {
		return SMS{}, fmt.Errorf("empty field in %+v", m)
	}
	return m, nil
}
