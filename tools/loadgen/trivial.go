package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Trivial is an in-process server that answers every Cloud Map request
// with a fixed body of the size of a real answer, and every DNS query
// with fixed A records, without verifying anything: run against it, the
// tool measures its own ceiling (signing, HTTP client, DNS packets) on
// this machine.
type Trivial struct {
	http    *http.Server
	ln      net.Listener
	udp     net.PacketConn
	wg      sync.WaitGroup
	DNSName string
}

// TrivialDiscoverBody is what the trivial server answers to
// DiscoverInstances: ten instances with five attributes, as cairn answers
// the default plan's query.
var TrivialDiscoverBody = func() []byte {
	var b strings.Builder
	b.WriteString(`{"Instances":[`)
	for k := range 10 {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Attributes":{"AWS_INSTANCE_IPV4":"10.0.0.%d","AWS_INSTANCE_PORT":"8080","stage":"canary","version":"1.4.2","zone":"us-east-1a"},`+
			`"HealthStatus":"UNKNOWN","InstanceId":"i-%06d","NamespaceName":"bench-ns-000","ServiceName":"svc-000"}`, k*10, k*10)
	}
	b.WriteString(`],"InstancesRevision":1}`)
	return []byte(b.String())
}()

var contentTypeValue = []string{ContentType}

// StartTrivial starts the trivial HTTP server and, with dnsName set, the
// trivial DNS server for that name.
func StartTrivial(dnsName string) (*Trivial, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	opBody := []byte(`{"OperationId":"trivial-operation"}`)
	t := &Trivial{ln: ln}
	t.http = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			body := opBody
			if strings.HasSuffix(r.Header.Get("X-Amz-Target"), "DiscoverInstances") {
				body = TrivialDiscoverBody
			}
			h := w.Header()
			h["Content-Type"] = contentTypeValue
			h["Content-Length"] = []string{strconv.Itoa(len(body))}
			_, _ = w.Write(body)
		}),
	}
	go func() { _ = t.http.Serve(ln) }()
	if dnsName != "" {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Close()
			return nil, err
		}
		t.udp, t.DNSName = udp, dns.Fqdn(dnsName)
		m := new(dns.Msg)
		m.SetQuestion(t.DNSName, dns.TypeA)
		m.Response, m.Authoritative = true, true
		for k := range 8 {
			a, _ := dns.NewRR(fmt.Sprintf("%s 60 IN A 10.53.0.%d", t.DNSName, k+1))
			m.Answer = append(m.Answer, a)
		}
		answer, err := m.Pack()
		if err != nil {
			t.Close()
			return nil, err
		}
		for range 2 {
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				buf := make([]byte, 512)
				out := append([]byte(nil), answer...)
				for {
					n, from, err := udp.ReadFrom(buf)
					if err != nil {
						return
					}
					if n < 12 {
						continue
					}
					out[0], out[1] = buf[0], buf[1]
					_, _ = udp.WriteTo(out, from)
				}
			}()
		}
	}
	return t, nil
}

// Endpoint is the trivial server's URL.
func (t *Trivial) Endpoint() string { return "http://" + t.ln.Addr().String() }

// DNSAddr is the trivial DNS server's address ("" without one).
func (t *Trivial) DNSAddr() string {
	if t.udp == nil {
		return ""
	}
	return t.udp.LocalAddr().String()
}

// Close stops both servers.
func (t *Trivial) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = t.http.Shutdown(ctx)
	if t.udp != nil {
		_ = t.udp.Close()
	}
	t.wg.Wait()
}
