package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// fuzzLog keeps what the handler logs, to show with a failure.
type fuzzLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *fuzzLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 1<<20 {
		l.buf.Reset()
	}
	return l.buf.Write(p)
}

func (l *fuzzLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// fuzzServe sends one request straight to the handler.
func fuzzServe(h http.Handler, target string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", amzJSON)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// fuzzSetup fills the registry with what the documented examples refer
// to, and returns a replacer that turns the examples' IDs and region into
// the live ones, so that the example seeds reach the registry's rules
// rather than stopping at "not found".
func fuzzSetup(f *testing.F, h http.Handler) *strings.Replacer {
	f.Helper()
	must := func(op string, in any) map[string]any {
		body, _ := json.Marshal(in)
		rec := fuzzServe(h, api.TargetPrefix+op, body)
		if rec.Code != http.StatusOK {
			f.Fatalf("setup %s: %d %s", op, rec.Code, rec.Body)
		}
		out := map[string]any{}
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return out
	}
	namespace := func(op string, in map[string]any) string {
		out := must(op, in)
		got := must("GetOperation", map[string]any{"OperationId": out["OperationId"]})
		return jsonField(got, "Operation", "Targets", "NAMESPACE").(string)
	}
	private := namespace("CreatePrivateDnsNamespace", map[string]any{"Name": "example.com", "Vpc": "vpc-1c56417b"})
	public := namespace("CreatePublicDnsNamespace", map[string]any{"Name": "example.org"})
	httpNS := namespace("CreateHttpNamespace", map[string]any{"Name": "example-namespace"})
	svc := must("CreateService", map[string]any{"Name": "myservice", "NamespaceId": private,
		"DnsConfig":               map[string]any{"DnsRecords": []any{map[string]any{"Type": "A", "TTL": 60}}},
		"HealthCheckCustomConfig": map[string]any{}})
	svcID := jsonField(svc, "Service", "Id").(string)
	httpSvc := must("CreateService", map[string]any{"Name": "example-service", "NamespaceId": httpNS})
	httpSvcID := jsonField(httpSvc, "Service", "Id").(string)
	for _, id := range []string{"myservice-53", "i-abcd1234", "i-abcd1234xmpl5678"} {
		must("RegisterInstance", map[string]any{"ServiceId": svcID, "InstanceId": id,
			"Attributes": map[string]any{"AWS_INSTANCE_IPV4": "192.0.2.44", "AWS_INSTANCE_PORT": "80"}})
	}
	must("RegisterInstance", map[string]any{"ServiceId": httpSvcID, "InstanceId": "i-http", "Attributes": map[string]any{"color": "blue"}})
	return strings.NewReplacer(
		":us-west-2:", ":"+testRegion+":",
		"ns-ylexjili4cdxy3xm", private, "ns-e4anhexample0004", private, "ns-abcd1234xmpl5678", private,
		"ns-bk3aEXAMPLE", public, "ns-bk3aexample", public,
		"ns-vh4nbmEXAMPLE", httpNS, "ns-vh4nbmexample", httpNS,
		"srv-p5zdwlg5uvvzjita", svcID, "srv-e4anhexample0004", svcID, "srv-qzpwvt2tfqcegapy", svcID, "srv-abcd1234xmpl5678", svcID,
	)
}

// FuzzHandler drives the whole API handler, over a real registry on a
// bolt store, with arbitrary targets and bodies. Whatever comes in, the
// handler must not panic or fail with a 5xx, must answer with one of the
// statuses of the protocol, and every error must be a JSON body whose
// __type the x-amzn-ErrorType header repeats.
func FuzzHandler(f *testing.F) {
	// The state lives for the whole fuzzing process. The store skips
	// fsync: durability is not what is fuzzed, throughput is wanted.
	st, err := bolt.Open(f.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{Limits: registry.DefaultLimits()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		reg.Close()
		_ = st.Close()
	})
	logs := &fuzzLog{}
	h := api.New(api.Config{Registry: reg, DefaultRegion: testRegion, AccountID: testAccount,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	live := fuzzSetup(f, h)

	for _, op := range cloudmap.Operations {
		f.Add(api.TargetPrefix+op, []byte(`{}`))
		for _, body := range exampleInputs[op] {
			f.Add(api.TargetPrefix+op, []byte(body))
		}
	}
	for _, seed := range []struct{ target, body string }{
		{"", `{}`},
		{"ListNamespaces", `{}`},
		{api.TargetPrefix + "NoSuchOperation", `{}`},
		{api.TargetPrefix + "ListNamespaces", `[]`},
		{api.TargetPrefix + "ListNamespaces", `{"MaxResults":"1"}`},
		{api.TargetPrefix + "ListNamespaces", `{"MaxResults":1,"Filters":[{"Name":"TYPE","Condition":"BEGINS_WITH","Values":["DNS"]}]}`},
		{api.TargetPrefix + "ListOperations", `{"MaxResults":1,"Filters":[{"Name":"UPDATE_DATE","Condition":"BETWEEN","Values":["0","99999999999"]}]}`},
		{api.TargetPrefix + "ListInstances", `{"ServiceId":"srv-p5zdwlg5uvvzjita","MaxResults":1,"NextToken":"AAAA"}`},
		{api.TargetPrefix + "CreateService", `{"Name":"_sip._tcp","NamespaceId":"ns-ylexjili4cdxy3xm","DnsConfig":{"DnsRecords":[{"Type":"SRV","TTL":10}]}}`},
		{api.TargetPrefix + "CreateService", `{"Name":"alias","NamespaceId":"ns-bk3aexample","DnsConfig":{"RoutingPolicy":"WEIGHTED","DnsRecords":[{"Type":"A","TTL":10}]},"HealthCheckConfig":{"Type":"TCP"}}`},
		{api.TargetPrefix + "RegisterInstance", `{"ServiceId":"srv-p5zdwlg5uvvzjita","InstanceId":"x","Attributes":{"AWS_INSTANCE_IPV4":"10.0.0.1","AWS_INIT_HEALTH_STATUS":"UNHEALTHY"}}`},
		{api.TargetPrefix + "GetInstancesHealthStatus", `{"ServiceId":"srv-p5zdwlg5uvvzjita","Instances":["myservice-53","i-abcd1234"],"MaxResults":1}`},
		{api.TargetPrefix + "DiscoverInstances", `{"NamespaceName":"example-namespace","ServiceName":"example-service","QueryParameters":{"color":"blue"},"OptionalParameters":{"x":"y"},"HealthStatus":"HEALTHY_OR_ELSE_ALL"}`},
		{api.TargetPrefix + "UpdateServiceAttributes", `{"ServiceId":"srv-e4anhexample0004","Attributes":{"a":"1","b":"2"}}`},
	} {
		f.Add(seed.target, []byte(seed.body))
	}

	f.Fuzz(func(t *testing.T, target string, body []byte) {
		body = []byte(live.Replace(string(body)))
		rec := fuzzServe(h, target, body)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("%s: %s %q → %d %s\nlogs: %s", fmt.Sprintf(format, args...), target, body, rec.Code, rec.Body, logs.take())
		}
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			fail("status %d", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); ct != amzJSON {
			fail("Content-Type %q", ct)
		}
		if rec.Header().Get("x-amzn-RequestId") == "" {
			fail("no x-amzn-RequestId")
		}
		if rec.Code == http.StatusOK {
			if rec.Header().Get("x-amzn-ErrorType") != "" {
				fail("success with x-amzn-ErrorType")
			}
			var out map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				fail("success body is not a JSON object: %v", err)
			}
			return
		}
		var e struct {
			Type    *string `json:"__type"`
			Message *string `json:"Message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			fail("error body is not JSON: %v", err)
		}
		if e.Type == nil || *e.Type == "" || e.Message == nil {
			fail("error body without __type or Message")
		}
		if h := rec.Header().Get("x-amzn-ErrorType"); h != *e.Type {
			fail("x-amzn-ErrorType %q, __type %q", h, *e.Type)
		}
		if *e.Type == "InternalFailure" || *e.Type == "ServiceUnavailable" {
			fail("server error %s", *e.Type)
		}
	})
}
