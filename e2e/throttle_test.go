package e2e_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/server"
)

// countThrottles counts the throttled answers an SDK client receives.
type countThrottles struct {
	next aws.HTTPClient
	n    atomic.Int64
}

func (c *countThrottles) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(req)
	if err == nil && resp.StatusCode == 400 {
		switch resp.Header.Get("x-amzn-ErrorType") {
		case "RequestLimitExceeded", "ThrottlingException":
			c.n.Add(1)
		}
	}
	return resp, err
}

// The AWS SDK for Go v2's standard retryer rides through cairn's
// throttling: RequestLimitExceeded and ThrottlingException are throttle
// errors it retries with backoff. Small buckets (--throttle
// discover=2:4,other=2:4) make them quick to reach.
func TestThrottle_GoSDKRetriesThrough(t *testing.T) {
	rates, err := api.ParseThrottle("discover=2:4,other=2:4")
	if err != nil {
		t.Fatal(err)
	}
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.Throttle = rates }))
	counter := &countThrottles{next: srv.AWSConfig.HTTPClient}
	cfg := srv.AWSConfig.Copy()
	cfg.HTTPClient = counter
	cfg.RetryMaxAttempts = 10 // the default 3 is for a service that rarely throttles
	c := sd.NewFromConfig(cfg)
	ctx := t.Context()
	nsID := mustNamespace(t, c, httpNS, "shop")
	httpService(t, c, nsID, "cart")
	for i := range 10 {
		if _, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")}); err != nil {
			t.Fatalf("DiscoverInstances %d: %v", i, err)
		}
		if _, err := c.ListServices(ctx, &sd.ListServicesInput{}); err != nil {
			t.Fatalf("ListServices %d: %v", i, err)
		}
	}
	if counter.n.Load() == 0 {
		t.Fatal("20 calls at once through buckets of 2 were never throttled")
	}
	t.Logf("%d throttled answers retried through", counter.n.Load())

	// Without retries the errors are AWS's: the modeled RequestLimitExceeded
	// and the common ThrottlingException.
	one := cfg.Copy()
	one.RetryMaxAttempts = 1
	once := sd.NewFromConfig(one)
	var limit *types.RequestLimitExceeded
	for range 20 {
		_, err = once.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
		if errors.As(err, &limit) {
			break
		}
	}
	if limit == nil {
		t.Fatalf("20 discoveries without retries never got RequestLimitExceeded (last: %v)", err)
	}
	var ae smithy.APIError
	for range 20 {
		_, err = once.ListNamespaces(context.Background(), &sd.ListNamespacesInput{})
		if errors.As(err, &ae) {
			break
		}
	}
	if ae == nil || ae.ErrorCode() != "ThrottlingException" || ae.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("20 ListNamespaces without retries: %v; want ThrottlingException", err)
	}
}
