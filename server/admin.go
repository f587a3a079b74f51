package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cairn-dev/cairn/internal/admin"
	"github.com/cairn-dev/cairn/internal/console"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/metrics"
	"github.com/cairn-dev/cairn/internal/registry"
)

// serveAdmin starts the admin listener: metrics, profiles and the console.
func (s *Server) serveAdmin(reg *registry.Registry, dnsCfg dns.HandlerConfig, token string) error {
	m := s.metrics
	m.WatchRegistry(reg)
	m.WatchHealth(s.checker.Stats)
	if s.members != nil {
		members := s.members
		m.WatchCluster(func() int { return len(members.Live()) })
	}
	ln, err := net.Listen("tcp", s.cfg.AdminAddr)
	if err != nil {
		return fmt.Errorf("server: listen for the admin listener on %s: %w", s.cfg.AdminAddr, err)
	}
	dnsCfg.Observer, dnsCfg.QueryLog = nil, nil // the console's own queries are not traffic
	con := console.New(console.Config{Registry: reg, DNS: dns.NewHandlerConfig(reg, dnsCfg), LastProbe: s.checker.LastProbe,
		APIEndpoint: s.Endpoint(), Logger: s.log})
	s.adminLn = ln
	s.admin = &http.Server{
		Handler:           admin.Handler(admin.Config{Metrics: m.Handler(), Console: con, Token: token}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() { _ = s.admin.Serve(ln) }()
	s.log.Info("serving the admin listener", "addr", ln.Addr().String(), "token", token != "")
	return nil
}

// AdminAddr is the address of the admin listener, or "" when it is off.
func (s *Server) AdminAddr() string {
	if s.adminLn == nil {
		return ""
	}
	return s.adminLn.Addr().String()
}

// Metrics are the server's metrics, or nil when the admin listener is
// off.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }
