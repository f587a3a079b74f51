package api

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/logging"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// TargetPrefix is the X-Amz-Target prefix of every Cloud Map operation.
const TargetPrefix = "Route53AutoNaming_v20170314."

// SigningName is the SigV4 service name Cloud Map requests are signed for.
const SigningName = "servicediscovery"

// MaxBodyBytes is the largest request body accepted. The largest valid
// Cloud Map request (200 tags, or 30 attributes of 5,000 characters) is
// far smaller.
const MaxBodyBytes = 1 << 20

// Config configures the API handler.
type Config struct {
	// Registry serves the operations.
	Registry *registry.Registry
	// Auth decides the account and region of each request, or refuses it
	// with a *sigv4.Error. Nil means development mode over DefaultRegion
	// and AccountID.
	Auth Authenticator
	// DefaultRegion is the region of unsigned requests when Auth is nil.
	DefaultRegion string
	// AccountID is the account of every request when Auth is nil.
	AccountID string
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
	// Ready reports whether the server is ready, for GET /healthz; nil
	// means always.
	Ready func() bool
	// Degraded, when set and returning a non-empty reason, makes GET
	// /healthz answer 200 "degraded: <reason>" instead of "ok": the
	// server answers reads but refuses writes (its store is unreachable).
	Degraded func() string
	// DevMode says the server runs without credentials (development
	// mode): CairnAdmin_20261125.Reset then forgets every account's state,
	// and POST /moto-api/reset is served. Otherwise that path is refused
	// and a reset forgets the caller's account only.
	DevMode bool
	// Throttle, when set, limits the Cloud Map operations' request rates
	// as AWS does (see AWSThrottle); nil never throttles.
	Throttle *ThrottleConfig
	// Now is the throttle's clock; nil means time.Now.
	Now func() time.Time
	// Faults, when set, are the injected faults the API applies, and
	// manages through its admin operations.
	Faults *fault.Set
	// Observer, when set, is told about every request (see package
	// metrics).
	Observer Observer
	// AccessLog, when set, receives one line per request: its request
	// ID, account, region, operation, HTTP status, error type and
	// latency.
	AccessLog *slog.Logger
	// ListOperationsConcurrency, when above 0, is how many ListOperations
	// requests are served at once; more wait for their turn, in the order
	// they came, and while some wait each turn rests twice as long as it
	// took (see bulkhead): clients paging without pause can't crowd the
	// other callers off the CPU. 0 serves every request at once.
	ListOperationsConcurrency int
}

// Observer is told about the requests the handler serves. Its methods
// are called on the request's goroutine and must be quick.
type Observer interface {
	// Operation returns the observer of one operation. The handler calls
	// it once per operation name when it is built, and once with
	// UnknownOperation for requests that name none.
	Operation(name string) OperationObserver
	// AuthRefused is called for each request that SigV4 verification
	// refuses, with the reason (see AuthReasons).
	AuthRefused(reason string)
	// Throttled is called for each request of the operation refused by
	// --throttle, and FaultInjected for each answered with an injected
	// error (cairn fault add); both are also Served with their error type.
	Throttled(operation string)
	FaultInjected(operation string)
}

// OperationObserver is told about each request of one operation.
type OperationObserver interface {
	// Served is called once the response is written, with the error type
	// sent ("" for success) and the time taken.
	Served(errType string, took time.Duration)
}

// UnknownOperation is the operation name observers and the access log
// see for requests whose X-Amz-Target names no operation.
const UnknownOperation = "unknown"

// The reasons AuthRefused reports.
const (
	AuthMissing      = "missing_authentication"
	AuthIncomplete   = "incomplete_signature"
	AuthMismatch     = "signature_mismatch"
	AuthExpired      = "signature_expired"
	AuthUnrecognized = "unrecognized_client"
	AuthOther        = "other"
)

// AuthReasons lists every reason AuthRefused reports, so that an
// observer can prepare one counter per reason.
var AuthReasons = []string{AuthMissing, AuthIncomplete, AuthMismatch, AuthExpired, AuthUnrecognized, AuthOther}

// Authenticator decides who a request is.
type Authenticator interface {
	Authenticate(req *http.Request, body []byte) (account, region string, err error)
}

