package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/netlimit"
	"github.com/cairn-dev/cairn/internal/route53"
)

// listenAPI opens the API's listener, capped per client address and,
// with --tls-cert, serving TLS.
func (s *Server) listenAPI() (net.Listener, error) {
	cfg := s.cfg
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("server: listen for the API on %s: %w", cfg.APIAddr, err)
	}
	s.apiLn = ln
	ln = netlimit.PerClient(ln, cfg.APIMaxConnsPerClient)
	if cfg.TLSCert != "" {
		// Outermost, so that net/http sees *tls.Conn.
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cert.Load(), nil }})
	}
	return ln, nil
}

// serveAPI serves the API on ln until Close; Done receives why it ended.
func (s *Server) serveAPI(ln net.Listener, devMode bool) {
	s.http = &http.Server{
		Handler:           s.apiHandler(devMode),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(ln) }()
}

// apiHandler serves the Cloud Map API, and Route 53's read API under its
// path.
func (s *Server) apiHandler(devMode bool) http.Handler {
	cfg, log := s.cfg, s.log
	nameserver := cfg.DNSNameserver
	if nameserver == "" {
		nameserver = dns.DefaultNameserver
	}
	apiCfg := api.Config{Registry: s.reg, Auth: s.auth, Logger: log, Ready: s.ready.Load, Degraded: s.degraded,
		DevMode: devMode, Throttle: cfg.Throttle, Faults: s.faults, ListOperationsConcurrency: cfg.ListOperationsConcurrency}
	if s.metrics != nil {
		apiCfg.Observer = s.metrics.API()
	}
	if cfg.AccessLog {
		apiCfg.AccessLog = log
	}
	h := api.New(apiCfg)
	if s.metrics != nil {
		s.metrics.WatchWaiting(func() int { return h.Waiting("ListOperations") })
	}
	return routeByPath(h,
		route53.New(route53.Config{Registry: s.reg, Auth: s.r53Auth, Nameserver: nameserver, Logger: log}))
}

// routeByPath sends Route 53's requests (under /2013-04-01/) to r53 and
// everything else to the Cloud Map API, on the same port, as AWS serves
// each at its own endpoint.
func routeByPath(cloudMap, r53 http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, route53.PathPrefix) {
			r53.ServeHTTP(w, req)
			return
		}
		cloudMap.ServeHTTP(w, req)
	})
}
