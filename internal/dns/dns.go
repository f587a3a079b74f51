// Package dns is cairn's authoritative DNS server: it answers for the zone
// of every DNS namespace, with the records Cloud Map keeps for registered
// instances, read from the registry's in-memory view.
//
// # Basics
//
// Handler answers one query as Route 53 answers for a Cloud Map hosted
// zone, with the records lookup.go finds through the registry's records
// API (registry.ReadDNS): authoritative (AA), no recursion (RA clear), SOA and NS at the
// apex, NXDOMAIN with the SOA in the authority section for absent names,
// NODATA (NOERROR, empty answer, SOA) for names without the asked type, and
// REFUSED for names outside every zone. Server listens on UDP and TCP at
// one address.
//
// # Caveats
//
// UDP answers larger than the client's EDNS0 buffer (512 bytes without
// EDNS0) are truncated with the TC bit set; the client retries over TCP for
// the whole answer. Zone transfers are refused. When namespaces of several
// accounts or regions share a name, the oldest one answers. A handler
// limited with ForZones (a listener of one VPC) answers only the
// namespaces its filter selects. With a RateLimiter (HandlerConfig.
// RateLimit, rrl.go), the UDP responses each source prefix gets are
// limited as BIND's response-rate limiting does; TCP never is.
package dns

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/registry"
)

// DefaultNameserver is the host name the NS record at each apex names.
const DefaultNameserver = "ns1.cairn.internal."

// maxUDPSize is the largest UDP answer cairn sends, whatever the client
// advertises (the DNS flag day 2020 value).
const maxUDPSize = 1232

// Handler answers DNS queries from the registry.
type Handler struct {
	reg        *registry.Registry
	nameserver string
	zones      registry.ZoneFilter
	faults     *fault.Set
	obs        Observer
	queryLog   *slog.Logger
	rrl        *RateLimiter
}

// WithFaults makes the handler apply the DNS faults of faults (SERVFAIL,
// no answer, delay) and returns it.
func (h *Handler) WithFaults(faults *fault.Set) *Handler {
	h.faults = faults
	return h
}

// Observer is told about every query answered (see package metrics). Its
// method is called on the query's goroutine and must be quick.
type Observer interface {
	// Answered is called once the reply to a query of qtype (0 when the
	// query had no question) is written, with the reply's rcode, whether
	// it was truncated, and the time from the query's arrival at the
	// handler to the reply written.
	Answered(qtype uint16, rcode int, truncated bool, took time.Duration)
	// FaultInjected is called for each query a DNS fault applies to
	// (cairn fault add), with its action: SERVFAIL and NOANSWER replace
	// the answer (and the query is not Answered), DELAY only delays it.
	FaultInjected(action string)
	// RateLimited is called for each UDP response the rate limit holds
	// back (and that is not Answered): slipped when an empty truncated
	// reply went instead, else it was dropped.
	RateLimited(slipped bool)
}

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	// Nameserver is the host name the NS records name
	// (DefaultNameserver when empty).
	Nameserver string
	// Observer, when set, is told about every query.
	Observer Observer
	// QueryLog, when set, receives one line per query: the client, the
	// name and type asked, the rcode, the number of answers and the time
	// taken.
	QueryLog *slog.Logger
	// RateLimit, when set, limits the responses sent over UDP (see
	// RateLimiter); TCP is never limited.
	RateLimit *RateLimiter
}

// NewHandler returns a handler over reg whose NS records name nameserver
// (DefaultNameserver when empty).
func NewHandler(reg *registry.Registry, nameserver string) *Handler {
	return NewHandlerConfig(reg, HandlerConfig{Nameserver: nameserver})
}

// NewHandlerConfig returns a handler over reg configured by cfg.
func NewHandlerConfig(reg *registry.Registry, cfg HandlerConfig) *Handler {
	if cfg.Nameserver == "" {
		cfg.Nameserver = DefaultNameserver
	}
	return &Handler{reg: reg, nameserver: dns.Fqdn(cfg.Nameserver), obs: cfg.Observer, queryLog: cfg.QueryLog, rrl: cfg.RateLimit}
}

