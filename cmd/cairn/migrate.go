package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/etcd"
	"github.com/cairn-dev/cairn/internal/store/storecopy"
	"github.com/cairn-dev/cairn/server"
)

const migrateUsage = `Usage: cairn migrate --from STORE --to STORE [--force] [flags]

Copies every key of one store into another, with the servers stopped:
  cairn migrate --from bolt:./cairn-data --to etcd:http://10.0.0.1:2379,http://10.0.0.2:2379
  cairn migrate --from etcd:http://127.0.0.1:2379 --to bolt:/var/lib/cairn

A STORE is bolt:DIR (the embedded store's data directory) or
etcd:ENDPOINTS (comma-separated client URLs; --etcd-* set TLS,
authentication and the key prefix). The target must be empty unless
--force is given; with --force it ends equal to the source.

`

// migrate runs `cairn migrate`.
func migrate(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	m, code, ok := migrateFlags(args, getenv, stderr)
	if !ok {
		return code
	}
	ctx := context.Background()
	src, err := openNamed(ctx, m.from, m.etcd)
	if err != nil {
		fmt.Fprintf(stderr, "cairn migrate: --from: %v\n", err)
		return 1
	}
	defer src.Close()
	dst, err := openNamed(ctx, m.to, m.etcd)
	if err != nil {
		fmt.Fprintf(stderr, "cairn migrate: --to: %v\n", err)
		return 1
	}
	defer dst.Close()
	start := time.Now()
	st, err := storecopy.Copy(ctx, dst, src, storecopy.Options{Force: m.force})
	if err != nil {
		if errors.Is(err, storecopy.ErrTargetNotEmpty) {
			fmt.Fprintf(stderr, "cairn migrate: %s is not empty; pass --force to replace what it holds (%v)\n", m.to, err)
		} else {
			fmt.Fprintf(stderr, "cairn migrate: %v\n", err)
		}
		return 1
	}
	// The target's revisions start again from its own: InstancesRevision
	// must not go back, so the target's revision base moves past every
	// value the source could show.
	if err := registry.Rebase(ctx, dst, st.SourceRev); err != nil {
		fmt.Fprintf(stderr, "cairn migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied %d keys (%d bytes of values) from %s to %s in %v", st.Keys, st.Bytes, m.from, m.to, time.Since(start).Round(time.Millisecond))
	if st.Deleted > 0 {
		fmt.Fprintf(stdout, "; deleted %d keys the source lacks", st.Deleted)
	}
	fmt.Fprintln(stdout)
	return 0
}

// migration is what cairn migrate's flags ask: the stores named, and how
// to reach etcd.
type migration struct {
	from, to string
	force    bool
	etcd     etcd.Options
}

// migrateFlags reads the flags of cairn migrate; when they don't make a
// migration (or -h was asked) it has said why on stderr, and returns false
// with the exit code.
func migrateFlags(args []string, getenv func(string) string, stderr io.Writer) (migration, int, bool) {
	var m migration
	var ec server.EtcdConfig
	s := &settings{fs: flag.NewFlagSet("cairn migrate", flag.ContinueOnError), getenv: getenv}
	s.fs.SetOutput(stderr)
	s.fs.Usage = func() {
		fmt.Fprint(stderr, migrateUsage)
		s.fs.PrintDefaults()
	}
	s.fs.StringVar(&m.from, "from", "", "the store to copy: bolt:DIR or etcd:ENDPOINTS")
	s.fs.StringVar(&m.to, "to", "", "the store to copy into: bolt:DIR or etcd:ENDPOINTS")
	s.fs.BoolVar(&m.force, "force", false, "copy into a store that is not empty, replacing what it holds")
	s.etcdConnection(&ec)
	if code, ok := parseArgs(s.fs, args); !ok {
		return m, code, false
	}
	if s.fs.NArg() > 0 || m.from == "" || m.to == "" {
		fmt.Fprint(stderr, "cairn migrate: give --from and --to\n\n")
		s.fs.Usage()
		return m, 2, false
	}
	if _, err := s.settle(); err != nil {
		fmt.Fprintf(stderr, "cairn migrate: %v\n", err)
		return m, 2, false
	}
	if m.from == m.to {
		fmt.Fprintln(stderr, "cairn migrate: --from and --to name the same store")
		return m, 2, false
	}
	m.etcd = etcd.Options{CAFile: ec.CAFile, CertFile: ec.CertFile, KeyFile: ec.KeyFile, Username: ec.Username, Password: ec.Password, Prefix: ec.Prefix}
	return m, 0, true
}

// openNamed opens a store named bolt:DIR or etcd:ENDPOINTS.
func openNamed(ctx context.Context, name string, eo etcd.Options) (store.Store, error) {
	kind, where, ok := strings.Cut(name, ":")
	if !ok || where == "" {
		return nil, fmt.Errorf("%q is not bolt:DIR or etcd:ENDPOINTS", name)
	}
	switch kind {
	case "bolt":
		return bolt.Open(where, bolt.DefaultOptions())
	case "etcd":
		for _, e := range strings.Split(where, ",") {
			if e = strings.TrimSpace(e); e != "" {
				eo.Endpoints = append(eo.Endpoints, e)
			}
		}
		if len(eo.Endpoints) == 0 {
			return nil, fmt.Errorf("%q names no etcd endpoint", name)
		}
		return etcd.Open(ctx, eo)
	}
	return nil, fmt.Errorf("%q: the store kind %q is neither bolt nor etcd", name, kind)
}
