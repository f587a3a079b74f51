package dns

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Response-rate limiting (RRL), as BIND does it: a UDP source can be
// spoofed, so an attacker can aim cairn's answers at a victim. Limiting
// the answers one source prefix gets for one response caps what cairn
// adds to such a flood, and "slip" keeps real clients behind that prefix
// served: every Slip-th response dropped goes out as an empty truncated
// reply, which a real resolver retries over TCP (never limited), and
// which is no larger than the query.

// RRLConfig configures response-rate limiting.
type RRLConfig struct {
	// Rate is how many responses per second one source prefix gets for
	// one response: the same name and type (answers and NODATA), the
	// NXDOMAINs of one zone, or errors (REFUSED, FORMERR, …, whatever the
	// name). 0 turns limiting off.
	Rate int
	// Slip: every Slip-th response dropped for a prefix is sent as an
	// empty reply with TC set instead; 0 drops them all, 1 slips each.
	Slip int
	// Window is how long a source that kept exceeding Rate stays limited
	// after it stops: each response, sent or not, costs one, and a
	// prefix's debt is capped at Window's worth of Rate.
	Window time.Duration
}

// RRL defaults and bounds, BIND's: IPv4 sources are grouped by /24 and
// IPv6 ones by /56; the table holds this many (prefix, response) entries,
// the least recently used making room for a new one, so spoofed sources
// can't grow cairn's memory.
const (
	RRLDefaultSlip   = 2
	RRLDefaultWindow = 15 * time.Second
	rrlIPv4Prefix    = 24
	rrlIPv6Prefix    = 56
	rrlWays          = 4
	rrlSets          = 1 << 14 // 65,536 entries, about 2.5 MB
	rrlMaxRate       = 1_000_000
	rrlMaxSlip       = 10
)

// Check reports what is wrong with c, in the terms of the flags.
func (c RRLConfig) Check() error {
	switch {
	case c.Rate < 0 || c.Rate > rrlMaxRate:
		return fmt.Errorf("the DNS response rate limit %d must be between 0 (off) and %d responses per second", c.Rate, rrlMaxRate)
	case c.Slip < 0 || c.Slip > rrlMaxSlip:
		return fmt.Errorf("the DNS rate limit's slip %d must be between 0 (drop every limited response) and %d", c.Slip, rrlMaxSlip)
	case c.Window < time.Second || c.Window > time.Hour:
		return fmt.Errorf("the DNS rate limit's window %v must be between 1s and 1h", c.Window)
	}
	return nil
}

// RateLimiter decides, for each UDP response, whether it is sent, dropped
// or slipped. It is safe for concurrent use; one is shared by every
// listener of a server.
type RateLimiter struct {
	rate, floor float64 // responses per second; the lowest balance
	slip        uint32
	seed        maphash.Seed
	epoch       time.Time
	sets        []rrlSet
}

// rrlSet is one set of the table: a key lands in one set, in any of its
// ways.
type rrlSet struct {
	mu sync.Mutex
	e  [rrlWays]rrlEntry
}

type rrlEntry struct {
	key     uint64 // 0: empty
	last    int64  // nanoseconds since the limiter's epoch
	balance float64
	dropped uint32
}

// NewRateLimiter returns a limiter for c, or an error when c is out of
// bounds. c.Rate must be positive.
func NewRateLimiter(c RRLConfig) (*RateLimiter, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if c.Rate == 0 {
		return nil, errors.New("a rate limiter needs a rate above 0")
	}
	return &RateLimiter{
		rate:  float64(c.Rate),
		floor: -float64(c.Rate) * c.Window.Seconds(),
		slip:  uint32(c.Slip),
		seed:  maphash.MakeSeed(),
		epoch: time.Now(),
		sets:  make([]rrlSet, rrlSets),
	}, nil
}

// rrlAction is what becomes of one response.
type rrlAction uint8

const (
	rrlSend rrlAction = iota
	rrlDrop
	rrlSlip
)

