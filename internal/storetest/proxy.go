package storetest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards loopback TCP connections to a store until the test breaks
// them, which is how an outage of the store looks to Gatehouse: Cut is a
// store that went away, Blackhole one that hangs, Restore its return, and
// Close a store that is not running at all.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool          // cut: close every connection, accept new ones only to close them
	hang  bool          // blackhole: keep connections open, forward nothing
	slow  time.Duration // delay of every read from the store before it is forwarded
	conns map[net.Conn]struct{}
	hung  []net.Conn // accepted while blackholed: they never reached the store
}

// NewProxy starts a proxy to the store at target (host:port) on a loopback
// port of its own; it is closed when tb ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the host:port to connect to instead of the store's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, hang := p.down, p.hang
		if hang {
			p.conns[in] = struct{}{}
			p.hung = append(p.hung, in)
		}
		p.mu.Unlock()
		if hang {
			go p.pipe(io.Discard, in, false)
			continue
		}
		if down {
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.down { // cut while dialling
			p.mu.Unlock()
			in.Close()
			out.Close()
			continue
		}
		p.conns[in] = struct{}{}
		p.conns[out] = struct{}{}
		p.mu.Unlock()
		go p.pipe(in, out, true)
		go p.pipe(out, in, false)
	}
}

// pipe copies src to dst, swallowing what it reads while the proxy is
// blackholed and holding back what the store sends while it is slow, and
// closes both when either side ends.
func (p *Proxy) pipe(dst io.Writer, src net.Conn, fromStore bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hang, slow := p.hang, p.slow
			p.mu.Unlock()
			if fromStore && slow > 0 {
				time.Sleep(slow)
			}
			if !hang {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
		}
		if err != nil {
			break
		}
	}
	src.Close()
	p.mu.Lock()
	delete(p.conns, src)
	if c, ok := dst.(net.Conn); ok {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

// Cut drops every open connection and closes new ones as soon as they are
// accepted, until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Blackhole keeps every connection open, and accepts new ones, but forwards
// nothing until Restore: a store that hangs, or a network that drops
// packets.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	p.hang = true
	p.mu.Unlock()
}

// Slow holds back every answer of the store by d before forwarding it, as
// a slow or lossy network would (a TCP retransmission takes 200 ms); zero
// ends it.
func (p *Proxy) Slow(d time.Duration) {
	p.mu.Lock()
	p.slow = d
	p.mu.Unlock()
}

// Restore lets new connections through again after Cut or Blackhole.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.down, p.hang = false, false
	// Connections opened during a blackhole never reached the store; they
	// end as a reset would end them (pgx's cancel requests wait on them).
	for _, c := range p.hung {
		c.Close()
	}
	p.hung = nil
	p.mu.Unlock()
}

// Close stops the proxy for good: open connections drop and new ones are
// refused, as by a store that is not running.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut()
}