// ForZones returns a handler like h that answers only for the namespaces
// zones selects (nil: all), as a listener of one VPC does: names of other
// namespaces are REFUSED, or answered by a less specific selected zone.
func (h *Handler) ForZones(zones registry.ZoneFilter) *Handler {
	c := *h
	c.zones = zones
	return &c
}

// ServeDNS answers one query. The reply is built in pooled buffers,
// reused once it is written.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	watched := h.obs != nil || h.queryLog != nil
	var start time.Time
	if watched {
		start = time.Now()
	}
	if h.faults != nil && h.faults.Active() && len(req.Question) == 1 {
		name := strings.ToLower(strings.TrimSuffix(req.Question[0].Name, "."))
		if action, delay, ok := h.faults.DNS(name); ok {
			if h.obs != nil {
				h.obs.FaultInjected(action)
			}
			switch action {
			case fault.DNSNoAnswer:
				return // the client times out
			case fault.DNSServFail:
				m := new(dns.Msg)
				m.SetRcode(req, dns.RcodeServerFailure)
				_ = w.WriteMsg(m)
				return
			case fault.DNSDelay:
				time.Sleep(delay)
			}
		}
	}
	s := scratches.Get().(*scratch)
	udp := isUDP(w)
	m := h.answer(req, udp, s)
	if h.rrl != nil && udp && !h.limit(w, m) {
		s.release()
		scratches.Put(s)
		return
	}
	_ = w.WriteMsg(m)
	if watched {
		h.observe(w, req, m, time.Since(start))
	}
	s.release()
	scratches.Put(s)
}

// limit applies the rate limit to reply m and reports whether m is to be
// sent; when not, it sent the slipped reply or nothing.
func (h *Handler) limit(w dns.ResponseWriter, m *dns.Msg) bool {
	action := h.rrl.decide(w.RemoteAddr(), m)
	if action == rrlSend {
		return true
	}
	if action == rrlSlip {
		_ = w.WriteMsg(slipped(m))
	}
	if h.obs != nil {
		h.obs.RateLimited(action == rrlSlip)
	}
	return false
}

// observe reports one answered query to the observer and the query log.
func (h *Handler) observe(w dns.ResponseWriter, req, reply *dns.Msg, took time.Duration) {
	var qtype uint16
	if len(req.Question) > 0 {
		qtype = req.Question[0].Qtype
	}
	if h.obs != nil {
		h.obs.Answered(qtype, reply.Rcode, reply.Truncated, took)
	}
	if h.queryLog != nil {
		name := ""
		if len(req.Question) > 0 {
			name = req.Question[0].Name
		}
		proto := "tcp"
		if isUDP(w) {
			proto = "udp"
		}
		client := ""
		if ra := w.RemoteAddr(); ra != nil {
			client = ra.String()
		}
		h.queryLog.LogAttrs(context.Background(), slog.LevelInfo, "dns query",
			slog.String("client", client), slog.String("proto", proto), slog.String("name", name),
			slog.String("type", dns.TypeToString[qtype]), slog.String("rcode", dns.RcodeToString[reply.Rcode]),
			slog.Int("answers", len(reply.Answer)), slog.Bool("truncated", reply.Truncated),
			slog.Float64("latency_ms", float64(took.Microseconds())/1000))
	}
}

