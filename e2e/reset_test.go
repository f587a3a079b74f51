package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/internal/api"
)

// resetWays are the three ways to reset a development-mode cairn: the Go
// helper, moto's unsigned path, and the signed admin operation that `cairn
// reset` sends.
var resetWays = map[string]func(t *testing.T, srv *cairntest.Server){
	"cairntest": func(t *testing.T, srv *cairntest.Server) { srv.Reset(t) },
	"moto-api": func(t *testing.T, srv *cairntest.Server) {
		resp, err := http.Post(srv.Endpoint+"/moto-api/reset", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `{"status": "ok"}` {
			t.Fatalf("POST /moto-api/reset: %d %s; want moto's 200 {\"status\": \"ok\"}", resp.StatusCode, body)
		}
	},
	"admin": func(t *testing.T, srv *cairntest.Server) {
		body := []byte("{}")
		req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", api.AdminTargetPrefix+"Reset")
		sum := sha256.Sum256(body)
		creds, _ := srv.AWSConfig.Credentials.Retrieve(context.Background())
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), api.SigningName, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("Reset: %d %s", resp.StatusCode, out)
		}
	},
}

// A reset forgets everything in development mode: namespaces, services,
// instances and operations of every region, in-flight operations,
// idempotency tokens and custom health; once it returns, neither the API
// nor DNS answers anything of the old state, and the same names can be
// created again.
func TestReset_ForgetsEverything(t *testing.T) {
	for name, reset := range resetWays {
		t.Run(name, func(t *testing.T) {
			c, srv := newClient(t)
			ctx := t.Context()
			west := regionClient(srv, "eu-west-1")
			dnsNS := mustNamespace(t, c, privateNS, "reset.test")
			web := aService(t, c, dnsNS, "web")
			for i := range 3 {
				mustRegister(t, c, aws.ToString(web.Id), "i-"+string(rune('a'+i)), ipv4(i))
			}
			shopNS := mustNamespace(t, c, httpNS, "shop")
			cart := customHealthService(t, c, shopNS, "cart")
			mustRegister(t, c, aws.ToString(cart.Id), "c-1", map[string]string{"color": "red"})
			if _, err := c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: cart.Id,
				InstanceId: aws.String("c-1"), Status: types.CustomHealthStatusUnhealthy}); err != nil {
				t.Fatal(err)
			}
			mustNamespace(t, west, httpNS, "far")
			tokenOp, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("tokened"), CreatorRequestId: aws.String("tok")})
			if err != nil {
				t.Fatal(err)
			}
			waitSuccess(t, c, tokenOp.OperationId)
			if got := e2etest.Query(t, srv.DNSAddr(), "web.reset.test.", dns.TypeA); got.Rcode != dns.RcodeSuccess || len(got.Answer) != 3 {
				t.Fatalf("before the reset DNS answers %v", got)
			}

			reset(t, srv)

			for _, cl := range []*sd.Client{c, west} {
				ns, err := cl.ListNamespaces(ctx, &sd.ListNamespacesInput{})
				if err != nil || len(ns.Namespaces) != 0 {
					t.Fatalf("after the reset ListNamespaces: %+v, %v", ns, err)
				}
				svcs, err := cl.ListServices(ctx, &sd.ListServicesInput{})
				if err != nil || len(svcs.Services) != 0 {
					t.Fatalf("after the reset ListServices: %+v, %v", svcs, err)
				}
				ops, err := cl.ListOperations(ctx, &sd.ListOperationsInput{})
				if err != nil || len(ops.Operations) != 0 {
					t.Fatalf("after the reset ListOperations: %+v, %v", ops, err)
				}
			}
			_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
			wantErr[*types.NamespaceNotFound](t, err)
			_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: tokenOp.OperationId})
			wantErr[*types.OperationNotFound](t, err)
			if got := e2etest.Query(t, srv.DNSAddr(), "web.reset.test.", dns.TypeA); got.Rcode != dns.RcodeRefused || len(got.Answer) != 0 {
				t.Fatalf("after the reset DNS answers %v; want REFUSED (no zone)", got)
			}

			// Everything can be made again: names, tokens, instance IDs; the
			// custom health starts over.
			again, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("tokened"), CreatorRequestId: aws.String("tok")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(again.OperationId) == aws.ToString(tokenOp.OperationId) {
				t.Fatal("the reset kept the idempotency token")
			}
			shopNS = mustNamespace(t, c, httpNS, "shop")
			cart = customHealthService(t, c, shopNS, "cart")
			mustRegister(t, c, aws.ToString(cart.Id), "c-1", map[string]string{"color": "red"})
			found, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
			if err != nil || len(found.Instances) != 1 || found.Instances[0].HealthStatus != types.HealthStatusHealthy {
				t.Fatalf("after the reset a new instance: %+v, %v", found, err)
			}
		})
	}
}

// Operations in flight when the reset comes never finish afterwards: the
// namespace they would create does not appear.
func TestReset_DropsOperationsInFlight(t *testing.T) {
	c, srv := newClient(t, withDelay(300*time.Millisecond))
	ctx := t.Context()
	op, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("late")})
	if err != nil {
		t.Fatal(err)
	}
	srv.Reset(t)
	_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	wantErr[*types.OperationNotFound](t, err)
	// Past the delay, nothing was created.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		ns, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
		if err != nil || len(ns.Namespaces) != 0 {
			t.Fatalf("the operation dropped by the reset still ran: %+v, %v", ns, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
