// Package route53 serves the read side of the Amazon Route 53 API (REST-XML,
// API version 2013-04-01) for what cairn manages: each DNS namespace as the
// hosted zone Cloud Map creates for it, with the record sets Cloud Map
// creates in it, and one health check per instance of a service with a
// HealthCheckConfig, with the status cairn's checker settled on.
//
// # Basics
//
// The handler answers GetHostedZone, ListHostedZones,
// ListHostedZonesByName, GetHostedZoneCount, ListResourceRecordSets,
// GetHealthCheck, ListHealthChecks, GetHealthCheckCount and
// GetHealthCheckStatus under the path prefix /2013-04-01/, from the
// registry's in-memory view. Requests are SigV4-signed for the signing
// name route53 and the region us-east-1, and verified with the same
// credentials as the Cloud Map API. Route 53 is global: an account sees the
// zones and health checks of its namespaces in every region, and nothing
// of other accounts (a namespace shared with it stays its owner's zone).
// An identity with a policy file is authorized as IAM authorizes Route 53
// reads: the route53: action on the zone's or health check's ARN, or on
// "*" for the lists and counts.
//
// # Caveats
//
// Every other Route 53 operation is refused: writes to a zone or health
// check cairn manages with Route 53's own AccessDenied ("can only be
// managed through servicediscovery.amazonaws.com"), the rest with
// InvalidAction. Errors are Route 53's XML ErrorResponse documents.
package route53

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn/internal/policy"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// PathPrefix is the path every Route 53 request starts with.
const PathPrefix = "/2013-04-01/"

// SigningName is the service name of Route 53's SigV4 credential scope.
const SigningName = "route53"

// SigningRegion is the one region Route 53 requests are signed for.
const SigningRegion = "us-east-1"

// servicePrincipal is the LinkedService of everything Cloud Map creates.
const servicePrincipal = "servicediscovery.amazonaws.com"

// Config configures a Handler.
type Config struct {
	// Registry is what the handler reads.
	Registry *registry.Registry
	// Auth verifies requests; it must be made for SigningName.
	Auth *sigv4.Auth
	// Nameserver is the host name in every zone's NS and SOA records.
	Nameserver string
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Handler serves Route 53's read operations over HTTP.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns a Handler.
func New(cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, log: log}
}

// apiError is a Route 53 error: its HTTP status, code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidInput(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidInput", fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one Route 53 request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	reqID := requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("route53: panic serving request", "request_id", reqID, "panic", p)
			writeError(w, reqID, &apiError{http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error"})
		}
	}()
	out, err := h.serve(req)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error"}
			h.log.Error("route53: request failed", "request_id", reqID, "err", err)
		}
		writeError(w, reqID, ae)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = io.WriteString(w, xml.Header)
	if err := xml.NewEncoder(w).Encode(out); err != nil {
		h.log.Warn("route53: write response", "request_id", reqID, "err", err)
	}
}

func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(errorResponse{Xmlns: xmlns, Error: errorBody{Type: typ, Code: e.code, Message: e.message}, RequestID: reqID})
}

// authErrors maps cairn's SigV4 refusals to the codes Route 53 (an XML
// protocol service) sends for them.
var authErrors = map[string]string{
	sigv4.CodeMissingToken:       "MissingAuthenticationToken",
	sigv4.CodeIncomplete:         "IncompleteSignature",
	sigv4.CodeInvalidSignature:   "SignatureDoesNotMatch",
	sigv4.CodeUnrecognizedClient: "InvalidClientTokenId",
}

// serve authenticates req, authorizes it against the caller's policy,
// and runs its operation.
func (h *Handler) serve(req *http.Request) (any, error) {
	id, err := h.authenticate(req)
	if err != nil {
		return nil, err
	}
	account := id.AccountID
	path := strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(PathPrefix, "/"))
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if req.Method == http.MethodGet {
		if err := authorize(&id, req, parts); err != nil {
			return nil, err
		}
		return h.read(account, parts, req.URL.Query())
	}
	return nil, h.refuse(account, req.Method, parts)
}