// identifier is an Authenticator that also names the identity that
// signed, with its policy (sigv4.Auth is one).
type identifier interface {
	Identify(req *http.Request, body []byte) (sigv4.Identity, string, error)
}

// authRefused tells the observer, if any, why SigV4 refused a request,
// whether on its headers alone or on its signature.
func (h *Handler) authRefused(err error) {
	if h.cfg.Observer != nil {
		h.cfg.Observer.AuthRefused(authReason(err))
	}
}

// HeaderChecker is an Authenticator that can refuse a request on its
// headers alone, before its body is read.
type HeaderChecker interface {
	CheckHeaders(req *http.Request) error
}

// checker is an Authenticator that checks a request's headers before its
// body is read and keeps what it parsed for the signature's verification
// (sigv4.Auth is one): the Authorization header is parsed once.
type checker interface {
	Check(req *http.Request) (sigv4.Checked, error)
}

// Handler serves the Cloud Map API over HTTP.
type Handler struct {
	cfg     Config
	ops     map[string]*opEntry
	admin   map[string]*opEntry
	unknown *opEntry
	log     *slog.Logger
	// throttle is nil unless Config.Throttle is set.
	throttle *throttle
}

// opEntry is one operation with its observer, resolved when the handler
// is built so that a request costs no lookup beyond finding its entry.
type opEntry struct {
	name string
	fn   operation
	obs  OperationObserver
	// gate, when set, bounds how many requests of the operation are
	// served at once (Config.ListOperationsConcurrency).
	gate *bulkhead
}

// entries pairs each operation with its observer.
func entries(ops map[string]operation, obs Observer) map[string]*opEntry {
	out := make(map[string]*opEntry, len(ops))
	for name, fn := range ops {
		e := &opEntry{name: name, fn: fn}
		if obs != nil {
			e.obs = obs.Operation(name)
		}
		out[name] = e
	}
	return out
}

// New returns the API handler.
func New(cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Auth == nil {
		cfg.Auth = sigv4.NewAuth(SigningName, cfg.DefaultRegion, cfg.AccountID, nil)
	}
	h := &Handler{cfg: cfg, ops: entries(operations(cfg.Registry), cfg.Observer),
		admin: entries(adminOperations(cfg.Registry, cfg.DevMode, cfg.Faults), cfg.Observer), log: log,
		unknown: &opEntry{name: UnknownOperation}}
	if cfg.Observer != nil {
		h.unknown.obs = cfg.Observer.Operation(UnknownOperation)
	}
	if cfg.Throttle != nil {
		h.throttle = newThrottle(*cfg.Throttle, cfg.Now)
	}
	if cfg.ListOperationsConcurrency > 0 {
		h.ops["ListOperations"].gate = newBulkhead(cfg.ListOperationsConcurrency)
	}
	return h
}

// lookup finds the operation an X-Amz-Target names, or nil.
func (h *Handler) lookup(target string) *opEntry {
	if name, ok := strings.CutPrefix(target, TargetPrefix); ok {
		return h.ops[name]
	}
	if name, ok := strings.CutPrefix(target, AdminTargetPrefix); ok {
		return h.admin[name]
	}
	return nil
}

// exchange is what the handler learns of one request as it serves it, for
// the observer and the access log.
type exchange struct {
	op              *opEntry
	account, region string
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	reqID := requestID()
	// Keys in canonical form, set in the map: Header.Set would
	// canonicalize x-amzn-RequestId (an allocation) on every request. The
	// Date header is net/http's, which formats it without allocating.
	// The answer's header values (x-amzn-RequestId, Content-Type,
	// Content-Length) share one allocation.
	vals := new(answerHeaders)
	vals[0] = reqID
	w.Header()[requestIDHeader] = vals[0:1:1]
	if req.URL.Path == "/healthz" && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		h.healthz(w)
		return
	}
	if req.URL.Path == motoResetPath {
		h.motoReset(w, req)
		return
	}
	var ex exchange
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("api: panic serving request", "request_id", reqID, "panic", p)
			werr := &wireError{status: statusInternal, Type: "InternalFailure",
				Message: "The request processing has failed because of an unknown error (request " + reqID + ")"}
			writeError(w, werr)
			h.done(req, &ex, werr, reqID, start)
		}
	}()
	werr := h.serve(w, req, reqID, &ex, vals)
	if werr != nil {
		if werr.status >= 500 {
			h.log.Error("api: request failed", "request_id", reqID, "operation", ex.opName(),
				"type", werr.Type, "message", werr.Message)
		}
		writeError(w, werr)
	}
	h.done(req, &ex, werr, reqID, start)
}

