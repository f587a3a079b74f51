package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

const (
	testAccount = "123456789012"
	testRegion  = "us-east-1"
	amzJSON     = "application/x-amz-json-1.1"
)

// newProtoServer serves the API over a real registry on a bolt store in a
// temporary directory.
func newProtoServer(t *testing.T, mod ...func(*api.Config)) *httptest.Server {
	t.Helper()
	st, err := bolt.Open(t.TempDir(), bolt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{Limits: registry.DefaultLimits()})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	cfg := api.Config{Registry: reg, DefaultRegion: testRegion, AccountID: testAccount}
	for _, m := range mod {
		m(&cfg)
	}
	srv := httptest.NewServer(api.New(cfg))
	t.Cleanup(func() {
		srv.Close()
		reg.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return srv
}

// protoReq is one HTTP exchange with the server.
type protoReq struct {
	method, path, target, contentType, host, auth string
	body                                          []byte
}

type protoResp struct {
	*http.Response
	body []byte
}

func send(t *testing.T, srv *httptest.Server, r protoReq) protoResp {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = "/"
	}
	req, err := http.NewRequest(r.method, srv.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.target != "" {
		req.Header.Set("X-Amz-Target", r.target)
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.host != "" {
		req.Host = r.host
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s %s: %v", r.method, r.path, r.target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return protoResp{resp, body}
}

// call sends body to operation op the way SDKs do.
func callOp(t *testing.T, srv *httptest.Server, op, body string) protoResp {
	t.Helper()
	return send(t, srv, protoReq{target: api.TargetPrefix + op, contentType: amzJSON, body: []byte(body)})
}

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkAPIHeaders checks what every API protoResp carries.
func checkAPIHeaders(t *testing.T, r protoResp) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != amzJSON {
		t.Errorf("Content-Type %q, want %s", ct, amzJSON)
	}
	if id := r.Header.Get("x-amzn-RequestId"); !uuidForm.MatchString(id) {
		t.Errorf("x-amzn-RequestId %q is not a UUID", id)
	}
	if d, err := http.ParseTime(r.Header.Get("Date")); err != nil || time.Since(d) > time.Minute || time.Until(d) > time.Minute {
		t.Errorf("Date %q: %v", r.Header.Get("Date"), err)
	}
}

// expectError checks an error protoResp: its status, its headers and its
// body, whose __type is typ; it returns the body's Message.
func expectError(t *testing.T, r protoResp, status int, typ string) string {
	t.Helper()
	if r.StatusCode != status {
		t.Errorf("status %d, want %d (body %s)", r.StatusCode, status, r.body)
	}
	checkAPIHeaders(t, r)
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %q", err, r.body)
	}
	if body["__type"] != typ {
		t.Errorf("__type %v, want %s (body %s)", body["__type"], typ, r.body)
	}
	if h := r.Header.Get("x-amzn-ErrorType"); h != body["__type"] {
		t.Errorf("x-amzn-ErrorType %q, __type %v", h, body["__type"])
	}
	msg, _ := body["Message"].(string)
	if msg == "" {
		t.Errorf("no Message in %s", r.body)
	}
	return msg
}

// expectOK checks a success protoResp and decodes its body, keeping
// numbers as json.Number.
func expectOK(t *testing.T, r protoResp) map[string]any {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.StatusCode, r.body)
	}
	checkAPIHeaders(t, r)
	if h := r.Header.Get("x-amzn-ErrorType"); h != "" {
		t.Errorf("success with x-amzn-ErrorType %q", h)
	}
	out := map[string]any{}
	if len(r.body) == 0 {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("success body is not a JSON object: %v: %q", err, r.body)
	}
	return out
}

// jsonField walks a decoded JSON body.
func jsonField(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newProtoServer(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, p := range []string{"/", "/other"} {
			r := send(t, srv, protoReq{method: m, path: p, target: api.TargetPrefix + "ListNamespaces", contentType: amzJSON})
			expectError(t, r, http.StatusMethodNotAllowed, "UnknownOperationException")
			if allow := r.Header.Get("Allow"); allow != http.MethodPost {
				t.Errorf("%s %s: Allow %q, want POST", m, p, allow)
			}
		}
	}
}