// authenticate verifies req's signature, which must be scoped to Route
// 53's signing region, and returns the caller's identity.
func (h *Handler) authenticate(req *http.Request) (sigv4.Identity, error) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		return sigv4.Identity{}, invalidInput("The request body could not be read: %v", err)
	}
	id, region, err := h.cfg.Auth.Identify(req, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			code := authErrors[se.Code]
			if code == "" {
				code = se.Code
			}
			return sigv4.Identity{}, &apiError{http.StatusForbidden, code, se.Message}
		}
		return sigv4.Identity{}, err
	}
	if req.Header.Get("Authorization") != "" && region != SigningRegion {
		return sigv4.Identity{}, &apiError{http.StatusForbidden, "SignatureDoesNotMatch",
			fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", region)}
	}
	return id, nil
}

// authorize evaluates a read by an identity with a policy file as IAM
// does: the route53: action the path names, on the hosted zone's or
// health check's ARN, or on "*" for the lists and counts. Identities
// without a policy file may read everything of their account. A path of
// no read is left to read and refuse.
func authorize(id *sigv4.Identity, req *http.Request, parts []string) error {
	if id.Policy == nil {
		return nil
	}
	name, resource := readAction(parts)
	act, ok := policy.LookupAction(policy.Route53Service + ":" + name)
	if !ok {
		return nil
	}
	c := id.Caller(SigningRegion, req)
	evaluated := resource
	if evaluated == "" {
		evaluated = "*"
	}
	d := id.Policy.Evaluate(&policy.Request{Action: act, Resource: evaluated, Context: c.NewContext(0)})
	if d.Allowed() {
		return nil
	}
	return &apiError{http.StatusForbidden, "AccessDenied", policy.Refusal(c.ARN, act, resource, d.Effect)}
}

// readAction names the read a GET of the path parts is, and the ARN of
// the zone or health check it reads ("" for the lists and counts); the
// name is "" for a path of no read.
func readAction(parts []string) (name, resource string) {
	const zoneARN, checkARN = "arn:aws:route53:::hostedzone/", "arn:aws:route53:::healthcheck/"
	switch {
	case len(parts) == 1:
		switch parts[0] {
		case "hostedzone":
			return "ListHostedZones", ""
		case "hostedzonesbyname":
			return "ListHostedZonesByName", ""
		case "hostedzonecount":
			return "GetHostedZoneCount", ""
		case "healthcheck":
			return "ListHealthChecks", ""
		case "healthcheckcount":
			return "GetHealthCheckCount", ""
		}
	case len(parts) == 2 && parts[0] == "hostedzone":
		return "GetHostedZone", zoneARN + zoneID(parts[1])
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		return "ListResourceRecordSets", zoneARN + zoneID(parts[1])
	case len(parts) == 2 && parts[0] == "healthcheck":
		return "GetHealthCheck", checkARN + parts[1]
	case len(parts) == 3 && parts[0] == "healthcheck" && parts[2] == "status":
		return "GetHealthCheckStatus", checkARN + parts[1]
	}
	return "", ""
}

// read runs the read operation a GET of the path parts names (refuse
// answers a path of none).
func (h *Handler) read(account string, parts []string, q url.Values) (any, error) {
	name, _ := readAction(parts)
	switch name {
	case "ListHostedZones":
		return h.listHostedZones(account, q)
	case "ListHostedZonesByName":
		return h.listHostedZonesByName(account, q)
	case "GetHostedZoneCount":
		return &getHostedZoneCountResponse{Xmlns: xmlns, HostedZoneCount: int64(len(h.cfg.Registry.Zones(account)))}, nil
	case "GetHostedZone":
		return h.getHostedZone(account, parts[1])
	case "ListResourceRecordSets":
		return h.listResourceRecordSets(account, parts[1], q)
	case "ListHealthChecks":
		return h.listHealthChecks(account, q)
	case "GetHealthCheckCount":
		return &getHealthCheckCountResponse{Xmlns: xmlns, HealthCheckCount: int64(len(h.cfg.Registry.HealthChecks(account)))}, nil
	case "GetHealthCheck":
		return h.getHealthCheck(account, parts[1])
	case "GetHealthCheckStatus":
		return h.getHealthCheckStatus(account, parts[1])
	}
	return nil, h.refuse(account, http.MethodGet, parts)
}

