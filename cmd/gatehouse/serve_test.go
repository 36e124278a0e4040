package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/jwt"
)

// syncBuffer lets the test read the log the server goroutine writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With no configuration, serve runs on in-memory stores, and SIGTERM makes
// it drain and exit 0.
func TestServeInMemoryAndShutDownOnSIGTERM(t *testing.T) {
	clearStores(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("GATEHOUSE_HTTP_ADDR", addr)
	t.Setenv("GATEHOUSE_BOOTSTRAP_EMAIL", "admin@example.com")
	t.Setenv("GATEHOUSE_BOOTSTRAP_PASSWORD", "admin-Secret-2026")

	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve"}, io.Discard, logs) }()

	var up bool
	for range 100 {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			up = resp.StatusCode == http.StatusOK
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !up {
		t.Fatalf("server did not come up; log:\n%s", logs)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exited %d; log:\n%s", code, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	for _, want := range []string{"GATEHOUSE_SECRET is not set", "no signing key", "seeded account", "shutting down"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), "admin-Secret-2026") {
		t.Error("the bootstrap password reached the log")
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getBody GETs url and returns the status and body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Metrics are served on their own listener and never on the public one;
// SIGHUP reloads the signing keys (a verify-only key becomes the signing
// key), and a reload from a broken file keeps the keys in force.
func TestServeMetricsListenerAndSIGHUP(t *testing.T) {
	clearStores(t)
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	sign, verify := dir+"/sign.pem", dir+"/verify.pem"
	keyA, _ := jwt.GenerateKeyPEM()
	keyB, _ := jwt.GenerateKeyPEM()
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(sign, keyA)
	write(verify, keyB)
	t.Setenv("GATEHOUSE_HTTP_ADDR", addr)
	t.Setenv("GATEHOUSE_METRICS_ADDR", metricsAddr)
	t.Setenv("GATEHOUSE_JWT_KEY_FILE", sign)
	t.Setenv("GATEHOUSE_JWT_VERIFY_KEY_FILES", verify)

	logs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run([]string{"serve"}, io.Discard, logs) }()
	var up bool
	for range 100 {
		if resp, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
			resp.Body.Close()
			up = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !up {
		t.Fatalf("metrics listener did not come up; log:\n%s", logs)
	}
	if status, body := getBody(t, "http://"+metricsAddr+"/metrics"); status != http.StatusOK || !strings.Contains(body, "gatehouse_logins_total") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("GET /metrics on the metrics listener = %d\n%.500s", status, body)
	}
	if status, _ := getBody(t, "http://"+addr+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("GET /metrics on the public listener = %d, want 404", status)
	}

	firstKid := func() string {
		_, body := getBody(t, "http://"+addr+"/.well-known/jwks.json")
		_, rest, _ := strings.Cut(body, `"kid":"`)
		kid, _, _ := strings.Cut(rest, `"`)
		return kid
	}
	kidA := firstKid()
	write(sign, keyB)
	write(verify, keyA)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var kidB string
	for range 100 {
		if kidB = firstKid(); kidB != kidA {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if kidB == kidA {
		t.Fatalf("SIGHUP did not switch the signing key; log:\n%s", logs)
	}
	write(verify, []byte("garbage"))
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if strings.Contains(logs.String(), "signing keys not reloaded") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "signing keys not reloaded") || firstKid() != kidB {
		t.Fatalf("a broken key file on SIGHUP must keep the keys and say so; log:\n%s", logs)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exited %d; log:\n%s", code, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after SIGTERM")
	}
	if _, err := http.Get("http://" + metricsAddr + "/metrics"); err == nil {
		t.Fatal("the metrics listener still answers after shutdown")
	}
}