func (ex *exchange) opName() string {
	if ex.op == nil {
		return UnknownOperation
	}
	return ex.op.name
}

// done reports a served request to the observer and the access log.
func (h *Handler) done(req *http.Request, ex *exchange, werr *wireError, reqID string, start time.Time) {
	if h.cfg.Observer == nil && h.cfg.AccessLog == nil {
		return
	}
	took := time.Since(start)
	op := ex.op
	if op == nil {
		op = h.unknown
	}
	errType, status := "", http.StatusOK
	if werr != nil {
		errType, status = werr.Type, werr.status
	}
	if op.obs != nil {
		op.obs.Served(errType, took)
	}
	if h.cfg.AccessLog != nil {
		h.cfg.AccessLog.LogAttrs(req.Context(), slog.LevelInfo, "request",
			slog.String("request_id", reqID), slog.String("account", ex.account), slog.String("region", ex.region),
			slog.String("operation", op.name), slog.Int("status", status), slog.String("error_type", errType),
			slog.Float64("latency_ms", float64(took.Microseconds())/1000), slog.String("remote", req.RemoteAddr))
	}
}

func (h *Handler) healthz(w http.ResponseWriter) {
	if h.cfg.Ready != nil && !h.cfg.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "starting\n")
		return
	}
	if h.cfg.Degraded != nil {
		if reason := h.cfg.Degraded(); reason != "" {
			_, _ = io.WriteString(w, "degraded: "+reason+"\n")
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

// answerHeaders are the values of a successful answer's headers:
// x-amzn-RequestId, Content-Type and Content-Length.
type answerHeaders [3]string

// serve serves one Cloud Map or admin operation: it checks the request's
// form, authenticates it, admits it past the throttle and any injected
// fault, runs the operation and writes its answer. An error is returned
// for ServeHTTP to write.
func (h *Handler) serve(w http.ResponseWriter, req *http.Request, reqID string, ex *exchange, vals *answerHeaders) *wireError {
	target := req.Header.Get("X-Amz-Target")
	ex.op = h.lookup(target)
	if werr := checkForm(w, req); werr != nil {
		return werr
	}
	id, region, body, werr := h.authenticate(w, req)
	if werr != nil {
		return werr
	}
	ex.account, ex.region = id.AccountID, region
	if ex.op == nil {
		return &wireError{status: statusClientError, Type: "UnknownOperationException",
			Message: fmt.Sprintf("The X-Amz-Target %q does not name a Cloud Map operation (%s<Operation>)", target, TargetPrefix)}
	}
	if strings.HasPrefix(target, TargetPrefix) { // the admin operations are neither throttled nor faulted
		if werr := h.admit(req.Context(), ex.op.name, id.AccountID, region, body); werr != nil {
			return werr
		}
	}
	ctx := logging.WithRequestID(req.Context(), reqID)
	if id.Policy != nil {
		p := newPrincipal(h.cfg.Registry, id, region, req)
		p.op = ex.op.name
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	if gate := ex.op.gate; gate != nil {
		// Past the signature, the throttle and any injected latency: a
		// turn is the operation's own work, its encoding and its writing.
		entered, err := gate.enter(ctx)
		if err != nil {
			return toWire(err)
		}
		defer gate.leave(entered)
	}
	out, werr := ex.op.fn(ctx, registry.Caller{Account: id.AccountID, Region: region}, body)
	if werr != nil {
		return werr
	}
	writeAnswer(w, out, vals)
	return nil
}

// checkForm refuses a request that is not a POST to / of a JSON body.
func checkForm(w http.ResponseWriter, req *http.Request) *wireError {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return &wireError{status: http.StatusMethodNotAllowed, Type: "UnknownOperationException",
			Message: fmt.Sprintf("Cloud Map operations are sent as POST /, not %s", req.Method)}
	}
	if req.URL.Path != "/" {
		return &wireError{status: http.StatusNotFound, Type: "UnknownOperationException",
			Message: fmt.Sprintf("Cloud Map operations are sent to the path /, not %s", req.URL.Path)}
	}
	if ct := req.Header.Get("Content-Type"); ct != "" && ct != amzJSON11 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != amzJSON11 && mt != "application/x-amz-json-1.0" && mt != "application/json") {
			return &wireError{status: http.StatusUnsupportedMediaType, Type: "SerializationException",
				Message: fmt.Sprintf("The Content-Type %q is not supported; send application/x-amz-json-1.1", ct)}
		}
	}
	return nil
}