// Kinds of response, each limited apart (BIND's responses, nodata,
// nxdomains and errors).
const (
	kindAnswer byte = iota + 1
	kindNoData
	kindNXDomain
	kindError
)

// decide accounts for reply, about to be sent to src, and says what to do
// with it.
func (l *RateLimiter) decide(src net.Addr, reply *dns.Msg) rrlAction {
	ua, ok := src.(*net.UDPAddr)
	if !ok {
		return rrlSend
	}
	key := l.key(ua, reply)
	set := &l.sets[key&(rrlSets-1)]
	now := int64(time.Since(l.epoch))
	set.mu.Lock()
	defer set.mu.Unlock()
	e := set.find(key, now, l.rate)
	e.balance = min(l.rate, e.balance+float64(now-e.last)*l.rate/float64(time.Second)) - 1
	e.balance = max(e.balance, l.floor)
	e.last = now
	if e.balance >= 0 {
		return rrlSend
	}
	e.dropped++
	if l.slip > 0 && e.dropped%l.slip == 0 {
		return rrlSlip
	}
	return rrlDrop
}

// find returns key's entry, making one (a full bucket) in place of the
// set's least recently used when key has none.
func (s *rrlSet) find(key uint64, now int64, rate float64) *rrlEntry {
	victim := &s.e[0]
	for i := range s.e {
		e := &s.e[i]
		if e.key == key {
			return e
		}
		if e.key == 0 || (victim.key != 0 && e.last < victim.last) {
			victim = e
		}
	}
	*victim = rrlEntry{key: key, last: now, balance: rate}
	return victim
}

// key hashes the source's prefix with the response's identity: its kind,
// and the name and type it answers (the zone, for NXDOMAIN; nothing, for
// errors), the name in lower case so that case does not make new entries.
func (l *RateLimiter) key(ua *net.UDPAddr, reply *dns.Msg) uint64 {
	var h maphash.Hash
	h.SetSeed(l.seed)
	ip, _ := netip.AddrFromSlice(ua.IP)
	ip = ip.Unmap()
	if ip.Is4() {
		p, _ := ip.Prefix(rrlIPv4Prefix)
		a := p.Addr().As4()
		_, _ = h.Write(a[:3])
		_ = h.WriteByte(4)
	} else {
		p, _ := ip.Prefix(rrlIPv6Prefix)
		a := p.Addr().As16()
		_, _ = h.Write(a[:7])
		_ = h.WriteByte(6)
	}
	kind, name, qtype := identity(reply)
	_ = h.WriteByte(kind)
	_ = h.WriteByte(byte(qtype >> 8))
	_ = h.WriteByte(byte(qtype))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		_ = h.WriteByte(c)
	}
	if k := h.Sum64(); k != 0 {
		return k
	}
	return 1
}

// identity is what makes two responses the same for the limit.
func identity(m *dns.Msg) (kind byte, name string, qtype uint16) {
	switch {
	case m.Rcode == dns.RcodeNameError:
		if len(m.Ns) > 0 {
			return kindNXDomain, m.Ns[0].Header().Name, 0
		}
		return kindNXDomain, "", 0
	case m.Rcode != dns.RcodeSuccess || len(m.Question) == 0:
		return kindError, "", 0
	case len(m.Answer) == 0:
		return kindNoData, m.Question[0].Name, m.Question[0].Qtype
	default:
		return kindAnswer, m.Question[0].Name, m.Question[0].Qtype
	}
}

// slipped is the reply sent instead of m when it slips: the header,
// question and EDNS0 record of m with TC set and nothing else, so a real
// client retries over TCP and a victim gets no more bytes than the query
// had.
func slipped(m *dns.Msg) *dns.Msg {
	tc := &dns.Msg{MsgHdr: m.MsgHdr, Question: m.Question}
	tc.Truncated = true
	if opt := m.IsEdns0(); opt != nil {
		tc.Extra = []dns.RR{opt}
	}
	return tc
}
