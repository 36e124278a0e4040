package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// RedisClusterEnv points the tests at a Redis Cluster (see RedisClusterURL).
const RedisClusterEnv = "GATEHOUSE_TEST_REDIS_CLUSTER_URL"

// RedisClusterURL returns the URL of the Redis Cluster the tests use. It
// skips tb only when GATEHOUSE_TEST_REDIS_CLUSTER_URL is "skip"; a package
// whose TestMain calls RunWithRedisCluster always has one.
func RedisClusterURL(tb testing.TB) string {
	tb.Helper()
	u := fromEnv(tb, RedisClusterEnv, "")
	if u == "" {
		tb.Fatalf("%s is not set: start a cluster with test/redis-cluster.sh, or call storetest.RunWithRedisCluster from TestMain", RedisClusterEnv)
	}
	return u
}

// RunWithRedisCluster runs the tests of m with a Redis Cluster: the one
// GATEHOUSE_TEST_REDIS_CLUSTER_URL names, or else one it starts with
// test/redis-cluster.sh on free ports and stops afterwards, so that `go
// test` alone runs every test. A cluster that does not start fails the run.
func RunWithRedisCluster(m *testing.M) int {
	if os.Getenv(RedisClusterEnv) != "" {
		return m.Run()
	}
	first, err := freePorts(3, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: no free ports for a Redis Cluster:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "gatehouse-redis-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	env := []string{"REDIS_CLUSTER_DIR=" + dir}
	url, err := script(env, "redis-cluster.sh", "start", strconv.Itoa(first))
	defer func() {
		if _, err := script(env, "redis-cluster.sh", "stop", strconv.Itoa(first)); err != nil {
			fmt.Fprintln(os.Stderr, "storetest: stop the Redis Cluster:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: start a Redis Cluster:", err)
		return 1
	}
	os.Setenv(RedisClusterEnv, url)
	return m.Run()
}

// Cluster is a Redis Cluster of three masters a test started for itself,
// for tests that break it.
type Cluster struct {
	URL   string
	Ports []int
	first int
	env   []string
	tb    testing.TB
}

// StartRedisCluster starts a cluster of its own for tb on free ports; it is
// stopped when tb ends.
func StartRedisCluster(tb testing.TB) *Cluster {
	tb.Helper()
	first, err := freePorts(3, true)
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{Ports: []int{first, first + 1, first + 2}, first: first, tb: tb,
		env: []string{"REDIS_CLUSTER_DIR=" + tb.TempDir()}}
	tb.Cleanup(func() { _, _ = script(c.env, "redis-cluster.sh", "stop", strconv.Itoa(first)) })
	if c.URL, err = script(c.env, "redis-cluster.sh", "start", strconv.Itoa(first)); err != nil {
		tb.Fatalf("start a Redis Cluster: %v", err)
	}
	return c
}

// StopNode shuts the node on port down, as a crash would (nothing saved).
func (c *Cluster) StopNode(port int) {
	c.tb.Helper()
	if _, err := script(c.env, "redis-cluster.sh", "stop-node", strconv.Itoa(port), strconv.Itoa(c.first)); err != nil {
		c.tb.Fatal(err)
	}
}

// StartNode starts the node on port again, empty, with its cluster config.
func (c *Cluster) StartNode(port int) {
	c.tb.Helper()
	if _, err := script(c.env, "redis-cluster.sh", "start-node", strconv.Itoa(port), strconv.Itoa(c.first)); err != nil {
		c.tb.Fatal(err)
	}
}

// Sentinel is a Redis master with one replica watched by three sentinels,
// which a test started for itself.
type Sentinel struct {
	URL string
	// Master names the master set; the ports are the first master's, the
	// replica's and the sentinels'.
	Master      string
	MasterPort  int
	ReplicaPort int
	Sentinels   []int
}

// StartRedisSentinel starts a master, a replica and three sentinels on free
// ports with test/redis-sentinel.sh; they are stopped when tb ends.
func StartRedisSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	first, err := freePorts(5, false)
	if err != nil {
		tb.Fatal(err)
	}
	env := []string{"REDIS_SENTINEL_DIR=" + tb.TempDir()}
	tb.Cleanup(func() { _, _ = script(env, "redis-sentinel.sh", "stop", strconv.Itoa(first)) })
	url, err := script(env, "redis-sentinel.sh", "start", strconv.Itoa(first))
	if err != nil {
		tb.Fatalf("start Redis with Sentinel: %v", err)
	}
	return &Sentinel{URL: url, Master: "gatehouse", MasterPort: first, ReplicaPort: first + 1,
		Sentinels: []int{first + 2, first + 3, first + 4}}
}

// StartRedis starts a bare redis-server on port (nothing persisted); it is
// stopped when tb ends.
func StartRedis(tb testing.TB, port int) {
	tb.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", tb.TempDir())
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server: %v", err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	opt := rueidis.ClientOption{InitAddress: []string{"127.0.0.1:" + strconv.Itoa(port)}, DisableCache: true}
	for range 100 {
		if c, err := rueidis.NewClient(opt); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("redis-server on port %d did not answer", port)
}

// FreePort returns a loopback port nothing listens on.
func FreePort(tb testing.TB) int {
	tb.Helper()
	p, err := freePorts(1, false)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// freePorts finds n consecutive free loopback ports, with their cluster
// bus ports (port + 10000) free too when bus is set, and returns the first.
// It picks at random in a range above the usual services and below the
// ephemeral ports, so parallel test processes rarely try the same ones.
func freePorts(n int, bus bool) (int, error) {
	for range 50 {
		first := 20000 + rand.IntN(8000)
		if allFree(first, n, bus) {
			return first, nil
		}
	}
	return 0, fmt.Errorf("no %d free consecutive ports found", n)
}

func allFree(first, n int, bus bool) bool {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for p := first; p < first+n; p++ {
		ports := []int{p}
		if bus {
			ports = append(ports, p+10000)
		}
		for _, port := range ports {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			if err != nil {
				return false
			}
			lns = append(lns, ln)
		}
	}
	return true
}

// script runs one of the scripts in test/ and returns what it printed.
func script(env []string, name string, args ...string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "test", name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
