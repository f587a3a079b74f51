// Package dns is cairn's authoritative DNS server: it answers for the zone
// of every DNS namespace, with the records Cloud Map keeps for registered
// instances, read from the registry's in-memory view.
//
// # Basics
//
// Handler answers one query as Route 53 answers for a Cloud Map hosted
// zone: authoritative (AA), no recursion (RA clear), SOA and NS at the
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
// accounts or regions share a name, the oldest one answers.
package dns

import (
	"strings"

	"github.com/miekg/dns"

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
}

// NewHandler returns a handler over reg whose NS records name nameserver
// (DefaultNameserver when empty).
func NewHandler(reg *registry.Registry, nameserver string) *Handler {
	if nameserver == "" {
		nameserver = DefaultNameserver
	}
	return &Handler{reg: reg, nameserver: dns.Fqdn(nameserver)}
}

// ServeDNS answers one query.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := h.Answer(req, isUDP(w))
	_ = w.WriteMsg(m)
}

func isUDP(w dns.ResponseWriter) bool {
	return w.LocalAddr() != nil && w.LocalAddr().Network() == "udp"
}

// Answer builds the reply to req; udp says whether it goes back over UDP
// (and so may need truncating).
func (h *Handler) Answer(req *dns.Msg, udp bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	m.Compress = true
	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		if opt.Version() != 0 {
			m.SetEdns0(maxUDPSize, false)
			m.Authoritative = false
			m.Rcode = dns.RcodeBadVers
			return m
		}
		size = max(int(min(opt.UDPSize(), maxUDPSize)), dns.MinMsgSize)
		m.SetEdns0(maxUDPSize, false)
	}
	defer func() {
		if udp {
			m.Truncate(size)
		}
	}()
	if req.Opcode != dns.OpcodeQuery {
		m.Authoritative = false
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 {
		m.Authoritative = false
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return m
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return m
	}
	qtype := dns.TypeToString[q.Qtype]
	ans := h.reg.LookupDNS(q.Name, qtype)
	if ans.Zone == nil {
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
		return m
	}
	zone := dns.Fqdn(ans.Zone.Name)
	if ans.Apex {
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, h.soa(ans.Zone, q.Name))
		}
		if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeANY {
			m.Answer = append(m.Answer, h.ns(ans.Zone, q.Name))
		}
	}
	for _, rec := range ans.Answer {
		m.Answer = append(m.Answer, toRR(rec, q.Name))
	}
	for _, rec := range ans.Extra {
		m.Extra = append(m.Extra, toRR(rec, ""))
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, h.soa(ans.Zone, zone))
		if !ans.Exists {
			m.Rcode = dns.RcodeNameError
		}
	}
	return m
}

// toRR converts a registry record; an answer keeps the owner name as the
// client spelled it (owner), extra records use their own.
func toRR(rec registry.DNSRecord, owner string) dns.RR {
	if owner == "" {
		owner = dns.Fqdn(rec.Name)
	}
	hdr := dns.RR_Header{Name: owner, Class: dns.ClassINET, Ttl: rec.TTL}
	switch rec.Type {
	case "A":
		hdr.Rrtype = dns.TypeA
		a := rec.Addr.As4()
		return &dns.A{Hdr: hdr, A: a[:]}
	case "AAAA":
		hdr.Rrtype = dns.TypeAAAA
		a := rec.Addr.As16()
		return &dns.AAAA{Hdr: hdr, AAAA: a[:]}
	case "SRV":
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