// scratch is what one reply is built in: the message, the registry's
// answer, and the records, so that a query served allocates little.
type scratch struct {
	msg   dns.Msg
	q     [1]dns.Question
	ans   lookup
	rrs   []dns.RR // the answer section's backing array
	extra []dns.RR // the additional section's
	as    []dns.A
	aaaas []dns.AAAA
	ips   []byte
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// release keeps the buffers the reply grew and drops the reply.
func (s *scratch) release() {
	if cap(s.msg.Answer) > cap(s.rrs) {
		s.rrs = s.msg.Answer
	}
	if cap(s.msg.Extra) > cap(s.extra) {
		s.extra = s.msg.Extra
	}
	s.rrs, s.extra = s.rrs[:0], s.extra[:0]
	s.as, s.aaaas, s.ips = s.as[:0], s.aaaas[:0], s.ips[:0]
	s.msg = dns.Msg{}
}

// newA returns a record from s's block of A records. A full block is
// replaced, not grown: records already handed out keep pointing into the
// old one.
func (s *scratch) newA() *dns.A {
	if len(s.as) == cap(s.as) {
		s.as = make([]dns.A, 0, max(8, 2*cap(s.as)))
	}
	s.as = s.as[:len(s.as)+1]
	return &s.as[len(s.as)-1]
}

func (s *scratch) newAAAA() *dns.AAAA {
	if len(s.aaaas) == cap(s.aaaas) {
		s.aaaas = make([]dns.AAAA, 0, max(8, 2*cap(s.aaaas)))
	}
	s.aaaas = s.aaaas[:len(s.aaaas)+1]
	return &s.aaaas[len(s.aaaas)-1]
}

// newIP returns n bytes of s's address block.
func (s *scratch) newIP(n int) []byte {
	if len(s.ips)+n > cap(s.ips) {
		s.ips = make([]byte, 0, max(256, 2*cap(s.ips)))
	}
	s.ips = s.ips[:len(s.ips)+n]
	return s.ips[len(s.ips)-n : len(s.ips) : len(s.ips)]
}

func isUDP(w dns.ResponseWriter) bool {
	return w.LocalAddr() != nil && w.LocalAddr().Network() == "udp"
}

// Answer builds the reply to req; udp says whether it goes back over UDP
// (and so may need truncating).
func (h *Handler) Answer(req *dns.Msg, udp bool) *dns.Msg {
	return h.answer(req, udp, new(scratch))
}

// answer builds the reply to req in s: the header, EDNS0, then a refusal
// or the zone's records, truncated to fit over UDP.
func (h *Handler) answer(req *dns.Msg, udp bool, s *scratch) *dns.Msg {
	m := s.replyTo(req)
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(maxUDPSize, false)
		if opt.Version() != 0 {
			m.Authoritative = false
			m.Rcode = dns.RcodeBadVers
			return m
		}
		size = max(int(min(opt.UDPSize(), maxUDPSize)), dns.MinMsgSize)
	}
	if rcode, refused := refusal(req); refused {
		m.Authoritative = false
		m.Rcode = rcode
	} else {
		h.records(m, req.Question[0], s)
	}
	if udp {
		truncate(m, size)
	}
	return m
}

// replyTo starts the reply to req in s: as m.SetReply(req), without
// allocating the question section, authoritative, without recursion.
func (s *scratch) replyTo(req *dns.Msg) *dns.Msg {
	m := &s.msg
	m.Id, m.Response, m.Opcode, m.Rcode = req.Id, true, req.Opcode, dns.RcodeSuccess
	if m.Opcode == dns.OpcodeQuery {
		m.RecursionDesired, m.CheckingDisabled = req.RecursionDesired, req.CheckingDisabled
	}
	if len(req.Question) > 0 {
		s.q[0] = req.Question[0]
		m.Question = s.q[:]
	}
	m.Answer, m.Extra = s.rrs[:0], s.extra[:0]
	m.Authoritative = true
	m.RecursionAvailable = false
	m.Compress = true
	return m
}

// refusal is the rcode of a query no zone answers for its form: not a
// QUERY, not one question, a class other than IN (or ANY), a zone
// transfer.
func refusal(req *dns.Msg) (int, bool) {
	switch {
	case req.Opcode != dns.OpcodeQuery:
		return dns.RcodeNotImplemented, true
	case len(req.Question) != 1:
		return dns.RcodeFormatError, true
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY || q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		return dns.RcodeRefused, true
	}
	return 0, false
}

