package memory_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

// harnessOf runs a memory store on its own fake clock, so parallel subtests
// move time independently and never sleep.
func harnessOf[S any](newStore func(ports.Clock) S) portstest.Harness[S] {
	return portstest.Harness[S]{
		New: func(*testing.T) (S, portstest.Timeline) {
			clk := clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			return newStore(clk), clk
		},
	}
}

func TestSessionStore(t *testing.T) {
	portstest.TestSessionStore(t, harnessOf(func(c ports.Clock) ports.SessionStore { return memory.NewSessionStore(c) }))
}

func TestCodeStore(t *testing.T) {
	portstest.TestCodeStore(t, harnessOf(func(c ports.Clock) ports.CodeStore { return memory.NewCodeStore(c) }))
}

func TestThrottle(t *testing.T) {
	portstest.TestThrottle(t, harnessOf(func(c ports.Clock) ports.Throttle { return memory.NewThrottle(c) }))
}

func TestAttemptCounter(t *testing.T) {
	portstest.TestAttemptCounter(t, harnessOf(func(c ports.Clock) ports.AttemptCounter { return memory.NewAttemptCounter(c) }))
}

func TestTOTPStore(t *testing.T) {
	portstest.TestTOTPStore(t, harnessOf(func(c ports.Clock) ports.TOTPStore { return memory.NewTOTPStore(c) }))
}

func TestRecoveryCodeStore(t *testing.T) {
	portstest.TestRecoveryCodeStore(t, func(*testing.T) portstest.RecoveryCodeStores {
		users := memory.NewUserStore(clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)))
		return portstest.RecoveryCodeStores{Codes: memory.NewRecoveryCodeStore(users), Users: users}
	})
}

func TestLarkStateStore(t *testing.T) {
	portstest.TestLarkStateStore(t, harnessOf(func(c ports.Clock) ports.LarkStateStore { return memory.NewLarkStateStore(c) }))
}
