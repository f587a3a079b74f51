//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// raiseFileLimit raises the soft limit of open files to the hard limit (Go
// does it at start on Linux since 1.19; this makes it explicit everywhere
// and reports it): each API and DNS connection and each health probe holds
// one, and a server at the default 1,024 runs out long before its
// per-client caps help.
func raiseFileLimit(log *slog.Logger) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		log.Warn("open-file limit unknown", "err", err)
		return
	}
	if rl.Cur < rl.Max {
		want := rl
		want.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			log.Warn("open-file limit not raised", "soft", rl.Cur, "hard", rl.Max, "err", err)
			return
		}
		rl = want
	}
	if rl.Cur < 8192 {
		log.Warn("the open-file limit is low for a server: raise the hard limit (ulimit -Hn, LimitNOFILE=)", "limit", rl.Cur)
		return
	}
	log.Debug("open-file limit", "limit", rl.Cur)
}
