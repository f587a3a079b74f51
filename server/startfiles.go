package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/statefile"
)

// loadStartFiles loads what the server starts with: the faults of
// --faults, the state of --init, the TLS certificate.
func (s *Server) loadStartFiles() error {
	cfg := s.cfg
	s.faults = fault.NewSet()
	if cfg.FaultsFile != "" {
		if err := loadFaults(s.faults, cfg.FaultsFile, cfg.AccountID); err != nil {
			return fmt.Errorf("server: --faults: %w", err)
		}
	}
	if cfg.InitFile != "" {
		if err := s.init(cfg.InitFile); err != nil {
			return err
		}
	}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return errors.New("server: give both --tls-cert and --tls-key, or neither")
		}
		if err := s.loadCert(); err != nil {
			return err
		}
	}
	return nil
}

// init creates what the state file at path describes, unless it exists.
func (s *Server) init(path string) error {
	st, err := statefile.Read(path)
	if err != nil {
		return fmt.Errorf("server: --init: %w", err)
	}
	if err := s.reg.Import(context.Background(), s.cfg.AccountID, s.cfg.Region, st); err != nil {
		var ie *registry.ImportError
		if errors.As(err, &ie) && ie.Pos == "" {
			return fmt.Errorf("server: --init %s: %w", path, err)
		}
		return fmt.Errorf("server: --init: %w", err)
	}
	n := 0
	for _, ns := range st.Namespaces {
		n += len(ns.Services)
	}
	s.log.Info("state file applied", "file", path, "namespaces", len(st.Namespaces), "services", n)
	return nil
}
