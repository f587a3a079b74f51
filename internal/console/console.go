// Package console is cairn's read-only web console: the accounts and
// regions, namespaces, services and instances a server holds, with each
// instance's attributes and current health, the last result of its health
// check, the records DNS answers for a service now, and the asynchronous
// operations. It is served on the admin listener.
//
// # Basics
//
// Pages are rendered on the server with html/template from the registry's
// snapshot; the stylesheet and a small script are embedded static files
// (no front-end build step). The script refreshes the page's main content
// every second by asking for the same URL with the header
// X-Cairn-Fragment: 1, which returns just that content; without
// JavaScript the pages work, without live updates.
//
// # Caveats
//
// Read-only: nothing on a page changes state. Every page is built from a
// snapshot of the whole registry (only the instances it shows are
// copied); with millions of instances a page costs milliseconds.
package console

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/registry"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// FragmentHeader is the request header that asks for a page's main
// content alone, as the live refresh does.
const FragmentHeader = "X-Cairn-Fragment"

// RefreshInterval is how often the page's script refreshes it.
const RefreshInterval = time.Second

// Config configures the console.
type Config struct {
	// Registry is what the console shows.
	Registry *registry.Registry
	// DNS answers the console's DNS queries, to show what DNS answers
	// for each service; nil hides the DNS records.
	DNS *dns.Handler
	// LastProbe returns the last result of the health check of the
	// instance with key "<service-id>/<instance-id>"; nil shows none.
	LastProbe func(key string) (health.Probe, bool)
	// APIEndpoint is the Cloud Map API's URL, for the empty state's
	// instructions.
	APIEndpoint string
	// Logger receives template errors; nil discards them.
	Logger *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg   Config
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the console.
func New(cfg Config) *Console {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	funcs := template.FuncMap{"ago": ago, "lower": strings.ToLower, "short": short, "add": func(a, b int) int { return a + b }}
	for _, page := range []string{"overview", "namespace", "service", "operations", "search", "notfound"} {
		c.pages[page] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+page+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /{$}", c.overview)
	c.mux.HandleFunc("GET /namespaces/{id}", c.namespace)
	c.mux.HandleFunc("GET /services/{id}", c.service)
	c.mux.HandleFunc("GET /operations", c.operations)
	c.mux.HandleFunc("GET /search", c.search)
	c.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		c.render(w, r, "notfound", page{Title: "Not found"})
	})
	return c
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// page is what every template gets.
type page struct {
	Title    string
	Nav      string // overview, operations or search
	Query    string
	Endpoint string
	Rev      int64
	Now      time.Time
	Data     any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	p.Endpoint = c.cfg.APIEndpoint
	p.Now = time.Now()
	tmpl := c.pages[name]
	block := "layout.html"
	if r.Header.Get(FragmentHeader) != "" {
		block = "main"
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, block, p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	_, _ = w.Write(buf.Bytes())
}

// scopeSummary is one account and region on the overview.
type scopeSummary struct {
	Account, Region string
	Namespaces      []registry.NamespaceInfo
	Services        int
	Instances       int
	Unhealthy       int
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	snap := c.cfg.Registry.Snapshot(nil)
	var scopes []*scopeSummary
	for _, ns := range snap.Namespaces {
		if len(scopes) == 0 || scopes[len(scopes)-1].Account != ns.Account || scopes[len(scopes)-1].Region != ns.Region {
			scopes = append(scopes, &scopeSummary{Account: ns.Account, Region: ns.Region})
		}
		s := scopes[len(scopes)-1]
		s.Namespaces = append(s.Namespaces, ns)
		s.Services += len(ns.Services)
		for _, svc := range ns.Services {
			s.Instances += svc.InstanceCount
			s.Unhealthy += svc.Unhealthy
		}
	}
	c.render(w, r, "overview", page{Title: "Overview", Nav: "overview", Rev: snap.Rev, Data: scopes})
}

func (c *Console) namespace(w http.ResponseWriter, r *http.Request) {
	snap := c.cfg.Registry.Snapshot(nil)
	id := r.PathValue("id")
	for _, ns := range snap.Namespaces {
		if ns.ID == id {
			c.render(w, r, "namespace", page{Title: ns.Name, Nav: "overview", Rev: snap.Rev, Data: ns})
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	c.render(w, r, "notfound", page{Title: "Not found", Data: "namespace " + id})
}

// serviceView is a service's page.
type serviceView struct {
	Namespace registry.NamespaceInfo
	Service   registry.ServiceInfo
	Instances []instanceView
	// DNSName is the service's name in DNS; DNS lists what DNS answers
	// for it now, one query per record type.
	DNSName string
	DNS     []digAnswer
}

type instanceView struct {
	registry.InstanceInfo
	Probe    *health.Probe
	Search   string // lower-cased text the search box matches
	Hostname string
}

// digAnswer is one query and its reply, as dig prints them.
type digAnswer struct {
	Query  string
	Status string
	Answer []string
	Extra  []string
}

func (c *Console) service(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	snap := c.cfg.Registry.Snapshot(func(svcID string) bool { return svcID == id })
	for _, ns := range snap.Namespaces {
		for _, svc := range ns.Services {
			if svc.ID != id {
				continue
			}
			v := serviceView{Namespace: ns, Service: svc}
			for _, inst := range svc.Instances {
				iv := instanceView{InstanceInfo: inst}
				if c.cfg.LastProbe != nil && svc.HealthCheck != nil {
					if p, ok := c.cfg.LastProbe(svc.ID + "/" + inst.ID); ok {
						iv.Probe = &p
					}
				}
				v.Instances = append(v.Instances, iv)
			}
			if svc.DNS != nil && c.cfg.DNS != nil {
				v.DNSName = mdns.Fqdn(svc.Name + "." + ns.Name)
				v.DNS = c.dig(v.DNSName, svc.DNS)
			}
			c.render(w, r, "service", page{Title: svc.Name + "." + ns.Name, Nav: "overview", Rev: snap.Rev, Data: v})
			return
		}
	}
	w.WriteHeader(http.StatusNotFound)
	c.render(w, r, "notfound", page{Title: "Not found", Data: "service " + id})
}

// dig asks the DNS handler, as a client would, for each record type of
// the service's DnsConfig.
func (c *Console) dig(name string, cfg *cloudmap.DnsConfig) []digAnswer {
	var out []digAnswer
	for _, rec := range cfg.DnsRecords {
		qtype, ok := mdns.StringToType[rec.Type]
		if !ok {
			continue
		}
		req := new(mdns.Msg)
		req.SetQuestion(name, qtype)
		reply := c.cfg.DNS.Answer(req, false)
		a := digAnswer{Query: name + " " + rec.Type, Status: mdns.RcodeToString[reply.Rcode]}
		for _, rr := range reply.Answer {
			a.Answer = append(a.Answer, rr.String())
		}
		for _, rr := range reply.Extra {
			if rr.Header().Rrtype != mdns.TypeOPT {
				a.Extra = append(a.Extra, rr.String())
			}
		}
		out = append(out, a)
	}
	return out
}

func (c *Console) operations(w http.ResponseWriter, r *http.Request) {
	snap := c.cfg.Registry.Snapshot(nil)
	c.render(w, r, "operations", page{Title: "Operations", Nav: "operations", Rev: snap.Rev, Data: snap.Operations})
}

// maxResults bounds the matches the search page lists.
const maxResults = 200

// searchResult is one match.
type searchResult struct {
	Kind, Name, ID, Where, Match, Health string
	Link                                 string
}

func (c *Console) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	needle := strings.ToLower(q)
	var results []searchResult
	more := false
	if needle != "" {
		snap := c.cfg.Registry.Snapshot(func(string) bool { return true })
		add := func(res searchResult) bool {
			if len(results) == maxResults {
				more = true
				return false
			}
			results = append(results, res)
			return true
		}
		match := func(s string) bool { return strings.Contains(strings.ToLower(s), needle) }
	scan:
		for _, ns := range snap.Namespaces {
			scope := ns.Account + " · " + ns.Region
			if (match(ns.Name) || match(ns.ID)) && !add(searchResult{Kind: "namespace", Name: ns.Name, ID: ns.ID, Where: scope, Link: "/namespaces/" + ns.ID}) {
				break
			}
			for _, svc := range ns.Services {
				if (match(svc.Name) || match(svc.ID)) && !add(searchResult{Kind: "service", Name: svc.Name, ID: svc.ID, Where: ns.Name + " (" + scope + ")", Link: "/services/" + svc.ID}) {
					break scan
				}
				for _, inst := range svc.Instances {
					m := ""
					if match(inst.ID) {
						m = "ID"
					}
					for _, a := range inst.Attributes {
						if m == "" && match(a.Value) {
							m = a.Key + "=" + a.Value
						}
					}
					if m != "" && !add(searchResult{Kind: "instance", Name: inst.ID, ID: inst.ID, Where: svc.Name + "." + ns.Name + " (" + scope + ")",
						Match: m, Health: inst.Health, Link: "/services/" + svc.ID + "#instance-" + inst.ID}) {
						break scan
					}
				}
			}
		}
	}
	c.render(w, r, "search", page{Title: "Search", Nav: "search", Query: q, Data: struct {
		Results []searchResult
		More    bool
	}{results, more}})
}

// ago says how long before now t was, briefly.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.UTC().Format("2006-01-02")
}

// short rounds a duration for display.
func short(d time.Duration) string {
	return cmp.Or(d.Round(time.Millisecond/10).String(), "0s")
}
