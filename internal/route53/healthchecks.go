package route53

import (
	"net/http"
	"strconv"

	"github.com/cairn-dev/cairn/internal/registry"
)

// healthCheck finds the health check id among those of the account's
// instances (the health checks cairn manages are the Route 53 ones).
func (h *Handler) healthCheck(account, id string) (*registry.HealthCheck, bool) {
	for _, hc := range h.cfg.Registry.HealthChecks(account) {
		if hc.ID == id {
			return &hc, true
		}
	}
	return nil, false
}

func noSuchHealthCheck(id string) error {
	return &apiError{http.StatusNotFound, "NoSuchHealthCheck", "No health check exists with the specified ID " + id}
}

// healthCheckOut shapes a health check as Route 53 shows it.
func healthCheckOut(hc *registry.HealthCheck) healthCheck {
	cfg := hc.Service.HealthCheck
	c := healthCheckConfig{Type: cfg.Type, RequestInterval: 30, FailureThreshold: 3}
	if cfg.FailureThreshold != nil {
		c.FailureThreshold = int(*cfg.FailureThreshold)
	}
	if cfg.Type != "TCP" {
		c.ResourcePath = cfg.ResourcePath
		if c.ResourcePath == "" {
			c.ResourcePath = "/"
		}
	}
	attrs := hc.Instance.Attributes
	c.IPAddress = attrs[registry.AttrIPv4]
	if c.IPAddress == "" {
		c.IPAddress = attrs[registry.AttrIPv6]
	}
	c.Port, _ = strconv.Atoi(attrs[registry.AttrPort])
	return healthCheck{ID: hc.ID, CallerReference: hc.Instance.ID, HealthCheckConfig: c, HealthCheckVersion: 1,
		LinkedService: &linkedService{ServicePrincipal: servicePrincipal, Description: hc.Service.ARN}}
}

func (h *Handler) getHealthCheck(account, id string) (any, error) {
	hc, ok := h.healthCheck(account, id)
	if !ok {
		return nil, noSuchHealthCheck(id)
	}
	return &getHealthCheckResponse{Xmlns: xmlns, HealthCheck: healthCheckOut(hc)}, nil
}

func (h *Handler) listHealthChecks(account string, q map[string][]string) (any, error) {
	n, err := maxItems(q, 100)
	if err != nil {
		return nil, err
	}
	out := &listHealthChecksResponse{Xmlns: xmlns}
	out.HealthChecks, out.markerPage = pageByMarker(h.cfg.Registry.HealthChecks(account), first(q, "marker"), n,
		func(hc *registry.HealthCheck) string { return hc.ID },
		func(*registry.HealthCheck) bool { return true },
		healthCheckOut)
	return out, nil
}

// getHealthCheckStatus reports the one checker cairn has, with the status
// it settled on.
func (h *Handler) getHealthCheckStatus(account, id string) (any, error) {
	hc, ok := h.healthCheck(account, id)
	if !ok {
		return nil, noSuchHealthCheck(id)
	}
	status := "Success: the endpoint is healthy"
	if hc.Instance.Health == "UNHEALTHY" {
		status = "Failure: the endpoint is unhealthy"
	}
	return &getHealthCheckStatusResponse{Xmlns: xmlns, Observations: []observation{{
		Region: SigningRegion, IPAddress: "127.0.0.1", StatusReport: statusReport{Status: status}}}}, nil
}
