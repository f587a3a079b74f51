package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/sigv4"
)

// TargetPrefix is the X-Amz-Target prefix of Cloud Map operations.
const TargetPrefix = "Route53AutoNaming_v20170314."

// Endpoint is a Cloud Map API endpoint the tool talks to.
type Endpoint struct {
	URL    string // base URL, such as http://127.0.0.1:9080
	Region string
	Creds  Credentials

	host   string
	client *http.Client
}

// NewEndpoint returns an Endpoint whose transport keeps up to conns idle
// connections to the host, so that each of conns concurrent clients keeps
// its own connection alive.
func NewEndpoint(rawURL, region string, creds Credentials, conns int) (*Endpoint, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("the endpoint %q is not a URL such as http://127.0.0.1:9080", rawURL)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("the endpoint %q has a path; Cloud Map is served at /", rawURL)
	}
	conns = max(conns, 1)
	tr := &http.Transport{
		Proxy:                 nil, // a benchmark measures the server, never a proxy
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * conns,
		MaxIdleConnsPerHost:   2 * conns,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: 30 * time.Second,
		WriteBufferSize:       8 << 10,
		ReadBufferSize:        16 << 10,
	}
	return &Endpoint{URL: strings.TrimSuffix(rawURL, "/"), Region: region, Creds: creds, host: u.Host,
		client: &http.Client{Transport: tr}}, nil
}

// Host is the Host header requests carry.
func (e *Endpoint) Host() string { return e.host }

// CloseIdle closes the idle connections.
func (e *Endpoint) CloseIdle() { e.client.CloseIdleConnections() }

// APIError is an error answered by the server, in the AWS JSON protocol's
// shape.
type APIError struct {
	Status  int
	Type    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Type, e.Status, e.Message)
}

// IsAPIError reports whether err is an APIError of the given type (the
// part of __type after any '#').
func IsAPIError(err error, typ string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Type == typ
}

// Call sends one operation with a JSON-encoded input and decodes the
// output into out (nil to drop it). It is for setup, not the hot loops:
// it allocates a signer and encodes with encoding/json.
func (e *Endpoint) Call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	c := e.NewConn()
	resp, err := c.Do(ctx, TargetPrefix+op, body, PayloadHash(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("%s: decode the answer: %w", op, err)
		}
	}
	return nil
}

// Conn is one client's request loop: a reused request, signer and
// response buffer. It is not safe for concurrent use.
type Conn struct {
	e       *Endpoint
	signer  *sigv4.Signer
	req     *http.Request
	body    *bytes.Reader
	bodyRC  io.ReadCloser // body wrapped by io.NopCloser, which net/http knows to be in memory
	hDate   []string
	hAuth   []string
	hTarget []string
	cur     []byte
	resp    bytes.Buffer
}

// NewConn returns a request loop for one client goroutine.
func (e *Endpoint) NewConn() *Conn {
	c := &Conn{e: e, signer: sigv4.NewSigner(e.Creds, SigningName, e.Region, e.host)}
	u, _ := url.Parse(e.URL + "/")
	c.hDate, c.hAuth, c.hTarget = []string{""}, []string{""}, []string{""}
	h := http.Header{
		"Content-Type":  {ContentType},
		"X-Amz-Date":    c.hDate,
		"Authorization": c.hAuth,
		"X-Amz-Target":  c.hTarget,
		"User-Agent":    {"cairn-bench"},
	}
	if tok := e.Creds.SessionToken; tok != "" {
		h["X-Amz-Security-Token"] = []string{tok}
	}
	// The body is a *bytes.Reader behind io.NopCloser: net/http then
	// knows it is in memory and writes headers and body in one write
	// (any other reader makes it flush the headers first: two writes).
	c.body = bytes.NewReader(nil)
	c.bodyRC = io.NopCloser(c.body)
	c.req = &http.Request{Method: http.MethodPost, URL: u, Host: e.host, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	c.req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(c.cur)), nil }
	return c
}

// Do signs and sends one request and returns the response body, valid
// until the next Do. A status other than 200 is an *APIError.
func (c *Conn) Do(ctx context.Context, target string, body []byte, payloadHash string) ([]byte, error) {
	date, auth := c.signer.Sign(target, payloadHash)
	c.hDate[0], c.hAuth[0], c.hTarget[0] = date, auth, target
	c.cur = body
	c.body.Reset(body)
	c.req.Body, c.req.ContentLength = c.bodyRC, int64(len(body))
	req := c.req
	if ctx != context.Background() {
		req = c.req.WithContext(ctx)
	}
	resp, err := c.e.client.Do(req)
	if err != nil {
		return nil, err
	}
	c.resp.Reset()
	_, err = c.resp.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), c.resp.Bytes())
	}
	return c.resp.Bytes(), nil
}

func decodeError(status int, hdrType string, body []byte) *APIError {
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	typ := e.Type
	if typ == "" {
		typ = hdrType
	}
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	if i := strings.IndexByte(typ, ':'); i >= 0 {
		typ = typ[:i]
	}
	msg := e.Message
	if msg == "" {
		msg = e.MessageU
	}
	if typ == "" && msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
	}
	return &APIError{Status: status, Type: typ, Message: msg}
}