// authenticate decides who sent req and reads its body. A request the
// authenticator can refuse on its headers alone (no signature, an unknown
// key, an expired date) is refused before its body is read.
func (h *Handler) authenticate(w http.ResponseWriter, req *http.Request) (sigv4.Identity, string, []byte, *wireError) {
	var checked sigv4.Checked
	ck, isChecker := h.cfg.Auth.(checker)
	var err error
	if isChecker {
		checked, err = ck.Check(req)
	} else if hc, ok := h.cfg.Auth.(HeaderChecker); ok {
		err = hc.CheckHeaders(req)
	}
	if err != nil {
		h.authRefused(err)
		return sigv4.Identity{}, "", nil, authError(err)
	}
	body, werr := readLimitedBody(w, req)
	if werr != nil {
		return sigv4.Identity{}, "", nil, werr
	}
	var id sigv4.Identity
	var region string
	if isChecker {
		id, region, err = checked.Identify(req, body)
	} else if ident, ok := h.cfg.Auth.(identifier); ok {
		id, region, err = ident.Identify(req, body)
	} else {
		id.AccountID, region, err = h.cfg.Auth.Authenticate(req, body)
	}
	if err != nil {
		h.authRefused(err)
		return sigv4.Identity{}, "", nil, authError(err)
	}
	return id, region, body, nil
}

// admit applies the throttle (--throttle) and the injected faults (cairn
// fault add) to a Cloud Map operation.
func (h *Handler) admit(ctx context.Context, op, account, region string, body []byte) *wireError {
	if h.throttle != nil {
		if werr := h.throttle.allow(op, account, region); werr != nil {
			if h.cfg.Observer != nil {
				h.cfg.Observer.Throttled(op)
			}
			return werr
		}
	}
	if h.cfg.Faults != nil && h.cfg.Faults.Active() {
		if werr := h.injectFault(ctx, op, account, body); werr != nil {
			if h.cfg.Observer != nil {
				h.cfg.Observer.FaultInjected(op)
			}
			return werr
		}
	}
	return nil
}

// writeAnswer writes a successful answer, out, and puts its buffer back.
func writeAnswer(w http.ResponseWriter, out []byte, vals *answerHeaders) {
	hdr := w.Header()
	vals[1] = amzJSON11
	hdr["Content-Type"] = vals[1:2:2]
	// With its length, a body over 2 KiB (DiscoverInstances of ten
	// instances) is sent whole rather than chunked, as AWS sends it.
	vals[2] = strconv.Itoa(len(out))
	hdr["Content-Length"] = vals[2:3:3]
	_, _ = w.Write(out)
	putBuffer(out)
}

const (
	amzJSON11       = "application/x-amz-json-1.1"
	requestIDHeader = "X-Amzn-Requestid" // x-amzn-RequestId, canonical
)

func toWire(err error) *wireError {
	if e, ok := registry.AsError(err); ok {
		return fromDomain(e)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wireError{status: statusUnavailable, Type: "ServiceUnavailable", Message: "The request was cancelled before it finished: " + err.Error()}
	}
	return &wireError{status: statusInternal, Type: "InternalFailure", Message: err.Error()}
}

func writeError(w http.ResponseWriter, e *wireError) {
	b := e.body()
	hdr := w.Header()
	hdr["Content-Type"] = []string{amzJSON11}
	hdr["X-Amzn-Errortype"] = []string{e.Type} // x-amzn-ErrorType, canonical
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// requestID returns a random ID in the form AWS uses (a UUID, version 4),
// in one allocation. Its bits come from math/rand/v2's generator
// (ChaCha8, seeded by the runtime from the system's randomness, one state
// per thread): a request ID must be unique, not secret, and crypto/rand's
// system call was 1% of cairn's CPU on the read path.
func requestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:16], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