func TestOtherPathNotFound(t *testing.T) {
	srv := newProtoServer(t)
	for _, p := range []string{"/other", "/healthz/x", "//", "/index.html"} {
		r := send(t, srv, protoReq{path: p, target: api.TargetPrefix + "ListNamespaces", contentType: amzJSON, body: []byte(`{}`)})
		expectError(t, r, http.StatusNotFound, "UnknownOperationException")
	}
}

func TestContentType(t *testing.T) {
	srv := newProtoServer(t)
	for _, tc := range []struct {
		ct string
		ok bool
	}{
		{"application/x-amz-json-1.1", true},
		{"application/x-amz-json-1.0", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/X-Amz-Json-1.1", true},
		{"", true}, // no Content-Type at all
		{"text/plain", false},
		{"application/xml", false},
		{"application/x-www-form-urlencoded", false},
		{"application/x-amz-json-1.2", false},
		{"not a media type;;", false},
	} {
		r := send(t, srv, protoReq{target: api.TargetPrefix + "ListNamespaces", contentType: tc.ct, body: []byte(`{}`)})
		if tc.ok {
			expectOK(t, r)
			continue
		}
		msg := expectError(t, r, http.StatusUnsupportedMediaType, "SerializationException")
		if !strings.Contains(msg, "application/x-amz-json-1.1") {
			t.Errorf("%q: message %q does not say what to send", tc.ct, msg)
		}
	}
}

func TestBodySize(t *testing.T) {
	srv := newProtoServer(t)
	// Exactly the limit is accepted.
	body := append(append([]byte("{"), bytes.Repeat([]byte(" "), api.MaxBodyBytes-2)...), '}')
	expectOK(t, callOp(t, srv, "ListNamespaces", string(body)))
	// One byte more is refused.
	body = append(append([]byte(`{"Description":"`), bytes.Repeat([]byte("d"), api.MaxBodyBytes)...), `"}`...)
	expectError(t, callOp(t, srv, "ListNamespaces", string(body)), http.StatusRequestEntityTooLarge, "SerializationException")
}

func TestMalformedJSON(t *testing.T) {
	srv := newProtoServer(t)
	for _, body := range []string{`{`, `{"MaxResults":}`, `{"MaxResults":1,}`, `{} {}`, `{'a':1}`, "{\"a\":\"\x00\"}", `nul`} {
		msg := expectError(t, callOp(t, srv, "ListNamespaces", body), http.StatusBadRequest, "SerializationException")
		if !strings.Contains(msg, "not valid JSON") {
			t.Errorf("%q: message %q", body, msg)
		}
	}
}

func TestWrongJSONType(t *testing.T) {
	srv := newProtoServer(t)
	for _, tc := range []struct{ op, body, field, want string }{
		{"ListNamespaces", `{"MaxResults":"10"}`, "MaxResults", "an integer"},
		{"ListNamespaces", `{"MaxResults":1.5}`, "MaxResults", "an integer"},
		{"ListNamespaces", `{"MaxResults":2147483648}`, "MaxResults", "an integer"},
		{"ListNamespaces", `{"MaxResults":true}`, "MaxResults", "an integer"},
		{"CreateHttpNamespace", `{"Name":"n","Tags":{}}`, "Tags", "a list"},
		{"CreateHttpNamespace", `{"Name":"n","Tags":"a=b"}`, "Tags", "a list"},
		{"TagResource", `{"ResourceARN":"a","Tags":[{"Key":"k","Value":5}]}`, "Value", "a string"},
		{"RegisterInstance", `{"ServiceId":"s","InstanceId":"i","Attributes":{"AWS_INSTANCE_PORT":80}}`, "Attributes", "a string"},
		{"RegisterInstance", `{"ServiceId":"s","InstanceId":"i","Attributes":["a"]}`, "Attributes", "an object of strings"},
		{"GetNamespace", `{"Id":["ns-1"]}`, "Id", "a string"},
		{"GetNamespace", `{"Id":12}`, "Id", "a string"},
		{"CreateService", `{"Name":"s","DnsConfig":{"DnsRecords":[{"Type":"A","TTL":"60"}]}}`, "TTL", "an integer"},
		{"CreateService", `{"Name":"s","DnsConfig":[]}`, "DnsConfig", "an object"},
		{"ListOperations", `{"Filters":[{"Name":"STATUS","Values":"SUCCESS"}]}`, "Values", "a list"},
	} {
		msg := expectError(t, callOp(t, srv, tc.op, tc.body), http.StatusBadRequest, "SerializationException")
		if !strings.Contains(msg, tc.field) || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s: message %q does not name %s as %s", tc.op, tc.body, msg, tc.field, tc.want)
		}
	}
}