// records fills m with the answer to q: REFUSED outside every zone; the
// records found, with SOA and NS at the apex; else the SOA, as NODATA or
// NXDOMAIN.
func (h *Handler) records(m *dns.Msg, q dns.Question, s *scratch) {
	ans := &s.ans
	lookupDNS(h.reg, ans, q.Name, q.Qtype, h.zones)
	if ans.Zone == nil {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return
	}
	if ans.Apex {
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, h.soa(ans.Zone, q.Name))
		}
		if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, h.ns(ans.Zone, q.Name))
		}
	}
	m.Answer = s.toRRs(m.Answer, ans.Answer, q.Name)
	m.Extra = s.toRRs(m.Extra, ans.Extra, "") // after the OPT record, if any
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, h.soa(ans.Zone, dns.Fqdn(ans.Zone.Name)))
		if !ans.Exists {
			m.Rcode = dns.RcodeNameError
		}
	}
}

// truncate fits m into size bytes. RFC 2181 §9: TC says the answer or
// authority is incomplete, never merely that additional records were left
// out; miekg/dns sets it for either.
func truncate(m *dns.Msg, size int) {
	answers, authority := len(m.Answer), len(m.Ns)
	m.Truncate(size)
	if len(m.Answer) == answers && len(m.Ns) == authority {
		m.Truncated = false
	}
}

// toRRs appends recs, converted, to dst: like toRR, with the A and AAAA
// records and their addresses taken from s's blocks.
func (s *scratch) toRRs(dst []dns.RR, recs []record, owner string) []dns.RR {
	for _, rec := range recs {
		name := owner
		if name == "" {
			name = dns.Fqdn(rec.Name)
		}
		hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: rec.TTL}
		switch rec.Type {
		case registry.TypeA:
			rr := s.newA()
			hdr.Rrtype = dns.TypeA
			a := rec.Addr.As4()
			rr.Hdr, rr.A = hdr, s.newIP(4)
			copy(rr.A, a[:])
			dst = append(dst, rr)
		case registry.TypeAAAA:
			rr := s.newAAAA()
			hdr.Rrtype = dns.TypeAAAA
			a := rec.Addr.As16()
			rr.Hdr, rr.AAAA = hdr, s.newIP(16)
			copy(rr.AAAA, a[:])
			dst = append(dst, rr)
		default:
			dst = append(dst, toRR(rec, name))
		}
	}
	return dst
}

// toRR converts a registry record; an answer keeps the owner name as the
// client spelled it (owner), extra records use their own.
func toRR(rec record, owner string) dns.RR {
	if owner == "" {
		owner = dns.Fqdn(rec.Name)
	}
	hdr := dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: rec.TTL}
	switch rec.Type {
	case registry.TypeA:
		hdr.Rrtype = dns.TypeA
		a := rec.Addr.As4()
		return &dns.A{Hdr: hdr, A: a[:]}
	case registry.TypeAAAA:
		hdr.Rrtype = dns.TypeAAAA
		a := rec.Addr.As16()
		return &dns.AAAA{Hdr: hdr, AAAA: a[:]}
	case registry.TypeSRV:
		hdr.Rrtype = dns.TypeSRV
		return &dns.SRV{Hdr: hdr, Priority: 1, Weight: 1, Port: rec.Port, Target: dns.Fqdn(rec.Target)}
	default:
		hdr.Rrtype = dns.TypeCNAME
		return &dns.CNAME{Hdr: hdr, Target: dns.Fqdn(rec.Target)}
	}
}

func (h *Handler) soa(z *registry.DNSZone, owner string) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: owner, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: z.SOATTL},
		Ns:      h.nameserver,
		Mbox:    "hostmaster." + strings.TrimPrefix(dns.Fqdn(z.Name), "."),
		Serial:  z.Serial,
		Refresh: 7200,
		Retry:   900,
		Expire:  1209600,
		Minttl:  z.SOATTL,
	}
}

func (h *Handler) ns(z *registry.DNSZone, owner string) dns.RR {
	return &dns.NS{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 172800}, Ns: h.nameserver}
}
