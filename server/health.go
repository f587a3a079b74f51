package server

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/cluster"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/store/etcd"
)

// startHealth starts the health checker. With the etcd store it first
// joins the servers sharing it, which split the checks among them, and
// starts watching etcd's reachability.
func (s *Server) startHealth() error {
	cfg := s.cfg
	ctx, stop := context.WithCancel(context.Background())
	var src health.Source = s.reg
	var owns func(string) bool
	if es, ok := s.st.(*etcd.Store); ok {
		// Several servers share this store: each health check is run by
		// one live server, and moves when membership changes.
		m, err := cluster.Join(ctx, es.Client(), es.Prefix(), cluster.Config{ID: cfg.MemberID, TTL: cfg.MemberTTL, Logger: s.log})
		if err != nil {
			stop()
			return fmt.Errorf("server: join the servers sharing etcd: %w", err)
		}
		s.members = m
		src, owns = cluster.Source(ctx, s.reg, m), m.Owns
		s.monitoring = make(chan struct{})
		go func() {
			defer close(s.monitoring)
			s.monitorStore(ctx, es)
		}()
	}
	var healthObs health.Observer
	if s.metrics != nil {
		healthObs = s.metrics.Health()
	}
	s.checker = health.New(src, health.Config{Interval: cfg.HealthInterval, Concurrency: cfg.HealthConcurrency,
		Timeouts: cfg.HealthTimeouts, Logger: s.log, Owns: owns, Observer: healthObs, Policy: s.probes})
	s.stop, s.checking = stop, make(chan struct{})
	go func() {
		defer close(s.checking)
		s.checker.Run(ctx)
	}()
	return nil
}

// stopHealth stops what startHealth started, and waits for it to end.
func (s *Server) stopHealth() {
	s.stop()
	<-s.checking
	if s.monitoring != nil {
		<-s.monitoring
	}
	if s.members != nil {
		s.members.Close()
	}
}
