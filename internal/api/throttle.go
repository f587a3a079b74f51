package api

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is a token bucket: Burst tokens at most, refilled at PerSecond.
type Rate struct {
	Burst     float64
	PerSecond float64
}

// ThrottleConfig says how cairn throttles, as `--throttle` names it.
type ThrottleConfig struct {
	// Discover limits DiscoverInstances and DiscoverInstancesRevision per
	// account and region; an exceeded request gets RequestLimitExceeded.
	Discover Rate
	// Other limits every other Cloud Map operation per account (all
	// regions together); an exceeded request gets ThrottlingException.
	Other Rate
}

// AWSThrottle is `--throttle aws`: DiscoverInstances and
// DiscoverInstancesRevision as AWS documents them (a bucket of 2,000
// refilling at 1,000 per second, per account and region); the other
// operations, whose rates AWS does not publish, a bucket of 200 refilling
// at 100 per second per account.
var AWSThrottle = ThrottleConfig{Discover: Rate{Burst: 2000, PerSecond: 1000}, Other: Rate{Burst: 200, PerSecond: 100}}

// ParseThrottle parses a `--throttle` value: "off" (or ""), "aws", or
// custom buckets such as "discover=20:10,other=5:1" (burst:per-second;
// an omitted one is AWS's). It returns nil for off.
func ParseThrottle(s string) (*ThrottleConfig, error) {
	switch strings.TrimSpace(s) {
	case "", "off":
		return nil, nil
	case "aws":
		c := AWSThrottle
		return &c, nil
	}
	c := AWSThrottle
	for _, part := range strings.Split(s, ",") {
		name, spec, ok := strings.Cut(strings.TrimSpace(part), "=")
		burst, rate, ok2 := strings.Cut(spec, ":")
		b, err1 := strconv.ParseFloat(burst, 64)
		r, err2 := strconv.ParseFloat(rate, 64)
		if !ok || !ok2 || err1 != nil || err2 != nil || b < 1 || r <= 0 {
			return nil, fmt.Errorf("throttle %q: want off, aws, or buckets such as discover=2000:1000,other=200:100 (burst:per-second, burst at least 1)", s)
		}
		switch name {
		case "discover":
			c.Discover = Rate{b, r}
		case "other":
			c.Other = Rate{b, r}
		default:
			return nil, fmt.Errorf("throttle %q: %q is neither discover nor other", s, name)
		}
	}
	return &c, nil
}

// throttle holds the token buckets of every account (and region).
type throttle struct {
	cfg     ThrottleConfig
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	if now == nil {
		now = time.Now
	}
	return &throttle{cfg: cfg, now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for one request of op by account in region, or
// returns the error the request gets.
func (t *throttle) allow(op, account, region string) *wireError {
	rate, key := t.cfg.Other, "o/"+account
	discover := op == "DiscoverInstances" || op == "DiscoverInstancesRevision"
	if discover {
		rate, key = t.cfg.Discover, "d/"+account+"/"+region
	}
	now := t.now()
	t.mu.Lock()
	b := t.buckets[key]
	if b == nil {
		b = &bucket{tokens: rate.Burst, last: now}
		t.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(rate.Burst, b.tokens+el*rate.PerSecond)
		b.last = now
	}
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	t.mu.Unlock()
	switch {
	case ok:
		return nil
	case discover:
		return &wireError{status: statusClientError, Type: "RequestLimitExceeded",
			Message: "The operation can't be completed because you've reached the quota for the number of requests. " +
				"For more information, see https://docs.aws.amazon.com/cloud-map/latest/dg/throttling.html"}
	default:
		return &wireError{status: statusClientError, Type: "ThrottlingException", Message: "Rate exceeded", lowerMessage: true}
	}
}