// refuse answers every other operation: a change to a zone or health
// check that cairn manages gets Route 53's AccessDenied for resources
// another service owns; anything else InvalidAction.
func (h *Handler) refuse(account, method string, parts []string) error {
	if method != http.MethodGet {
		// The zone or health check a write names: hostedzone/{Id}/…,
		// healthcheck/{Id}/…, tags/{type}/{Id}.
		for i := 0; i+1 < len(parts); i++ {
			id := parts[i+1]
			switch parts[i] {
			case "hostedzone":
				if z, ok := h.zone(account, id); ok {
					return &apiError{http.StatusForbidden, "AccessDenied",
						fmt.Sprintf("The resource hostedzone/%s can only be managed through %s (%s)", z.HostedZoneID, servicePrincipal, z.NamespaceARN)}
				}
			case "healthcheck":
				if hc, ok := h.healthCheck(account, id); ok {
					return &apiError{http.StatusForbidden, "AccessDenied",
						fmt.Sprintf("The resource healthcheck/%s can only be managed through %s (%s)", hc.ID, servicePrincipal, hc.Service.ARN)}
				}
			}
		}
	}
	return &apiError{http.StatusBadRequest, "InvalidAction",
		fmt.Sprintf("cairn serves only the read side of Route 53 for what Cloud Map manages; %s %s is not supported", method, PathPrefix+strings.Join(parts, "/"))}
}

// maxItems reads a MaxItems parameter: def when absent, at most limit.
func maxItems(q map[string][]string, def int) (int, error) {
	v := ""
	if vs := q["maxitems"]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidInput("MaxItems must be a positive number, not %q", v)
	}
	return min(n, def), nil
}

func first(q map[string][]string, k string) string {
	if vs := q[k]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// zoneID strips the /hostedzone/ prefix some clients leave on an ID.
func zoneID(id string) string { return strings.TrimPrefix(id, "/hostedzone/") }

func (h *Handler) zone(account, id string) (*registry.Zone, bool) {
	id = zoneID(id)
	zones := h.cfg.Registry.Zones(account)
	for i := range zones {
		if zones[i].HostedZoneID == id {
			return &zones[i], true
		}
	}
	return nil, false
}

func noSuchZone(id string) error {
	return &apiError{http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: " + zoneID(id)}
}

// hostedZoneOut shapes a zone as Route 53 shows it.
func (h *Handler) hostedZoneOut(z *registry.Zone) hostedZone {
	return hostedZone{
		ID: "/hostedzone/" + z.HostedZoneID, Name: fqdn(z.Name), CallerReference: z.NamespaceID,
		Config:                 zoneConfig{Comment: z.Description, PrivateZone: z.Private},
		ResourceRecordSetCount: int64(len(zoneRecords(z, h.cfg.Nameserver))),
		LinkedService:          &linkedService{ServicePrincipal: servicePrincipal, Description: z.NamespaceARN},
	}
}

func (h *Handler) getHostedZone(account, id string) (any, error) {
	z, ok := h.zone(account, id)
	if !ok {
		return nil, noSuchZone(id)
	}
	out := &getHostedZoneResponse{Xmlns: xmlns, HostedZone: h.hostedZoneOut(z)}
	if z.Private {
		out.VPCs = []vpc{{VPCRegion: z.Region, VPCId: z.VPC}}
	} else {
		out.DelegationSet = &delegationSet{NameServers: []string{strings.TrimSuffix(h.cfg.Nameserver, ".")}}
	}
	return out, nil
}

func (h *Handler) listHostedZones(account string, q map[string][]string) (any, error) {
	n, err := maxItems(q, 100)
	if err != nil {
		return nil, err
	}
	if id := first(q, "delegationsetid"); id != "" {
		return nil, &apiError{http.StatusBadRequest, "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist: " + id}
	}
	privateOnly := false
	switch t := first(q, "hostedzonetype"); t {
	case "":
	case "PrivateHostedZone":
		privateOnly = true
	default:
		return nil, invalidInput("HostedZoneType must be PrivateHostedZone, not %q", t)
	}
	out := &listHostedZonesResponse{Xmlns: xmlns}
	out.HostedZones, out.markerPage = pageByMarker(h.cfg.Registry.Zones(account), zoneID(first(q, "marker")), n,
		func(z *registry.Zone) string { return z.HostedZoneID },
		func(z *registry.Zone) bool { return z.Private || !privateOnly },
		h.hostedZoneOut)
	return out, nil
}

// pageByMarker is one page of a List operation that takes a Marker: the
// items from the one whose ID is marker on (items are sorted by ID), that
// keep keeps, at most n, each made into the answer's shape by out.
func pageByMarker[T, O any](items []T, marker string, n int, id func(*T) string, keep func(*T) bool, out func(*T) O) ([]O, markerPage) {
	page := markerPage{Marker: marker, MaxItems: strconv.Itoa(n)}
	list := []O{}
	for i := range items {
		it := &items[i]
		if id(it) < marker || !keep(it) {
			continue
		}
		if len(list) == n {
			page.IsTruncated, page.NextMarker = true, id(it)
			break
		}
		list = append(list, out(it))
	}
	return list, page
}

func (h *Handler) listHostedZonesByName(account string, q map[string][]string) (any, error) {
	n, err := maxItems(q, 100)
	if err != nil {
		return nil, err
	}
	name, id := first(q, "dnsname"), zoneID(first(q, "hostedzoneid"))
	if id != "" && name == "" {
		return nil, invalidInput("The hosted zone ID %s needs a DNSName", id)
	}
	zones := h.cfg.Registry.Zones(account)
	type keyed struct {
		key string
		z   *registry.Zone
	}
	sorted := make([]keyed, len(zones))
	for i := range zones {
		sorted[i] = keyed{sortKey(fqdn(zones[i].Name)), &zones[i]}
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].key != sorted[j].key {
			return sorted[i].key < sorted[j].key
		}
		return sorted[i].z.HostedZoneID < sorted[j].z.HostedZoneID
	})
	out := &listHostedZonesByNameResponse{Xmlns: xmlns, HostedZones: []hostedZone{}, MaxItems: strconv.Itoa(n)}
	startKey := ""
	if name != "" {
		out.DNSName = canonical(name)
		startKey = sortKey(out.DNSName)
		out.HostedZoneID = id
	}
	for _, k := range sorted {
		if k.key < startKey || k.key == startKey && k.z.HostedZoneID < id {
			continue
		}
		if len(out.HostedZones) == n {
			out.IsTruncated, out.NextDNSName, out.NextHostedZoneID = true, fqdn(k.z.Name), k.z.HostedZoneID
			break
		}
		out.HostedZones = append(out.HostedZones, h.hostedZoneOut(k.z))
	}
	return out, nil
}

