package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

var ctxBG = context.Background()

// DiscoverClient returns client i's DiscoverInstances loop: each call asks
// for the next seeded service in turn (clients start at different
// services). The first answer is decoded and must list instances; later
// ones are only checked to hold one.
func DiscoverClient(e *Endpoint, s *Seeded) func(i int) (func() error, error) {
	return func(i int) (func() error, error) {
		if len(s.DiscoverBodies) == 0 {
			return nil, errors.New("no service to discover")
		}
		c := e.NewConn()
		target := TargetPrefix + "DiscoverInstances"
		n := i
		first := true
		return func() error {
			n++
			k := n % len(s.DiscoverBodies)
			resp, err := c.Do(ctxBG, target, s.DiscoverBodies[k], s.DiscoverHashes[k])
			if err != nil {
				return err
			}
			if first {
				first = false
				var out struct{ Instances []struct{ InstanceId string } }
				if err := json.Unmarshal(resp, &out); err != nil {
					return fmt.Errorf("DiscoverInstances answered %.100q: %w", resp, err)
				}
				if len(out.Instances) == 0 {
					return fmt.Errorf("DiscoverInstances found no instance for %s", s.DiscoverBodies[k])
				}
				return nil
			}
			if !bytes.Contains(resp, []byte(`"InstanceId"`)) {
				return fmt.Errorf("DiscoverInstances found no instance: %.200q", resp)
			}
			return nil
		}, nil
	}
}

// Registered keeps, per client, the instances the register phase
// registered, for the deregister phase to remove. Client i alone touches
// slot i while a workload runs; Run's end orders it before the next
// phase.
type Registered struct {
	ids [][]regInstance
}

type regInstance struct{ svc, id string }

// NewRegistered returns a Registered for clients clients.
func NewRegistered(clients int) *Registered {
	return &Registered{ids: make([][]regInstance, clients)}
}

// Count is how many instances are registered and not yet deregistered.
func (r *Registered) Count() int {
	n := 0
	for _, l := range r.ids {
		n += len(l)
	}
	return n
}

// RegisterClient returns client i's RegisterInstance loop: each call
// registers a new instance (IDs unique to this run and client) in one of
// the write services, with a fresh CreatorRequestId as the AWS SDKs send,
// and remembers it in reg.
func RegisterClient(e *Endpoint, s *Seeded, runID string, reg *Registered) func(i int) (func() error, error) {
	return func(i int) (func() error, error) {
		if len(s.WriteServiceIDs) == 0 {
			return nil, errors.New("no service to register in")
		}
		c := e.NewConn()
		target := TargetPrefix + "RegisterInstance"
		svc := s.WriteServiceIDs[i%len(s.WriteServiceIDs)]
		var body []byte
		n := 0
		return func() error {
			n++
			id := runID + "-c" + strconv.Itoa(i) + "-" + strconv.Itoa(n)
			body = fmt.Appendf(body[:0], `{"ServiceId":%q,"InstanceId":%q,"CreatorRequestId":%q,"Attributes":{"AWS_INSTANCE_IPV4":"10.%d.%d.%d","AWS_INSTANCE_PORT":"8080","stage":"prod"}}`,
				svc, id, id, 100+i%100, n/256%256, n%256)
			_, err := c.Do(ctxBG, target, body, PayloadHash(body))
			if err == nil || !isAPIErr(err) { // a lost connection may have registered it
				reg.ids[i] = append(reg.ids[i], regInstance{svc, id})
			}
			return err
		}, nil
	}
}

// DeregisterClient returns client i's DeregisterInstance loop over the
// instances reg holds for client i, newest first; it ends when none is
// left.
func DeregisterClient(e *Endpoint, reg *Registered) func(i int) (func() error, error) {
	return func(i int) (func() error, error) {
		c := e.NewConn()
		target := TargetPrefix + "DeregisterInstance"
		var body []byte
		return func() error {
			mine := reg.ids[i]
			if len(mine) == 0 {
				return errDone
			}
			in := mine[len(mine)-1]
			body = fmt.Appendf(body[:0], `{"ServiceId":%q,"InstanceId":%q}`, in.svc, in.id)
			_, err := c.Do(ctxBG, target, body, PayloadHash(body))
			if err == nil || isAPIErr(err) {
				reg.ids[i] = mine[:len(mine)-1]
			}
			return err
		}, nil
	}
}

// DNSClient returns client i's DNS loop: an A query for name over its own
// UDP socket, sent as a prepared packet with a new ID each time. The
// first answer is parsed and must hold A records; later ones are checked
// by their header (ID, response code, answer count).
func DNSClient(addr, name string) func(i int) (func() error, error) {
	return func(i int) (func() error, error) {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			return nil, err
		}
		q := new(dns.Msg)
		q.SetQuestion(dns.Fqdn(name), dns.TypeA)
		q.RecursionDesired = false
		pkt, err := q.Pack()
		if err != nil {
			return nil, err
		}
		buf := make([]byte, 4096)
		id := uint16(i * 7919)
		first := true
		return func() error {
			id++
			pkt[0], pkt[1] = byte(id>>8), byte(id)
			if _, err := conn.Write(pkt); err != nil {
				return err
			}
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			for {
				n, err := conn.Read(buf)
				if err != nil {
					return fmt.Errorf("DNS: %w", err)
				}
				if n < 12 || buf[0] != byte(id>>8) || buf[1] != byte(id) {
					continue // a late answer to an earlier query
				}
				if rcode := buf[3] & 0x0f; rcode != dns.RcodeSuccess {
					return fmt.Errorf("DNS: %s for %s", dns.RcodeToString[int(rcode)], name)
				}
				if buf[6] == 0 && buf[7] == 0 {
					return fmt.Errorf("DNS: no answer for %s", name)
				}
				if first {
					first = false
					m := new(dns.Msg)
					if err := m.Unpack(buf[:n]); err != nil {
						return fmt.Errorf("DNS: %w", err)
					}
					if len(m.Answer) == 0 {
						return fmt.Errorf("DNS: no answer for %s", name)
					}
					if _, ok := m.Answer[0].(*dns.A); !ok {
						return fmt.Errorf("DNS: answer %v is not an A record", m.Answer[0])
					}
				}
				return nil
			}
		}, nil
	}
}