func TestBodyNotAnObject(t *testing.T) {
	srv := newProtoServer(t)
	for _, body := range []string{`[]`, `[{}]`, `5`, `"ListNamespaces"`, `true`} {
		msg := expectError(t, callOp(t, srv, "ListNamespaces", body), http.StatusBadRequest, "SerializationException")
		if !strings.Contains(msg, "must be a JSON object") {
			t.Errorf("%s: message %q", body, msg)
		}
	}
	// null, an empty body and white space read as {}.
	for _, body := range []string{`null`, ``, " \n\t"} {
		expectOK(t, callOp(t, srv, "ListNamespaces", body))
		msg := expectError(t, callOp(t, srv, "GetNamespace", body), http.StatusBadRequest, "InvalidInput")
		if !strings.Contains(msg, "Value null at 'Id'") {
			t.Errorf("%q: message %q", body, msg)
		}
	}
}

func TestUnknownFieldsIgnored(t *testing.T) {
	srv := newProtoServer(t)
	out := expectOK(t, callOp(t, srv, "ListNamespaces", `{"Unknown":{"nested":[1,2,{"x":null}]},"MaxResults":5,"Other":"x"}`))
	if _, ok := out["Namespaces"].([]any); !ok {
		t.Errorf("no Namespaces list: %v", out)
	}
}

func TestUnknownOperation(t *testing.T) {
	srv := newProtoServer(t)
	for _, target := range []string{
		api.TargetPrefix + "NoSuchOperation",
		api.TargetPrefix,
		"", // no X-Amz-Target
		"ListNamespaces",
		"Route53AutoNaming_v20170315.ListNamespaces",
		"route53autonaming_v20170314.ListNamespaces",
		api.TargetPrefix + "listNamespaces",
		api.TargetPrefix + "ListNamespaces.",
		"DynamoDB_20120810.ListTables",
	} {
		r := send(t, srv, protoReq{target: target, contentType: amzJSON, body: []byte(`{}`)})
		expectError(t, r, http.StatusBadRequest, "UnknownOperationException")
	}
}

// Every operation of the model is dispatched: an empty input gets the
// operation's answer, never UnknownOperationException.
func TestEveryOperationDispatched(t *testing.T) {
	srv := newProtoServer(t)
	for _, op := range cloudmap.Operations {
		r := callOp(t, srv, op, `{}`)
		if r.StatusCode >= 500 {
			t.Errorf("%s: status %d: %s", op, r.StatusCode, r.body)
		}
		var body struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(r.body, &body)
		if body.Type == "UnknownOperationException" || r.Header.Get("x-amzn-ErrorType") == "UnknownOperationException" {
			t.Errorf("%s is not dispatched: %s", op, r.body)
		}
		switch op {
		case "ListNamespaces", "ListServices", "ListOperations":
			expectOK(t, r)
		default:
			// Every other operation has a required member.
			expectError(t, r, http.StatusBadRequest, "InvalidInput")
		}
	}
}

