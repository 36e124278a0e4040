package testlark

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The endpoints' paths, as on open.feishu.cn and accounts.feishu.cn.
const (
	AuthorizePath = "/open-apis/authen/v1/authorize"
	TokenPath     = "/open-apis/authen/v2/oauth/token"
	UserInfoPath  = "/open-apis/authen/v1/user_info"
)

// User is a Lark account as user info reports it.
type User struct {
	OpenID    string `json:"open_id"`
	UnionID   string `json:"union_id"`
	Name      string `json:"name"`
	EnName    string `json:"en_name"`
	AvatarURL string `json:"avatar_url"`
	TenantKey string `json:"tenant_key"`
	// Email and Mobile are what Lark may also report; Gatehouse must
	// never match accounts by them.
	Email  string `json:"email,omitempty"`
	Mobile string `json:"mobile,omitempty"`
}

// Failure is how an endpoint misbehaves.
type Failure int

// The failures an endpoint can be told to answer with.
const (
	// OK answers as Lark does.
	OK Failure = iota
	// HTTPError answers HTTP 500 with a JSON error.
	HTTPError
	// ErrorCode answers HTTP 200 with a non-zero code, as Lark does for
	// many refusals.
	ErrorCode
	// Unreachable drops the connection without an answer, as a Lark that
	// is down or cut off would.
	Unreachable
)

// Server is the fake Lark. Its zero settings answer like a healthy Lark
// whose signed-in person is the User given to New.
type Server struct {
	t         testing.TB
	srv       *httptest.Server
	appID     string
	appSecret string

	mu            sync.Mutex
	user          User
	deny          bool
	token         Failure
	userInfo      Failure
	tokenDelay    time.Duration
	userInfoDelay time.Duration
	grants        map[string]*grant // by code
	tokens        map[string]User   // by access token
	issued        []string          // every code and access token handed out
	refused       []string          // why each refused token request was refused
	requests      map[string]int    // by path
}

type grant struct {
	user        User
	challenge   string
	redirectURI string
	used        bool
}

