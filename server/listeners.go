package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/store/etcd"
)

// dnsConfig is the configuration of every DNS listener's handler.
func (s *Server) dnsConfig() dns.HandlerConfig {
	cfg := s.cfg
	dnsCfg := dns.HandlerConfig{Nameserver: cfg.DNSNameserver}
	if s.metrics != nil {
		dnsCfg.Observer = s.metrics.DNS()
	}
	if cfg.DNSQueryLog {
		dnsCfg.QueryLog = s.log
	}
	if cfg.DNSRateLimit.Rate > 0 {
		// Validate checked it: NewRateLimiter can't fail.
		dnsCfg.RateLimit, _ = dns.NewRateLimiter(cfg.DNSRateLimit)
	}
	return dnsCfg
}

// listenDNS starts the shared DNS listener and those of single VPCs.
func (s *Server) listenDNS(dnsCfg dns.HandlerConfig) error {
	h := dns.NewHandlerConfig(s.reg, dnsCfg).WithFaults(s.faults)
	own := s.cfg.dnsVPCIDs()
	if s.cfg.DNSAddr != "" {
		shared := h
		if len(own) > 0 {
			shared = h.ForZones(func(private bool, vpc string) bool { return !private || !slices.Contains(own, vpc) })
		}
		d, err := dns.ListenWith(s.cfg.DNSAddr, shared, dns.Options{MaxTCPConnsPerClient: s.cfg.DNSMaxConnsPerClient})
		if err != nil {
			return err
		}
		s.dns = d
		s.log.Info("serving DNS", "addr", d.Addr())
	}
	for _, v := range s.cfg.DNSVPCs {
		vpc := v.VPC
		d, err := dns.ListenWith(v.Addr, h.ForZones(func(private bool, nsVPC string) bool { return !private || nsVPC == vpc }),
			dns.Options{MaxTCPConnsPerClient: s.cfg.DNSMaxConnsPerClient})
		if err != nil {
			return err
		}
		if s.vpcDNS == nil {
			s.vpcDNS = map[string]*dns.Server{}
		}
		s.vpcDNS[vpc] = d
		s.log.Info("serving DNS for one VPC", "vpc", vpc, "addr", d.Addr())
	}
	return nil
}

// ownAddrs are the addresses of cairn's listeners and of its etcd, which
// health checks must not probe: a listener on an unspecified address is
// at its port on every address of the host.
func (s *Server) ownAddrs() []netip.AddrPort {
	hosts := interfaceAddrs()
	var out []netip.AddrPort
	for _, hostport := range append(s.listenerAddrs(), s.etcdAddrs()...) {
		out = append(out, expandAddr(hostport, hosts)...)
	}
	return out
}

// listenerAddrs are the addresses cairn listens on, as host:port.
func (s *Server) listenerAddrs() []string {
	addrs := []string{s.apiLn.Addr().String()}
	if s.dns != nil {
		addrs = append(addrs, s.dns.Addr())
	}
	for _, d := range s.vpcDNS {
		addrs = append(addrs, d.Addr())
	}
	if s.cfg.AdminAddr != "" {
		addrs = append(addrs, s.cfg.AdminAddr) // the admin listener starts later
	}
	return addrs
}

// etcdAddrs are the addresses of etcd's endpoints, as host:port, with
// their host names resolved (one that does not resolve is left out, and
// logged).
func (s *Server) etcdAddrs() []string {
	endpoints := s.cfg.Etcd.Endpoints
	if es, ok := s.st.(*etcd.Store); ok {
		endpoints = es.Options().Endpoints
	}
	var addrs []string
	for _, e := range endpoints {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			continue
		}
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = "2379"
		}
		if _, err := netip.ParseAddr(host); err == nil {
			addrs = append(addrs, net.JoinHostPort(host, port))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil {
			s.log.Warn("etcd's host name does not resolve: health checks are not kept from probing it", "endpoint", e, "err", err)
			continue
		}
		for _, ip := range ips {
			addrs = append(addrs, net.JoinHostPort(ip.Unmap().String(), port))
		}
	}
	return addrs
}

// interfaceAddrs are the addresses of the host's network interfaces.
func interfaceAddrs() []netip.Addr {
	var hosts []netip.Addr
	if ifAddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifAddrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				hosts = append(hosts, p.Addr())
			}
		}
	}
	return hosts
}

// expandAddr is the address hostport listens at: itself, or with an
// unspecified address, its port on each of the host's addresses. A
// malformed one, or one without a port, is none.
func expandAddr(hostport string, hosts []netip.Addr) []netip.AddrPort {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil || ap.Port() == 0 {
		// Port 0 is a listener not yet bound (the admin listener on
		// :0); as a rule it would deny every port of the address.
		return nil
	}
	if !ap.Addr().IsUnspecified() {
		return []netip.AddrPort{ap}
	}
	out := make([]netip.AddrPort, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, netip.AddrPortFrom(h, ap.Port()))
	}
	return out
}

// closeDNS stops every DNS listener.
func (s *Server) closeDNS(ctx context.Context) error {
	var errs []error
	if s.dns != nil {
		errs = append(errs, s.dns.Shutdown(ctx))
	}
	for _, d := range s.vpcDNS {
		errs = append(errs, d.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// DNSAddr is the address DNS listens on (UDP and TCP), or "" when DNS is
// off.
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

// DNSVPCAddr is the address of the DNS listener of vpc (--dns-vpc), or ""
// when it has none.
func (s *Server) DNSVPCAddr(vpc string) string {
	if d := s.vpcDNS[vpc]; d != nil {
		return d.Addr()
	}
	return ""
}
