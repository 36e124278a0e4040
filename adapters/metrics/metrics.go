// Package metrics is the Prometheus adapter: the collectors API.md
// "Operations" names, an implementation of ports.Observer for the business
// events, the request metrics the HTTP adapter records, and the handler that
// serves them on the metrics listener (never the public one).
//
// Every label value comes from a closed set: route patterns, HTTP methods
// and status codes, and the enumerations of ports. Children of the business
// counters are made up front for every allowed value, so a series exists
// (at 0) before its first event, and an unknown value is dropped rather
// than growing the label space.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// The label values of the closed sets that ports does not define.
var (
	// loginMethods are the login methods API.md lists.
	loginMethods = []string{string(domain.LoginEmail), string(domain.LoginSMS), string(domain.LoginTOTP), string(domain.LoginRecovery), string(domain.LoginLark)}
	loginResults = []ports.LoginResult{ports.LoginSuccess, ports.LoginFailure, ports.LoginLocked}
	scopes       = []ports.LockoutScope{ports.LockoutAccount, ports.LockoutIP}
	channels     = []ports.Channel{ports.ChannelSMS, ports.ChannelEmail}
	purposes     = []ports.SendPurpose{ports.SendLogin, ports.SendBind, ports.SendReset, ports.SendNotice}
	refusals     = []ports.SMSRefusal{ports.SMSRefusedRegion, ports.SMSRefusedNumberType, ports.SMSRefusedIP,
		ports.SMSRefusedRange, ports.SMSRefusedRegionCap, ports.SMSRefusedGlobalCap}
	// httpMethods are the methods labelled by name; any other is "other",
	// since a client may send any token as a method.
	httpMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions}
)

// Store names of gatehouse_store_errors_total.
const (
	StorePostgres = "postgres"
	StoreRedis    = "redis"
)

// Metrics holds the registry and every collector. It is safe for
// concurrent use.
type Metrics struct {
	registry *prometheus.Registry

	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	// requestSeries caches the children of one route, method and status,
	// so the request path skips the label hashing of the vectors.
	requestSeries sync.Map // requestKey -> *requestSeries

	logins    map[loginKey]prometheus.Counter
	lockouts  map[ports.LockoutScope]prometheus.Counter
	codesSent map[sendKey]prometheus.Counter
	refused   map[ports.SMSRefusal]prometheus.Counter
	hashTime  prometheus.Histogram
	storeErrs map[string]prometheus.Counter
}

type loginKey struct {
	method string
	result ports.LoginResult
}

type sendKey struct {
	channel ports.Channel
	purpose ports.SendPurpose
}

type requestKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

var _ ports.Observer = (*Metrics)(nil)

// New registers every collector, with the Go runtime and process
// collectors, in a registry of its own (not the global one, so two
// assemblies in one process, as tests make, never collide).
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m := &Metrics{
		registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		hashTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gatehouse_password_hash_duration_seconds",
			Help: "Time of one argon2id derivation (hash, verify or the decoy of an unknown account), excluding the wait for a hashing slot.",
			// argon2id is tuned to tens to hundreds of milliseconds.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	f(m.requests)
	f(m.durations)
	f(m.hashTime)

	logins := counterVec(f, "gatehouse_logins_total", "Login verdicts, by method and result.", "method", "result")
	m.logins = make(map[loginKey]prometheus.Counter)
	for _, meth := range loginMethods {
		for _, res := range loginResults {
			m.logins[loginKey{meth, res}] = logins.WithLabelValues(meth, string(res))
		}
	}
	lockouts := counterVec(f, "gatehouse_lockouts_total", "Locks started, by scope.", "scope")
	m.lockouts = make(map[ports.LockoutScope]prometheus.Counter)
	for _, s := range scopes {
		m.lockouts[s] = lockouts.WithLabelValues(string(s))
	}
	sent := counterVec(f, "gatehouse_codes_sent_total", "Codes and notices handed to a delivery provider, by channel and purpose.", "channel", "purpose")
	m.codesSent = make(map[sendKey]prometheus.Counter)
	for _, ch := range channels {
		for _, p := range purposes {
			m.codesSent[sendKey{ch, p}] = sent.WithLabelValues(string(ch), string(p))
		}
	}
	refused := counterVec(f, "gatehouse_sms_refused_total", "SMS codes refused before any provider was called, by reason.", "reason")
	m.refused = make(map[ports.SMSRefusal]prometheus.Counter)
	for _, reason := range refusals {
		m.refused[reason] = refused.WithLabelValues(string(reason))
	}
	storeErrs := counterVec(f, "gatehouse_store_errors_total", "Store calls that failed (outages and unexpected errors, not \"not found\" or a taken value), by store.", "store")
	m.storeErrs = map[string]prometheus.Counter{
		StorePostgres: storeErrs.WithLabelValues(StorePostgres),
		StoreRedis:    storeErrs.WithLabelValues(StoreRedis),
	}
	return m
}