func TestSuccessHeadersAndTimestamps(t *testing.T) {
	srv := newProtoServer(t)
	before := time.Now().Add(-time.Second)
	out := expectOK(t, callOp(t, srv, "CreateHttpNamespace", `{"Name":"example-http.com","CreatorRequestId":"req-1"}`))
	opID, _ := out["OperationId"].(string)
	if opID == "" {
		t.Fatalf("no OperationId: %v", out)
	}
	op := expectOK(t, callOp(t, srv, "GetOperation", `{"OperationId":"`+opID+`"}`))
	for _, field := range []string{"CreateDate", "UpdateDate"} {
		checkTimestamp(t, jsonField(op, "Operation", field), before)
	}
	nsID, _ := jsonField(op, "Operation", "Targets", "NAMESPACE").(string)
	ns := expectOK(t, callOp(t, srv, "GetNamespace", `{"Id":"`+nsID+`"}`))
	checkTimestamp(t, jsonField(ns, "Namespace", "CreateDate"), before)

	svc := expectOK(t, callOp(t, srv, "CreateService", `{"Name":"web","NamespaceId":"`+nsID+`"}`))
	checkTimestamp(t, jsonField(svc, "Service", "CreateDate"), before)
	list := expectOK(t, callOp(t, srv, "ListServices", `{}`))
	services, _ := list["Services"].([]any)
	if len(services) != 1 {
		t.Fatalf("ListServices: %v", list)
	}
	checkTimestamp(t, jsonField(services[0], "CreateDate"), before)
}

var timestampForm = regexp.MustCompile(`^[0-9]{10}\.[0-9]{3}$`)

// checkTimestamp checks that v is a JSON number of epoch seconds with a
// millisecond fraction, after before.
func checkTimestamp(t *testing.T, v any, before time.Time) {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Errorf("timestamp %#v is not a JSON number", v)
		return
	}
	if !timestampForm.MatchString(n.String()) {
		t.Errorf("timestamp %s is not epoch seconds with 3 decimals", n)
	}
	f, _ := n.Float64()
	at := time.UnixMilli(int64(f * 1000))
	if at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %s (%v) is not now", n, at)
	}
}

func TestHealthz(t *testing.T) {
	srv := newProtoServer(t)
	r := send(t, srv, protoReq{method: http.MethodGet, path: "/healthz"})
	if r.StatusCode != http.StatusOK || strings.TrimSpace(string(r.body)) != "ok" {
		t.Errorf("GET /healthz = %d %q", r.StatusCode, r.body)
	}
	r = send(t, srv, protoReq{method: http.MethodHead, path: "/healthz"})
	if r.StatusCode != http.StatusOK {
		t.Errorf("HEAD /healthz = %d", r.StatusCode)
	}

	ready := false
	srv = newProtoServer(t, func(c *api.Config) { c.Ready = func() bool { return ready } })
	r = send(t, srv, protoReq{method: http.MethodGet, path: "/healthz"})
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz while not ready = %d %q", r.StatusCode, r.body)
	}
	ready = true
	r = send(t, srv, protoReq{method: http.MethodGet, path: "/healthz"})
	if r.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz when ready = %d %q", r.StatusCode, r.body)
	}
}

// SDKs send DiscoverInstances to "data-" + host; the Host header changes
// nothing.
func TestHostHeaderIgnored(t *testing.T) {
	srv := newProtoServer(t)
	for _, host := range []string{"data-whatever:1234", "data-servicediscovery.us-east-1.amazonaws.com", "servicediscovery.eu-west-2.amazonaws.com"} {
		r := send(t, srv, protoReq{host: host, target: api.TargetPrefix + "ListNamespaces", contentType: amzJSON, body: []byte(`{}`)})
		expectOK(t, r)
		r = send(t, srv, protoReq{host: host, target: api.TargetPrefix + "DiscoverInstances", contentType: amzJSON,
			body: []byte(`{"NamespaceName":"example.com","ServiceName":"myservice"}`)})
		expectError(t, r, http.StatusBadRequest, "NamespaceNotFound")
	}
}

