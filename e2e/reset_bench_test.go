package e2e_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
)

// BenchmarkReset1000Instances resets, through POST /moto-api/reset, a
// server holding one DNS namespace with a service of 1,000 instances (and
// their 1,000 operations), on the durable embedded store. Beside it, as
// the reference of the same run, one RegisterInstance: a single durable
// commit over HTTP. Seeding is not timed.
//
//	go test -run '^$' -bench Reset1000 -benchtime 20x ./e2e/
func BenchmarkReset1000Instances(b *testing.B) {
	srv := cairntest.NewServer(b)
	c := sd.NewFromConfig(srv.AWSConfig)
	var resets, registers []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		svcID := seedInstances(b, c, fmt.Sprintf("bench%d.test", i), 1000)
		start := time.Now()
		if _, err := register(b.Context(), c, svcID, "extra", ipv4(1)); err != nil {
			b.Fatal(err)
		}
		registers = append(registers, time.Since(start))
		b.StartTimer()
		start = time.Now()
		resp, err := http.Post(srv.Endpoint+"/moto-api/reset", "application/json", nil)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("reset: %v %v", resp, err)
		}
		resp.Body.Close()
		resets = append(resets, time.Since(start))
	}
	b.ReportMetric(p50(resets).Seconds()*1000, "reset-p50-ms")
	b.ReportMetric(p50(registers).Seconds()*1000, "register-p50-ms")
	b.ReportMetric(float64(p50(resets))/float64(p50(registers)), "reset/register")
}

// seedInstances creates a DNS namespace with a service of n instances
// and returns the service's ID.
func seedInstances(b *testing.B, c *sd.Client, ns string, n int) string {
	ctx := b.Context()
	op, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(ns), Vpc: aws.String("vpc-1")})
	if err != nil {
		b.Fatal(err)
	}
	got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil {
		b.Fatal(err)
	}
	out, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(got.Operation.Targets["NAMESPACE"]),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}}}})
	if err != nil {
		b.Fatal(err)
	}
	svc := out.Service
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if _, err := register(ctx, c, aws.ToString(svc.Id), fmt.Sprintf("i-%d", i), ipv4(i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n - 1 {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return aws.ToString(svc.Id)
}

func p50(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