func counterVec(register func(prometheus.Collector), name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	register(v)
	return v
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Registry is where the collectors live, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObserveRequest counts one answered request and its duration. route is a
// route pattern or "unmatched" (the HTTP adapter's word), never a raw path.
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	if !knownMethod(method) {
		method = "other"
	}
	key := requestKey{route, method, status}
	s, ok := m.requestSeries.Load(key)
	if !ok {
		s, _ = m.requestSeries.LoadOrStore(key, &requestSeries{
			count:    m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: m.durations.WithLabelValues(route, method),
		})
	}
	rs := s.(*requestSeries)
	rs.count.Inc()
	rs.duration.Observe(elapsed.Seconds())
}

func knownMethod(method string) bool {
	for _, m := range httpMethods {
		if m == method {
			return true
		}
	}
	return false
}

// LoginAttempt counts one login verdict.
func (m *Metrics) LoginAttempt(method domain.LoginMethod, result ports.LoginResult) {
	if c := m.logins[loginKey{string(method), result}]; c != nil {
		c.Inc()
	}
}

// Lockout counts one lock that started.
func (m *Metrics) Lockout(scope ports.LockoutScope) {
	if c := m.lockouts[scope]; c != nil {
		c.Inc()
	}
}

// CodeSent counts one message handed to a provider.
func (m *Metrics) CodeSent(channel ports.Channel, purpose ports.SendPurpose) {
	if c := m.codesSent[sendKey{channel, purpose}]; c != nil {
		c.Inc()
	}
}

// SMSRefused counts one SMS code refused.
func (m *Metrics) SMSRefused(reason ports.SMSRefusal) {
	if c := m.refused[reason]; c != nil {
		c.Inc()
	}
}

// ObserveHash records the time of one password hash.
func (m *Metrics) ObserveHash(elapsed time.Duration) {
	m.hashTime.Observe(elapsed.Seconds())
}

// StoreError counts one failed call of store (StorePostgres, StoreRedis).
func (m *Metrics) StoreError(store string) {
	if c := m.storeErrs[store]; c != nil {
		c.Inc()
	}
}

// DeliveryQueues is what the delivery adapter reports per channel
// ("sms", "mail").
type DeliveryQueues interface {
	Queued(channel string) int
	Dropped(channel string) uint64
}

// WatchDelivery exports the queue length and the drops of each delivery
// channel, read from q at every scrape. The delivery adapter names mail
// "mail"; the label says "email", as the other metrics do.
func (m *Metrics) WatchDelivery(q DeliveryQueues) {
	for adapterName, label := range map[string]ports.Channel{"sms": ports.ChannelSMS, "mail": ports.ChannelEmail} {
		labels := prometheus.Labels{"channel": string(label)}
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "gatehouse_delivery_queue_length",
			Help:        "Messages waiting for a delivery worker, by channel.",
			ConstLabels: labels,
		}, func() float64 { return float64(q.Queued(adapterName)) }))
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "gatehouse_delivery_dropped_total",
			Help:        "Messages dropped without delivery (pushed out of a full queue, or sent after shutdown began), by channel.",
			ConstLabels: labels,
		}, func() float64 { return float64(q.Dropped(adapterName)) }))
	}
}

// WatchAccessLog exports the access log lines dropped because the log
// output fell behind, read from dropped at every scrape.
func (m *Metrics) WatchAccessLog(dropped func() uint64) {
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "gatehouse_access_log_dropped_total",
		Help: "Access log lines dropped because the log output fell behind the requests.",
	}, func() float64 { return float64(dropped()) }))
}