// recordTypes are the types StartRecordType may name.
var recordTypes = map[string]bool{"SOA": true, "A": true, "TXT": true, "NS": true, "CNAME": true, "MX": true, "NAPTR": true,
	"PTR": true, "SRV": true, "SPF": true, "AAAA": true, "CAA": true, "DS": true, "TLSA": true, "SSHFP": true, "SVCB": true, "HTTPS": true}

func (h *Handler) listResourceRecordSets(account, id string, q map[string][]string) (any, error) {
	n, err := maxItems(q, 300)
	if err != nil {
		return nil, err
	}
	name, typ, ident := first(q, "name"), first(q, "type"), first(q, "identifier")
	if typ != "" && name == "" {
		return nil, invalidInput("StartRecordType needs StartRecordName")
	}
	if ident != "" && typ == "" {
		return nil, invalidInput("StartRecordIdentifier needs StartRecordName and StartRecordType")
	}
	if typ != "" && !recordTypes[typ] {
		return nil, invalidInput("%q is not a record type (StartRecordType)", typ)
	}
	z, ok := h.zone(account, id)
	if !ok {
		return nil, noSuchZone(id)
	}
	start := recordSet{}
	if name != "" {
		start = recordSet{key: sortKey(canonical(name)), rrs: resourceRecordSet{Type: typ, SetIdentifier: ident}}
	}
	out := &listResourceRecordSetsResponse{Xmlns: xmlns, ResourceRecordSets: []resourceRecordSet{}, MaxItems: strconv.Itoa(n)}
	for _, rs := range zoneRecords(z, h.cfg.Nameserver) {
		if name != "" && less(&rs, &start) {
			continue
		}
		if len(out.ResourceRecordSets) == n {
			out.IsTruncated = true
			out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = rs.rrs.Name, rs.rrs.Type, rs.rrs.SetIdentifier
			break
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, rs.rrs)
	}
	return out, nil
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
