package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/metrics"
	"github.com/cairn-dev/cairn/internal/route53"
	"github.com/cairn-dev/cairn/internal/sigv4"
)

// loadSecrets reads the credentials file and the admin token, and makes
// the SigV4 verifiers (and the metrics, with the admin listener).
func (s *Server) loadSecrets() (creds sigv4.Credentials, adminToken string, err error) {
	cfg := s.cfg
	if cfg.Credentials != "" {
		if creds, err = sigv4.LoadCredentials(cfg.Credentials); err != nil {
			return nil, "", fmt.Errorf("server: %w", err)
		}
	}
	s.auth = sigv4.NewAuth(api.SigningName, cfg.Region, cfg.AccountID, creds)
	s.r53Auth = sigv4.NewAuth(route53.SigningName, route53.SigningRegion, cfg.AccountID, creds)
	if cfg.AdminAddr != "" {
		if cfg.AdminTokenFile != "" {
			if adminToken, err = readToken(cfg.AdminTokenFile); err != nil {
				return nil, "", err
			}
		}
		s.metrics = metrics.New()
	}
	s.auth.SetRegions(cfg.Regions)
	return creds, adminToken, nil
}

// readToken reads the admin token file: its content without surrounding
// white space, which must not be empty.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("server: read the admin token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("server: the admin token file %s is empty; put a long random token in it", path)
	}
	if strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("server: the admin token in %s holds white space; use one line of printable characters", path)
	}
	return t, nil
}

// loadCert reads the TLS certificate and key; on error the certificate in
// use stays.
func (s *Server) loadCert() error {
	c, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return fmt.Errorf("server: TLS certificate %s and key %s: %w", s.cfg.TLSCert, s.cfg.TLSKey, err)
	}
	s.cert.Store(&c)
	return nil
}

// ReloadTLS reads the TLS certificate and key again and, if they are
// valid, serves every later connection with them; on error the ones in
// use stay.
func (s *Server) ReloadTLS() error {
	if s.cfg.TLSCert == "" {
		return errors.New("server: no TLS certificate to reload")
	}
	if err := s.loadCert(); err != nil {
		return err
	}
	s.log.Info("TLS certificate reloaded", "cert", s.cfg.TLSCert)
	return nil
}

// ReloadCredentials reads the credentials file again and, if it is valid,
// uses it for every later request; on error the identities in use stay.
func (s *Server) ReloadCredentials() error {
	if s.cfg.Credentials == "" {
		return errors.New("server: no credentials file to reload (development mode)")
	}
	creds, err := sigv4.LoadCredentials(s.cfg.Credentials)
	if err != nil {
		return fmt.Errorf("server: reload: %w", err)
	}
	s.auth.SetCredentials(creds)
	s.r53Auth.SetCredentials(creds)
	s.log.Info("credentials reloaded", "credentials", s.cfg.Credentials, "identities", len(creds))
	return nil
}