// sigv4Auth is a well-formed Authorization header for today, which
// development mode accepts without checking the signature.
func sigv4Auth(region string) string {
	return "AWS4-HMAC-SHA256 Credential=AKID/" + time.Now().UTC().Format("20060102") + "/" + region + "/servicediscovery/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0123456789abcdef", 4)
}

// The region of a protoReq is its SigV4 credential scope's: it shows in
// ARNs and scopes what the protoReq sees.
func TestRegionFromAuthorization(t *testing.T) {
	srv := newProtoServer(t)
	callIn := func(region, op, body string) protoResp {
		t.Helper()
		return send(t, srv, protoReq{target: api.TargetPrefix + op, contentType: amzJSON, auth: sigv4Auth(region), body: []byte(body)})
	}
	out := expectOK(t, callIn("eu-west-2", "CreateHttpNamespace", `{"Name":"regional"}`))
	op := expectOK(t, callIn("eu-west-2", "GetOperation", `{"OperationId":"`+out["OperationId"].(string)+`"}`))
	nsID, _ := jsonField(op, "Operation", "Targets", "NAMESPACE").(string)
	ns := expectOK(t, callIn("eu-west-2", "GetNamespace", `{"Id":"`+nsID+`"}`))
	wantARN := "arn:aws:servicediscovery:eu-west-2:" + testAccount + ":namespace/" + nsID
	if arn := jsonField(ns, "Namespace", "Arn"); arn != wantARN {
		t.Errorf("Arn %v, want %s", arn, wantARN)
	}
	if owner := jsonField(ns, "Namespace", "ResourceOwner"); owner != testAccount {
		t.Errorf("ResourceOwner %v", owner)
	}
	svc := expectOK(t, callIn("eu-west-2", "CreateService", `{"Name":"web","NamespaceId":"`+wantARN+`"}`))
	if arn, _ := jsonField(svc, "Service", "Arn").(string); !strings.HasPrefix(arn, "arn:aws:servicediscovery:eu-west-2:"+testAccount+":service/srv-") {
		t.Errorf("service Arn %q", arn)
	}

	// Other regions do not see it, by ID or by ARN.
	expectError(t, callOp(t, srv, "GetNamespace", `{"Id":"`+nsID+`"}`), http.StatusBadRequest, "NamespaceNotFound")
	expectError(t, callIn("us-west-2", "GetNamespace", `{"Id":"`+wantARN+`"}`), http.StatusBadRequest, "NamespaceNotFound")
	expectError(t, callOp(t, srv, "ListTagsForResource", `{"ResourceARN":"`+wantARN+`"}`), http.StatusBadRequest, "ResourceNotFoundException")
	expectOK(t, callIn("eu-west-2", "ListTagsForResource", `{"ResourceARN":"`+wantARN+`"}`))

	// Other partitions.
	out = expectOK(t, callIn("cn-north-1", "CreateHttpNamespace", `{"Name":"regional"}`))
	op = expectOK(t, callIn("cn-north-1", "GetOperation", `{"OperationId":"`+out["OperationId"].(string)+`"}`))
	nsID, _ = jsonField(op, "Operation", "Targets", "NAMESPACE").(string)
	ns = expectOK(t, callIn("cn-north-1", "GetNamespace", `{"Id":"`+nsID+`"}`))
	if arn := jsonField(ns, "Namespace", "Arn"); arn != "arn:aws-cn:servicediscovery:cn-north-1:"+testAccount+":namespace/"+nsID {
		t.Errorf("China Arn %v", arn)
	}

	// A malformed Authorization header is refused, even in development
	// mode, as AWS refuses it: IncompleteSignatureException with the
	// lower-case "message" of AWS's common errors.
	for _, auth := range []string{"AWS4-HMAC-SHA256 Credential=AKID/20260101/EU_WEST/servicediscovery/aws4_request", "Bearer x", "AWS4-HMAC-SHA256 Credential=AKID"} {
		r := send(t, srv, protoReq{target: api.TargetPrefix + "CreateService", contentType: amzJSON, auth: auth,
			body: []byte(`{"Name":"x","NamespaceId":"arn:aws:servicediscovery:us-east-1:` + testAccount + `:namespace/ns-none"}`)})
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil || r.StatusCode != http.StatusBadRequest || e.Type != "IncompleteSignatureException" || e.Message == "" {
			t.Errorf("Authorization %q: status %d body %s; want 400 IncompleteSignatureException with a message", auth, r.StatusCode, r.body)
		}
		if r.Header.Get("x-amzn-ErrorType") != "IncompleteSignatureException" {
			t.Errorf("Authorization %q: x-amzn-ErrorType %q", auth, r.Header.Get("x-amzn-ErrorType"))
		}
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	srv := newProtoServer(t)
	a := callOp(t, srv, "ListNamespaces", `{}`)
	b := callOp(t, srv, "GetNamespace", `{}`)
	if a.Header.Get("x-amzn-RequestId") == b.Header.Get("x-amzn-RequestId") {
		t.Errorf("two requests share the ID %s", a.Header.Get("x-amzn-RequestId"))
	}
}

// A protoReq through the data-plane calls: register, custom health,
// discover by the data- host.
func TestInstanceFlow(t *testing.T) {
	srv := newProtoServer(t)
	out := expectOK(t, callOp(t, srv, "CreateHttpNamespace", `{"Name":"flow.example"}`))
	op := expectOK(t, callOp(t, srv, "GetOperation", `{"OperationId":"`+out["OperationId"].(string)+`"}`))
	if jsonField(op, "Operation", "Status") != "SUCCESS" || jsonField(op, "Operation", "Type") != "CREATE_NAMESPACE" {
		t.Fatalf("operation %v", op)
	}
	nsID := jsonField(op, "Operation", "Targets", "NAMESPACE").(string)
	svc := expectOK(t, callOp(t, srv, "CreateService", `{"Name":"web","NamespaceId":"`+nsID+`","HealthCheckCustomConfig":{"FailureThreshold":1}}`))
	svcID := jsonField(svc, "Service", "Id").(string)
	expectOK(t, callOp(t, srv, "RegisterInstance", `{"ServiceId":"`+svcID+`","InstanceId":"i-1","Attributes":{"color":"blue","AWS_INSTANCE_PORT":"80"}}`))

	r := callOp(t, srv, "UpdateInstanceCustomHealthStatus", `{"ServiceId":"`+svcID+`","InstanceId":"i-1","Status":"UNHEALTHY"}`)
	expectOK(t, r)
	if b := strings.TrimSpace(string(r.body)); b != "" && b != "{}" {
		t.Errorf("UpdateInstanceCustomHealthStatus body %q, want empty or {}", b)
	}

	r = send(t, srv, protoReq{host: "data-whatever:1234", target: api.TargetPrefix + "DiscoverInstances", contentType: amzJSON,
		body: []byte(`{"NamespaceName":"flow.example","ServiceName":"web","HealthStatus":"ALL","QueryParameters":{"color":"blue"}}`)})
	disc := expectOK(t, r)
	insts, _ := disc["Instances"].([]any)
	if len(insts) != 1 || jsonField(insts[0], "HealthStatus") != "UNHEALTHY" || jsonField(insts[0], "Attributes", "AWS_INSTANCE_PORT") != "80" {
		t.Errorf("DiscoverInstances: %s", r.body)
	}
	if _, ok := disc["InstancesRevision"].(json.Number); !ok {
		t.Errorf("InstancesRevision is not a number: %s", r.body)
	}
	expectError(t, callOp(t, srv, "DeleteService", `{"Id":"`+svcID+`"}`), http.StatusBadRequest, "ResourceInUse")
	expectError(t, callOp(t, srv, "UpdateInstanceCustomHealthStatus", `{"ServiceId":"`+svcID+`","InstanceId":"i-2","Status":"HEALTHY"}`),
		http.StatusBadRequest, "InstanceNotFound")
}
