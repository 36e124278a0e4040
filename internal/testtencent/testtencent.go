// Package testtencent is a fake Tencent Cloud SMS endpoint for tests: an
// httptest server that speaks the JSON API of SendSms (version 2021-01-11)
// as Tencent's Go SDK calls it, checks each call's TC3-HMAC-SHA256
// signature under the test's secret key, and keeps what it was asked to
// send. Unit tests of the sender and the black-box suite use it.
package testtencent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMS is one number of one SendSms call the endpoint accepted.
type SMS struct {
	Phone      string
	AppID      string
	SignName   string
	TemplateID string
	Params     []string
	Region     string
}

// Server is the fake endpoint.
type Server struct {
	secretID, secretKey string
	srv                 *httptest.Server

	mu       sync.Mutex
	messages []SMS
	taken    []bool
	calls    int
	failing  map[string]string // phone → its SendStatus code
	apiError string            // when set, every call fails with this error code
	hang     chan struct{}     // when set, calls wait for it to close
}

// New starts an endpoint that accepts calls signed with secretID and
// secretKey; it stops when the test ends.
func New(t testing.TB, secretID, secretKey string) *Server {
	t.Helper()
	s := &Server{secretID: secretID, secretKey: secretKey, failing: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		s.srv.Close()
	})
	return s
}

// URL is the address to configure as GATEHOUSE_TENCENT_SMS_ENDPOINT.
func (s *Server) URL() string { return s.srv.URL }

// FailNumber makes the send to phone fail inside a 200 answer, with code as
// its SendStatus code (as Tencent does for one bad number of a batch).
func (s *Server) FailNumber(phone, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[phone] = code
}

// FailCalls makes every call answer the API error code (empty: none).
func (s *Server) FailCalls(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiError = code
}

// Hang makes calls wait until the test ends or Hang(false).
func (s *Server) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// Calls counts the SendSms calls received, refused ones included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// All returns every accepted message, oldest first.
func (s *Server) All() []SMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMS(nil), s.messages...)
}

// WaitFor returns the oldest message to phone that no earlier WaitFor
// returned, waiting up to timeout; it fails the test when none comes.
func (s *Server) WaitFor(t testing.TB, phone string, timeout time.Duration) SMS {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		for i, m := range s.messages {
			if !s.taken[i] && m.Phone == phone {
				s.taken[i] = true
				s.mu.Unlock()
				return m
			}
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("testtencent: no new SMS to %s within %s", phone, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendSmsRequest is the part of SendSms the fake reads.
type sendSmsRequest struct {
	PhoneNumberSet   []string
	SmsSdkAppId      string
	TemplateId       string
	SignName         string
	TemplateParamSet []string
}

type sendStatus struct {
	SerialNo    string
	PhoneNumber string
	Fee         int
	Code        string
	Message     string
	IsoCode     string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	n := s.calls
	apiError, hang := s.apiError, s.hang
	s.mu.Unlock()
	requestID := fmt.Sprintf("fake-request-%d", n)

	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	if r.Method != http.MethodPost || r.Header.Get("X-TC-Action") != "SendSms" || r.Header.Get("X-TC-Version") != "2021-01-11" {
		writeError(w, requestID, "InvalidAction", "only SendSms of 2021-01-11 is served")
		return
	}
	if err := s.verify(r, body); err != nil {
		writeError(w, requestID, "AuthFailure.SignatureFailure", err.Error())
		return
	}
	if apiError != "" {
		writeError(w, requestID, apiError, "failing on purpose")
		return
	}
	var req sendSmsRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.PhoneNumberSet) == 0 {
		writeError(w, requestID, "InvalidParameter", "bad SendSms body")
		return
	}
	statuses := make([]sendStatus, 0, len(req.PhoneNumberSet))
	s.mu.Lock()
	for i, phone := range req.PhoneNumberSet {
		st := sendStatus{SerialNo: fmt.Sprintf("%d:%d", n, i), PhoneNumber: phone, Fee: 1, Code: "Ok", Message: "send success", IsoCode: "CN"}
		if code, bad := s.failing[phone]; bad {
			st.Code, st.Message, st.Fee = code, "failing on purpose", 0
		} else {
			s.messages = append(s.messages, SMS{
				Phone: phone, AppID: req.SmsSdkAppId, SignName: req.SignName, TemplateID: req.TemplateId,
				Params: req.TemplateParamSet, Region: r.Header.Get("X-TC-Region"),
			})
			s.taken = append(s.taken, false)
		}
		statuses = append(statuses, st)
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"Response": map[string]any{"SendStatusSet": statuses, "RequestId": requestID}})
}

// verify checks the TC3-HMAC-SHA256 signature of a POST with a JSON body,
// as Tencent documents it: the canonical request covers the method, "/",
// the content-type and host headers and the body's hash; the key is
// derived from the secret key, the date and the service.
func (s *Server) verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "TC3-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("authorization is not TC3-HMAC-SHA256")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[0] != s.secretID || cred[2] != "sms" || cred[3] != "tc3_request" {
		return fmt.Errorf("credential %q is not for this secret id and sms", fields["Credential"])
	}
	if fields["SignedHeaders"] != "content-type;host" {
		return fmt.Errorf("signed headers %q", fields["SignedHeaders"])
	}
	ts := r.Header.Get("X-TC-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	date := time.Unix(sec, 0).UTC().Format("2006-01-02")
	if cred[1] != date {
		return fmt.Errorf("credential date %s, timestamp date %s", cred[1], date)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is too far from now", ts)
	}
	hashed := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, "/", "",
		"content-type:" + r.Header.Get("Content-Type") + "\nhost:" + r.Host + "\n",
		"content-type;host",
		hex.EncodeToString(hashed[:]),
	}, "\n")
	hc := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"TC3-HMAC-SHA256", ts, date + "/sms/tc3_request", hex.EncodeToString(hc[:])}, "\n")
	key := mac([]byte("TC3"+s.secretKey), date)
	key = mac(key, "sms")
	key = mac(key, "tc3_request")
	want := hex.EncodeToString(mac(key, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return fmt.Errorf("the signature does not match")
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func writeError(w http.ResponseWriter, requestID, code, message string) {
	writeJSON(w, map[string]any{"Response": map[string]any{
		"Error":     map[string]string{"Code": code, "Message": message},
		"RequestId": requestID,
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