// New starts a fake Lark for the app appID with secret appSecret, where user
// is signed in. It stops when t ends.
func New(t testing.TB, appID, appSecret string, user User) *Server {
	s := &Server{t: t, appID: appID, appSecret: appSecret, user: user,
		grants: map[string]*grant{}, tokens: map[string]User{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AuthorizePath, s.authorize)
	mux.HandleFunc("POST "+TokenPath, s.tokenEndpoint)
	mux.HandleFunc("GET "+UserInfoPath, s.userInfoEndpoint)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// AuthorizeURL, TokenURL and UserInfoURL are the endpoints to configure.
func (s *Server) AuthorizeURL() string { return s.srv.URL + AuthorizePath }

// TokenURL is the v2 token endpoint.
func (s *Server) TokenURL() string { return s.srv.URL + TokenPath }

// UserInfoURL is the user info endpoint.
func (s *Server) UserInfoURL() string { return s.srv.URL + UserInfoPath }

// SignIn makes u the person signed in to Lark from now on.
func (s *Server) SignIn(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user = u
}

// Deny makes the person decline (true) or consent (false) from now on.
func (s *Server) Deny(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// FailToken and FailUserInfo make an endpoint misbehave from now on.
func (s *Server) FailToken(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = f
}

// FailUserInfo makes the user info endpoint misbehave from now on.
func (s *Server) FailUserInfo(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userInfo = f
}

// SlowToken and SlowUserInfo make an endpoint wait d before answering, from
// now on; zero answers at once. The wait ends early, with no answer, when
// the request is cancelled (the caller timed out or went away), so a slow
// endpoint never outlives its caller. After the wait the endpoint answers
// as it otherwise would, failure included.
func (s *Server) SlowToken(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenDelay = d
}

// SlowUserInfo makes the user info endpoint wait d before answering.
func (s *Server) SlowUserInfo(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userInfoDelay = d
}

// Issued returns every code and access token the server handed out, for
// checking that none of them leaked into a log.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// Refused returns why each refused token request was refused, in order.
func (s *Server) Refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.refused...)
}

// Requests returns how many requests reached the endpoint at path.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

// authorize plays the consent page: it checks the request as Lark would and
// sends the browser back to redirect_uri at once, with a code or, when
// told to deny, with error=access_denied.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[AuthorizePath]++
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != s.appID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || redirect.Host == "":
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		http.Error(w, "PKCE S256 is required", http.StatusBadRequest)
		return
	case q.Get("state") == "":
		http.Error(w, "state is required", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if s.deny {
		back.Set("error", "access_denied")
	} else {
		code := secret()
		s.grants[code] = &grant{user: s.user, challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
		s.issued = append(s.issued, code)
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	CodeVerifier string `json:"code_verifier"`
}

// tokenEndpoint redeems a code, once, for an access token. A code is spent
// by its first redemption even when that fails (a wrong verifier), as RFC
// 6749 asks of a code presented twice.
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if !s.stall(r, TokenPath, &s.tokenDelay) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail(w, s.token) {
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var req tokenRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if mt != "application/json" || dec.Decode(&req) != nil {
		s.refuse(w, http.StatusBadRequest, 20001, "invalid_request", "the body must be a JSON object of the documented fields")
		return
	}
	if req.GrantType != "authorization_code" {
		s.refuse(w, http.StatusBadRequest, 20001, "unsupported_grant_type", "grant_type must be authorization_code")
		return
	}
	if req.ClientID != s.appID || subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(s.appSecret)) != 1 {
		s.refuse(w, http.StatusUnauthorized, 20002, "invalid_client", "client_id or client_secret is wrong")
		return
	}
	g, ok := s.grants[req.Code]
	if !ok || g.used {
		s.refuse(w, http.StatusBadRequest, 20003, "invalid_grant", "the code is unknown or already used")
		return
	}
	g.used = true
	if req.RedirectURI != g.redirectURI {
		s.refuse(w, http.StatusBadRequest, 20003, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	}
	sum := sha256.Sum256([]byte(req.CodeVerifier))
	if req.CodeVerifier == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		s.refuse(w, http.StatusBadRequest, 20024, "invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	token := "u-" + secret()
	s.tokens[token] = g.user
	s.issued = append(s.issued, token)
	writeJSON(w, http.StatusOK, map[string]any{
		"code": 0, "access_token": token, "expires_in": 7200, "token_type": "Bearer", "scope": "",
	})
}

func (s *Server) refuse(w http.ResponseWriter, status, code int, oauthError, description string) {
	s.refused = append(s.refused, description)
	writeJSON(w, status, map[string]any{"code": code, "error": oauthError, "error_description": description})
}

// userInfoEndpoint answers who the access token belongs to.
func (s *Server) userInfoEndpoint(w http.ResponseWriter, r *http.Request) {
	if !s.stall(r, UserInfoPath, &s.userInfoDelay) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail(w, s.userInfo) {
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	u, known := s.tokens[token]
	if !ok || !known {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 99991668, "msg": "Invalid access token for authorization"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "msg": "success", "data": u})
}

// stall counts a request to path and holds it back for *delay, without
// holding the lock meanwhile. It reports false, and the handler must return
// without answering, when the request was cancelled first.
func (s *Server) stall(r *http.Request, path string, delay *time.Duration) bool {
	s.mu.Lock()
	s.requests[path]++
	d := *delay
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	// net/http notices that the client hung up, and cancels r's context,
	// only once the request body has been read to its end: read it now and
	// leave the handler a copy.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fail answers as f says and reports whether it did.
func (s *Server) fail(w http.ResponseWriter, f Failure) bool {
	switch f {
	case HTTPError:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"code": 20050, "msg": "internal server error"})
	case ErrorCode:
		writeJSON(w, http.StatusOK, map[string]any{"code": 20050, "msg": "system busy, try again later"})
	case Unreachable:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			s.t.Errorf("testlark: hijack: %v", err)
			return true
		}
		_ = conn.Close()
	default:
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func secret() string { return rand.Text() }

// Visit plays the browser at Lark: it opens authorizeURL (where Gatehouse
// sent the browser) and returns where Lark sends the browser back to, the
// callback with its code or error. An answer other than a redirect fails t.
func (s *Server) Visit(t testing.TB, authorizeURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatalf("testlark: open %s: %v", authorizeURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("testlark: authorize answered %d, want 302", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("testlark: redirect: %v", err)
	}
	return back
}
