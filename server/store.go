package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/etcd"
)

// openRegistry opens the store (unless Config.Store gave one) and loads
// the registry from it; on failure it closes what it opened.
func (s *Server) openRegistry() error {
	cfg, log := s.cfg, s.log
	if s.st == nil {
		st, err := openStore(cfg, log, s.commitObserver())
		if err != nil {
			return err
		}
		s.st, s.ownStore = st, true
	}
	started := time.Now()
	var viewObs registry.Observer
	if s.metrics != nil {
		viewObs = s.metrics.View()
	}
	reg, err := registry.New(context.Background(), s.st, registry.Config{
		OperationDelay: cfg.OperationDelay, OperationRetention: cfg.OperationRetention, MaxOperationsPerAccount: cfg.MaxOperationsPerAccount,
		CustomHealthDelay: cfg.CustomHealthDelay, Limits: cfg.Limits, Logger: log, Observer: viewObs,
		DNSListenerVPCs: cfg.dnsVPCIDs(),
		// s.probes is set once the listeners are known, before the API
		// serves.
		ProbeAllowed: func(a netip.AddrPort) error { return s.probes.Check(a) },
	})
	if err != nil {
		s.closeStore()
		return fmt.Errorf("server: load the registry: %w", err)
	}
	s.reg = reg
	log.Info("state loaded", "took", time.Since(started).Round(time.Millisecond))
	return nil
}

// openStore opens the store that cfg names.
func openStore(cfg Config, log *slog.Logger, obs store.CommitObserver) (store.Store, error) {
	if cfg.StoreKind == StoreEtcd {
		e := cfg.Etcd
		st, err := etcd.Open(context.Background(), etcd.Options{
			Endpoints: e.Endpoints, CAFile: e.CAFile, CertFile: e.CertFile, KeyFile: e.KeyFile,
			Username: e.Username, Password: e.Password, Prefix: e.Prefix,
			DialTimeout: e.DialTimeout, RequestTimeout: e.RequestTimeout, MaxTxnOps: e.MaxTxnOps, Logger: log, Observer: obs,
		})
		if err != nil {
			return nil, fmt.Errorf("server: open the etcd store: %w", err)
		}
		return st, nil
	}
	opts := bolt.DefaultOptions()
	opts.Observer = obs
	st, err := bolt.Open(cfg.DataDir, opts)
	if err != nil {
		return nil, fmt.Errorf("server: open the store in %s: %w", cfg.DataDir, err)
	}
	return st, nil
}

// commitObserver is the observer of the store's commits, or nil without
// metrics.
func (s *Server) commitObserver() store.CommitObserver {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.Store()
}

func (s *Server) closeStore() error {
	if !s.ownStore {
		return nil
	}
	if err := s.st.Close(); err != nil {
		return fmt.Errorf("server: close the store: %w", err)
	}
	return nil
}

// monitorStore pings etcd every second, logs when it becomes unreachable
// and when it answers again, and keeps the state for /healthz.
func (s *Server) monitorStore(ctx context.Context, es *etcd.Store) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		err := es.Ping(ctx)
		if ctx.Err() != nil {
			return
		}
		was := s.storeErr.Swap(&storeStatus{err: err})
		switch {
		case err != nil && (was == nil || was.err == nil):
			s.log.Error("etcd is unreachable: serving reads and DNS from the last state seen; writes are refused with ServiceUnavailable until it answers", "err", err)
		case err == nil && was != nil && was.err != nil:
			s.log.Info("etcd answers again: writes are accepted")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type storeStatus struct{ err error }

// degraded describes why the server serves only reads, or "" when it
// serves everything.
func (s *Server) degraded() string {
	if st := s.storeErr.Load(); st != nil && st.err != nil {
		return "etcd unreachable: reads and DNS are served from the last state seen, writes are refused: " + st.err.Error()
	}
	return ""
}
