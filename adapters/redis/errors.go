package redis

import (
	"fmt"
	"strings"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
)

// storeError turns what rueidis returned for op into what the ports promise.
// A reply error from Redis (a bug: wrong type, bad script) stays a plain
// error. Everything else (refused connections, timeouts, a cancelled
// context) and the replies of a Redis that cannot serve right now wrap
// domain.ErrUnavailable, so the edge answers 503 rather than a wrong verdict.
// Callers handle the nil reply, which means "not found", before.
func storeError(op string, err error) error {
	if err == nil {
		return nil
	}
	if rerr, ok := rueidis.IsRedisErr(err); ok && !isOutageReply(rerr) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return fmt.Errorf("redis: %s: %w: %w", op, domain.ErrUnavailable, err)
}

// outageReplies are the codes that start the error replies of a Redis that
// is loading, failing over, out of memory or stuck in a script: the store is
// down, not wrong.
var outageReplies = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "OOM"}

func isOutageReply(err *rueidis.RedisError) bool {
	code, _, _ := strings.Cut(err.Error(), " ")
	for _, c := range outageReplies {
		if code == c {
			return true
		}
	}
	return false
}
