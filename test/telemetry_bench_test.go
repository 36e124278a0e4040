package test

import (
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// The telemetry overhead benchmarks: GET /verify and GET /user in memory
// mode, with metrics off and on (tracing off in both: no OTEL_* endpoint).
// API.md "Operations" allows metrics at most 5 % of the figure without
// them; test/telemetry/overhead.sh runs the two variants as interleaved
// pairs and reports the median.
func BenchmarkVerifyTelemetry(b *testing.B) { benchTelemetry(b, "/verify", http.StatusNoContent) }

func BenchmarkGetUserTelemetry(b *testing.B) { benchTelemetry(b, "/user", http.StatusOK) }

func benchTelemetry(b *testing.B, path string, status int) {
	for _, metrics := range []string{"off", "on"} {
		b.Run("metrics="+metrics, func(b *testing.B) {
			e := newBenchEnvWith(b, memoryMode, func(c *config.Config) {
				if metrics == "on" {
					c.MetricsAddr = "127.0.0.1:0" // collected; nobody scrapes
				}
			})
			tok := e.token(b)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := e.client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != status {
						b.Errorf("GET %s = %d", path, resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
