// Package admin is cairn's admin listener: Prometheus metrics at
// /metrics, Go's profiles at /debug/pprof/, and the web console at /.
//
// # Basics
//
// Handler puts the three behind one http.Handler. With a token, every
// request must carry it, as "Authorization: Bearer <token>", or as the
// cookie a browser gets by opening any page once with ?token=<token>
// (then redirected to the same page without it).
//
// # Caveats
//
// Profiles reveal the program's internals and cost CPU while they run:
// the server refuses to put the admin listener beyond loopback without a
// token.
package admin

import (
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"
)

// CookieName is the cookie that carries the token in a browser.
const CookieName = "cairn_admin_token"

// Config configures the admin handler.
type Config struct {
	// Metrics serves /metrics; nil leaves it out.
	Metrics http.Handler
	// Console serves every other path; nil leaves it out.
	Console http.Handler
	// Token, when not empty, must come with every request.
	Token string
}

// Handler returns the admin handler.
func Handler(cfg Config) http.Handler {
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	// Registered here rather than through net/http/pprof's init, which
	// registers them on http.DefaultServeMux, never served by cairn.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if cfg.Console != nil {
		mux.Handle("/", cfg.Console)
	}
	if cfg.Token == "" {
		return mux
	}
	return &guard{next: mux, token: []byte(cfg.Token)}
}

// guard lets through the requests that carry the token.
type guard struct {
	next  http.Handler
	token []byte
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && g.match(bearer) {
		g.next.ServeHTTP(w, r)
		return
	}
	if c, err := r.Cookie(CookieName); err == nil && g.match(c.Value) {
		g.next.ServeHTTP(w, r)
		return
	}
	if t := r.URL.Query().Get("token"); t != "" && g.match(t) && r.Method == http.MethodGet {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: t, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q := r.URL.Query()
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="cairn admin"`)
	http.Error(w, "unauthorized: send the admin token as Authorization: Bearer <token> (see --admin-token-file)", http.StatusUnauthorized)
}

func (g *guard) match(s string) bool {
	return subtle.ConstantTimeCompare([]byte(s), g.token) == 1
}
