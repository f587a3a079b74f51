//go:build unix

package compat_test

// The AWS SDK for Go v2 and the data- host prefix: what happens without a
// setting, and the two tested ways past it.

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
)

func TestGoSDKDataPrefix(t *testing.T) {
	skipRequested(t, "go")
	srv := cairntest.NewServer(t)
	ctx := t.Context()
	api := sd.NewFromConfig(srv.AWSConfig)
	created, err := api.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("goprefix")})
	if err != nil {
		t.Fatal(err)
	}
	op, err := api.GetOperation(ctx, &sd.GetOperationInput{OperationId: created.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := api.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("p"), NamespaceId: aws.String(op.Operation.Targets["NAMESPACE"])})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("p-1"),
		Attributes: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	discover := func(t *testing.T, c *sd.Client) error {
		t.Helper()
		out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("goprefix"), ServiceName: aws.String("p")})
		if err != nil {
			return err
		}
		if len(out.Instances) != 1 || aws.ToString(out.Instances[0].InstanceId) != "p-1" {
			t.Fatalf("DiscoverInstances = %+v", out.Instances)
		}
		_, err = c.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("goprefix"), ServiceName: aws.String("p")})
		return err
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.Endpoint, "http://"))

	t.Run("BaseEndpoint alone sends DiscoverInstances to data-127.0.0.1", func(t *testing.T) {
		cfg := srv.AWSConfig.Copy()
		cfg.APIOptions = nil
		cfg.RetryMaxAttempts = 1
		err := discover(t, sd.NewFromConfig(cfg))
		if err == nil || !strings.Contains(err.Error(), "data-127.0.0.1") {
			t.Fatalf("DiscoverInstances without a setting: %v, want a failure to reach data-127.0.0.1", err)
		}
	})
	t.Run("cairntest.DisableHostPrefix", func(t *testing.T) {
		cfg := srv.AWSConfig.Copy()
		cfg.APIOptions = append(cfg.APIOptions[:0:0], cairntest.DisableHostPrefix)
		if err := discover(t, sd.NewFromConfig(cfg)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("BaseEndpoint with a resolvable data- twin", func(t *testing.T) {
		if dataHost == "" {
			t.Skip(dataHostWhy)
		}
		cfg := srv.AWSConfig.Copy()
		cfg.APIOptions = nil
		cfg.BaseEndpoint = aws.String("http://" + net.JoinHostPort(dataHost, port))
		if err := discover(t, sd.NewFromConfig(cfg)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("AWS_ENDPOINT_URL_SERVICEDISCOVERY with a resolvable data- twin", func(t *testing.T) {
		// How programs built on config.LoadDefaultConfig (external-dns, for one)
		// are pointed at cairn without a code change.
		if dataHost == "" {
			t.Skip(dataHostWhy)
		}
		empty := filepath.Join(t.TempDir(), "empty")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{
			"AWS_ENDPOINT_URL_SERVICEDISCOVERY": "http://" + net.JoinHostPort(dataHost, port),
			"AWS_ACCESS_KEY_ID":                 accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": region,
			"AWS_CONFIG_FILE": empty, "AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "",
			"AWS_EC2_METADATA_DISABLED": "true",
		} {
			t.Setenv(k, v)
		}
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := discover(t, sd.NewFromConfig(cfg)); err != nil {
			t.Fatal(err)
		}
	})
}
