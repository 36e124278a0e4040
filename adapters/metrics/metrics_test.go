package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// An unknown method or label value never becomes a new series.
func TestClosedLabelSets(t *testing.T) {
	m := New()
	m.ObserveRequest("/verify", "BREW", 204, time.Millisecond)
	m.LoginAttempt(domain.LoginMethod("alice@example.com"), ports.LoginSuccess)
	m.SMSRefused(ports.SMSRefusal("+8613800138000"))
	m.StoreError("mysql")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, bad := range []string{"BREW", "alice", "+86", "mysql"} {
		if strings.Contains(body, bad) {
			t.Errorf("metrics carry %q", bad)
		}
	}
	if !strings.Contains(body, `gatehouse_http_requests_total{code="204",method="other",route="/verify"} 1`) {
		t.Errorf("an unknown method is not counted as other:\n%s", body)
	}
}

// BenchmarkObserveRequest is the whole cost metrics add to a request that
// raises no business event (GET /verify, GET /user).
func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("/verify", "GET", 204, 40*time.Microsecond)
		}
	})
}
