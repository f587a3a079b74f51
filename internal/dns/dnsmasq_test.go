package dns_test

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// startDnsmasq runs dnsmasq in the foreground on a free loopback port,
// forwarding the domain zone to the DNS server at dnsAddr (host:port) and
// nothing else, and stops it when the test ends. It returns dnsmasq's
// address. The flags are the README's example, with the ports filled in.
func startDnsmasq(t *testing.T, zone, dnsAddr string) string {
	t.Helper()
	bin := lookSbin("dnsmasq")
	if bin == "" {
		t.Skip("dnsmasq is not installed (Debian: apt-get install -y dnsmasq); CI installs it")
	}
	host, port := splitHostPort(t, dnsAddr)
	listen := freePort(t)
	args := []string{
		"--no-daemon",
		"--port=" + strconv.Itoa(listen),
		"--listen-address=127.0.0.1",
		"--bind-interfaces",
		"--no-resolv",
		"--no-hosts",
		fmt.Sprintf("--server=/%s/%s#%s", zone, host, port),
		"--conf-file=/dev/null",
	}
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("dnsmasq %v:\n%s", args, out.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	// Ready when it answers anything, even a refusal.
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("dnsmasq exited: %v\n%s", err, out.String())
		default:
		}
		if _, _, err := c.Exchange(question("ready.invalid", dns.TypeA), addr); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not answer within 10s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lookSbin finds a program on PATH or, as Debian installs daemons, in
// /usr/sbin or /sbin (not on every PATH); "" when absent.
func lookSbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p
		}
	}
	return ""
}

func splitHostPort(t *testing.T, addr string) (host, port string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// TestDnsmasq_ForwardsTheNamespaceToCairn is the README's worked example:
// a local resolver (dnsmasq) forwards the namespace's domain to cairn, and
// applications resolve Cloud Map names through it as through any DNS.
func TestDnsmasq_ForwardsTheNamespaceToCairn(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("corp.test", 5)
	web := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 10}})
	e.register(web, "web-1", v4("192.0.2.10"))
	srv := e.service(ns, svcSpec{name: "_api._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 10}})
	e.register(srv, "api-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.20", "AWS_INSTANCE_PORT": "8443"})

	resolver := startDnsmasq(t, "corp.test", e.dns)

	r := exchange(t, "udp", resolver, question("web.corp.test", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess {
		t.Fatalf("dnsmasq answered %s for web.corp.test:\n%v", dns.RcodeToString[r.Rcode], r)
	}
	if got := addrs(t, r.Answer, "web.corp.test", r.Answer[0].Header().Ttl); !slices.Equal(got, []string{"192.0.2.10"}) {
		t.Errorf("web.corp.test through dnsmasq = %v, want 192.0.2.10", got)
	}
	if r.Answer[0].Header().Ttl > 10 {
		t.Errorf("TTL %d through dnsmasq, above the service's 10", r.Answer[0].Header().Ttl)
	}

	r = exchange(t, "udp", resolver, question("_api._tcp.corp.test", dns.TypeSRV))
	if len(r.Answer) != 1 {
		t.Fatalf("SRV through dnsmasq: %v", r)
	}
	if s, ok := r.Answer[0].(*dns.SRV); !ok || s.Port != 8443 || s.Target != "api-1._api._tcp.corp.test." {
		t.Errorf("SRV through dnsmasq: %v", r.Answer[0])
	}
	r = exchange(t, "udp", resolver, question("api-1._api._tcp.corp.test", dns.TypeA))
	if got := addrs(t, r.Answer, "api-1._api._tcp.corp.test", r.Answer[0].Header().Ttl); !slices.Equal(got, []string{"192.0.2.20"}) {
		t.Errorf("SRV target through dnsmasq = %v", got)
	}

	// Absent names come back NXDOMAIN, as cairn said.
	r = exchange(t, "udp", resolver, question("nope.corp.test", dns.TypeA))
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("nope.corp.test through dnsmasq: %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	// A new registration resolves through dnsmasq at once (a name dnsmasq
	// has not cached).
	e.register(web, "web-2", v4("192.0.2.11"))
	web2 := e.service(ns, svcSpec{name: "new", records: map[types.RecordType]int64{types.RecordTypeA: 10}})
	e.register(web2, "n", v4("192.0.2.30"))
	r = exchange(t, "udp", resolver, question("new.corp.test", dns.TypeA))
	if got := addrs(t, r.Answer, "new.corp.test", r.Answer[0].Header().Ttl); !slices.Equal(got, []string{"192.0.2.30"}) {
		t.Errorf("new.corp.test through dnsmasq = %v", got)
	}
}
