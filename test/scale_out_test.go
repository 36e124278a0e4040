package test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/storetest"
)

// on returns c sending to the service of e instead: same cookie jar (cookies
// are per host, and every test server is 127.0.0.1), so one browser moves
// between replicas behind a load balancer.
func (c *client) on(e *env) *client {
	cp := *c
	cp.e = e
	return &cp
}

// TestReplicasAsOne runs one user's flows across three processes on one
// PostgreSQL and the Redis Cluster: whatever one replica does, the others
// see at once.
func TestReplicasAsOne(t *testing.T) {
	a := newEnv(t, clusterMode, fixedKey(t))
	b, c := a.twin(), a.twin()
	a.createUser(alice, alicePass, alicePhone)
	a.createUser("bob@example.com", alicePass, "")

	onA := a.browser()
	onA.login(alice, alicePass)
	onB, onC := onA.on(b), onA.on(c)
	expect(t, onB.get("/verify"), http.StatusNoContent, "")

	// Refresh on C: a code issued and redeemed there; A takes the new token.
	var rc struct {
		Code string `json:"code"`
	}
	r := onC.get("/refresh_code")
	expect(t, r, http.StatusOK, "")
	r.json(t, &rc)
	r = onC.post("/refresh_token", map[string]string{"code": rc.Code})
	expect(t, r, http.StatusNoContent, "")
	if ck := r.cookie("TOKEN"); ck == nil || ck.Value == "" {
		t.Fatal("refresh on C gave no TOKEN")
	}
	expect(t, onA.get("/verify"), http.StatusNoContent, "")

	// Logout on B ends the session on A, within API.md's 100 ms (A may hold
	// it in its session cache until Redis's push arrives).
	tokA := onA.token()
	expect(t, onB.post("/logout", nil), http.StatusNoContent, "")
	refusedWithin(t, a, tokA, time.Now())
	expect(t, onA.get("/verify"), http.StatusUnauthorized, "")

	// A login code sent through A is spent through C, and B sees the session.
	sms := a.browser()
	expect(t, sms.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
	msg := a.sms.WaitFor(t, alicePhone, "login", waitDelivery)
	expect(t, sms.on(c).post("/login/sms", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusNoContent, "")
	expect(t, sms.on(b).get("/verify"), http.StatusNoContent, "")
	// Spent everywhere.
	expect(t, b.browser().post("/login/sms", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusBadRequest, "LOGIN_INVALID")

	// Failures on all three count toward one lockout (5 by default).
	envs := []*env{a, b, c}
	for i := range 5 {
		expect(t, envs[i%3].browser().post("/login", map[string]string{"email": "bob@example.com", "password": "wrong-Password-1"}),
			http.StatusBadRequest, "LOGIN_INVALID")
	}
	for _, e := range envs {
		expect(t, e.browser().post("/login", map[string]string{"email": "bob@example.com", "password": alicePass}),
			http.StatusTooManyRequests, "LOGIN_LOCKED")
	}
}

// checkOutageAnswer fails unless r is an answer the API allows while Redis
// fails over: a verdict, or 503 UNAVAILABLE. Any other 5xx is a bug.
func checkOutageAnswer(t *testing.T, what string, r *response) {
	t.Helper()
	if r.status >= 500 && (r.status != http.StatusServiceUnavailable || r.code() != "UNAVAILABLE") {
		t.Fatalf("%s during the failover: %s", what, r)
	}
}

// TestClusterFailover stops one master of a cluster of its own (nothing is
// persisted, and it has no replica: its sessions are lost) and starts it
// again. Meanwhile every request answers quickly, with a verdict or 503
// UNAVAILABLE, /readyz names redis, and afterwards the same process serves
// again without a restart.
func TestClusterFailover(t *testing.T) {
	cl := storetest.StartRedisCluster(t)
	e := newEnv(t, clusterMode, func(cfg *config.Config) {
		cfg.RedisURL = cl.URL
		cfg.RedisKeyPrefix = "gatehouse-failover:"
		cfg.StoreTimeout = 500 * time.Millisecond
	})
	// Enough users that every master holds sessions.
	users := make([]string, 12)
	browsers := make([]*client, len(users))
	for i := range users {
		users[i] = "user" + strconv.Itoa(i) + "@example.com"
		e.createUser(users[i], alicePass, "")
		browsers[i] = e.browser()
		browsers[i].login(users[i], alicePass)
	}
	probe := e.bare()
	expect(t, probe.get("/readyz"), http.StatusOK, "")

	cl.StopNode(cl.Ports[1])
	unavailable, ready := 0, true
	for deadline := time.Now().Add(15 * time.Second); ready || unavailable == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no 503 within 15 s of losing a master (ready %v, 503s %d)", ready, unavailable)
		}
		for i, c := range browsers {
			r := timed(t, "GET /verify", func() *response { return c.get("/verify") })
			checkOutageAnswer(t, "GET /verify", r)
			if r.status == http.StatusServiceUnavailable {
				unavailable++
			}
			r = timed(t, "POST /login", func() *response {
				return e.browser().post("/login", map[string]string{"email": users[i], "password": alicePass})
			})
			checkOutageAnswer(t, "POST /login", r)
		}
		r := timed(t, "GET /readyz", func() *response { return probe.get("/readyz") })
		checkOutageAnswer(t, "GET /readyz", r)
		if r.status == http.StatusServiceUnavailable {
			if !contains(string(r.body), `"redis":"unavailable"`) {
				t.Fatalf("/readyz must name redis: %s", r.body)
			}
			ready = false
		}
	}

	// And it stays unready while the master is lost, whichever node it asks:
	// a PING to a live node would answer.
	for range 20 {
		r := probe.get("/readyz")
		if r.status != http.StatusServiceUnavailable || !contains(string(r.body), `"redis":"unavailable"`) {
			t.Fatalf("/readyz while a master is lost: %s", r)
		}
	}

	cl.StartNode(cl.Ports[1])
	eventually(t, 20*time.Second, "/readyz after the master is back", func() bool {
		r := probe.get("/readyz")
		checkOutageAnswer(t, "GET /readyz", r)
		return r.status == http.StatusOK
	})
	// Every user logs in and is known again; sessions that lived on the
	// surviving masters never ended.
	eventually(t, 10*time.Second, "logins after the failover", func() bool {
		for _, u := range users {
			r := e.browser().post("/login", map[string]string{"email": u, "password": alicePass})
			checkOutageAnswer(t, "POST /login", r)
			if r.status != http.StatusNoContent {
				return false
			}
		}
		return true
	})
	survived := 0
	for _, c := range browsers {
		r := c.get("/verify")
		checkOutageAnswer(t, "GET /verify", r)
		if r.status == http.StatusNoContent {
			survived++
		}
	}
	if survived == 0 {
		t.Error("no session survived the loss of one master of three")
	}
}

// TestRedisDownAtStart starts the service while nothing listens at its
// Redis address: it serves anyway, /readyz names redis, routes that need
// Redis answer 503 UNAVAILABLE, and it recovers on its own once Redis runs.
func TestRedisDownAtStart(t *testing.T) {
	port := storetest.FreePort(t)
	e := newEnv(t, persistentMode, func(cfg *config.Config) {
		cfg.RedisURL = "redis://127.0.0.1:" + strconv.Itoa(port) + "/0"
		cfg.StoreTimeout = 500 * time.Millisecond
	})
	e.createUser(alice, alicePass, "")
	c := e.browser() // GET / needs no store
	r := timed(t, "GET /readyz", func() *response { return c.get("/readyz") })
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !contains(string(r.body), `"redis":"unavailable"`, `"postgres":"ok"`) {
		t.Fatalf("/readyz must name redis alone: %s", r.body)
	}
	r = timed(t, "POST /login", func() *response {
		return c.post("/login", map[string]string{"email": alice, "password": alicePass})
	})
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")

	storetest.StartRedis(t, port)
	eventually(t, 10*time.Second, "/readyz once Redis runs", func() bool { return c.get("/readyz").status == http.StatusOK })
	c.login(alice, alicePass)
	expect(t, c.get("/verify"), http.StatusNoContent, "")
}

// TestSentinelFailover runs the service on a master, a replica and three
// sentinels, and has the sentinels promote the replica: requests meanwhile
// answer with a verdict or 503 UNAVAILABLE, and afterwards the service
// writes to the new master, with the sessions made before.
func TestSentinelFailover(t *testing.T) {
	storetest.DatabaseURL(t)
	s := storetest.StartRedisSentinel(t)
	e := newEnv(t, persistentMode, func(cfg *config.Config) {
		cfg.RedisURL = s.URL
		cfg.RedisKeyPrefix = "gatehouse-sentinel:"
		cfg.StoreTimeout = 500 * time.Millisecond
	})
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/verify"), http.StatusNoContent, "")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	redisAt := func(port int) rueidis.Client {
		r, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:" + strconv.Itoa(port)},
			DisableCache: true, ForceSingleClient: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}
	// The session is on the replica before it is promoted.
	master := redisAt(s.MasterPort)
	if n, err := master.Do(ctx, master.B().Wait().Numreplicas(1).Timeout(5000).Build()).AsInt64(); err != nil || n < 1 {
		t.Fatalf("WAIT for the replica: %d, %v", n, err)
	}
	sentinel := redisAt(s.Sentinels[0])
	if err := sentinel.Do(ctx, sentinel.B().SentinelFailover().Master(s.Master).Build()).Error(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	promoted := func() bool {
		addr, err := sentinel.Do(ctx, sentinel.B().SentinelGetMasterAddrByName().Master(s.Master).Build()).AsStrSlice()
		return err == nil && len(addr) == 2 && addr[1] == strconv.Itoa(s.ReplicaPort)
	}
	for deadline := time.Now().Add(20 * time.Second); !promoted(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sentinels did not promote the replica within 20 s")
		}
		checkOutageAnswer(t, "GET /verify", timed(t, "GET /verify", func() *response { return c.get("/verify") }))
	}
	// Writes reach the new master: a new login, then the old session.
	eventually(t, 15*time.Second, "a login on the new master", func() bool {
		r := timed(t, "POST /login", func() *response {
			return e.browser().post("/login", map[string]string{"email": alice, "password": alicePass})
		})
		checkOutageAnswer(t, "POST /login", r)
		return r.status == http.StatusNoContent
	})
	expect(t, c.get("/verify"), http.StatusNoContent, "")
	expect(t, c.get("/readyz"), http.StatusOK, "")
}
