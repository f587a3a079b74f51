package observetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// ScreenshotDirEnv names the folder where TestConsoleInBrowser writes its
// screenshots; by default they go to a temporary folder, named in the
// test's log.
const ScreenshotDirEnv = "CAIRN_SCREENSHOT_DIR"

// browser starts a headless chromium for the test, or skips the test when
// there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CAIRN_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		t.Skip("no chromium found (Debian: apt-get install chromium; or set CAIRN_CHROMIUM): the console's browser test is skipped")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// shots saves screenshots of the page.
type shots struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newShots(t *testing.T, ctx context.Context) *shots {
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return &shots{t: t, ctx: ctx, dir: dir}
}

func (s *shots) take(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// takeView saves what a window of w×h pixels shows (the README's small
// picture, docs/console.png, is one), then restores the window's size.
func (s *shots) takeView(name string, w, h int64) {
	s.t.Helper()
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(w, h)); err != nil {
		s.t.Fatal(err)
	}
	png, err := chromedp.Run(s.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+".png"), png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	if err := chromedp.Do(s.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		s.t.Fatal(err)
	}
}

// eval runs a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// visit loads a page and waits for an element of it.
func visit(t *testing.T, ctx context.Context, url, waitFor string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(waitFor))); err != nil {
		t.Fatalf("load %s and wait for %s: %v", url, waitFor, err)
	}
}

// TestConsoleInBrowser registers instances through the API, and checks in
// a real browser that the console shows them, follows a health change
// within 2 s, answers DNS as dig would, lists operations, searches by
// keyboard, explains the empty state, and fits a phone's screen.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	srv, c := newServer(t)
	base := "http://" + srv.AdminAddr()
	shot := newShots(t, ctx)

	// The empty state says how to register a first instance.
	visit(t, ctx, base+"/", "main h1")
	if text := eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, "Nothing is registered yet") ||
		!strings.Contains(text, "register-instance") || !strings.Contains(text, srv.Endpoint) {
		t.Errorf("empty overview says:\n%s", text)
	}
	shot.take("empty")

	// Register through the API: an HTTP namespace with custom health, a
	// DNS namespace with an A service.
	api := context.Background()
	nsID := httpNamespace(t, c, "shop")
	cart, err := c.CreateService(api, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		register(t, c, *cart.Service.Id, fmt.Sprintf("cart-%d", i), map[string]string{
			"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.0.%d", i), "AWS_INSTANCE_PORT": "8080", "stage": []string{"prod", "prod", "canary"}[i-1]})
	}
	dnsID := dnsNamespace(t, c, "corp.test")
	web, err := c.CreateService(api, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(dnsID),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue, DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}}}})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, *web.Service.Id, "web-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.10"})
	register(t, c, *web.Service.Id, "web-2", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.11"})

	// The overview follows without a reload: the live refresh replaces
	// the empty state.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("main").innerText.includes("5 instances")`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the overview did not come to show the 5 instances: %v", err)
	}
	if text := eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(text, "000000000000") ||
		!strings.Contains(text, "corp.test") || !strings.Contains(text, "5 instances") {
		t.Errorf("overview says:\n%s", text)
	}
	shot.take("overview")

	// Namespace → service, by keyboard-reachable links.
	visit(t, ctx, base+"/namespaces/"+nsID, `tr[data-service="cart"]`)
	shot.take("namespace")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-service="cart"] a`)), chromedp.WaitVisible(chromedp.CSS(`tr[data-instance="cart-1"]`))); err != nil {
		t.Fatalf("follow the service link: %v", err)
	}
	rows := eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-instance]")].map(r => r.dataset.instance + " " + r.dataset.health + " " + r.innerText.replace(/\s+/g, " "))`)
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "cart-1 HEALTHY") || !strings.Contains(rows[2], "stage=canary") || !strings.Contains(rows[0], "AWS_INSTANCE_IPV4=10.0.0.1") {
		t.Fatalf("instance rows: %q", rows)
	}

	// Flip cart-2's custom health: the page shows it within 2 s.
	if _, err := c.UpdateInstanceCustomHealthStatus(api, &sd.UpdateInstanceCustomHealthStatusInput{
		ServiceId: cart.Service.Id, InstanceId: aws.String("cart-2"), Status: types.CustomHealthStatusUnhealthy}); err != nil {
		t.Fatal(err)
	}
	flipped := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('tr[data-instance="cart-2"]').dataset.health === "UNHEALTHY"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second))); err != nil {
		t.Fatalf("the page did not show cart-2 UNHEALTHY within 2s: %v", err)
	}
	t.Logf("the health change showed after %v", time.Since(flipped).Round(time.Millisecond))
	if badge := eval[string](t, ctx, `document.querySelector('tr[data-instance="cart-2"] [data-testid="health"]').innerText`); badge != "UNHEALTHY" {
		t.Errorf("cart-2's badge says %q", badge)
	}
	shot.take("service")
	shot.takeView("service-small", 960, 430)

	// A DNS service shows what DNS answers now, as dig prints it.
	visit(t, ctx, base+"/services/"+*web.Service.Id, `section.dig`)
	dig := eval[string](t, ctx, `document.querySelector("section.dig").innerText`)
	for _, want := range []string{"web.corp.test.\t60\tIN\tA\t192.0.2.10", "web.corp.test.\t60\tIN\tA\t192.0.2.11", "status: NOERROR"} {
		if !strings.Contains(dig, want) {
			t.Errorf("the DNS answer lacks %q:\n%s", want, dig)
		}
	}
	shot.take("dns-service")

	// Operations, with status and targets.
	visit(t, ctx, base+"/operations", `tr[data-operation]`)
	ops := eval[string](t, ctx, `document.querySelector("main").innerText`)
	for _, want := range []string{"REGISTER_INSTANCE", "CREATE_NAMESPACE", "SUCCESS", "INSTANCE", "cart-3"} {
		if !strings.Contains(ops, want) {
			t.Errorf("the operations page lacks %q", want)
		}
	}
	shot.take("operations")

	// Search by keyboard: focus the labelled box, type, press Enter.
	visit(t, ctx, base+"/", `main h1`)
	if label := eval[string](t, ctx, `document.querySelector('label[for="q"]').innerText`); label != "Search" {
		t.Errorf("the search box's label is %q", label)
	}
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), "canary"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-result="instance"]`))); err != nil {
		t.Fatalf("search: %v", err)
	}
	results := eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-result]")].map(r => r.innerText.replace(/\s+/g, " "))`)
	if len(results) != 1 || !strings.Contains(results[0], "cart-3") || !strings.Contains(results[0], "stage=canary") {
		t.Errorf("search results for canary: %q", results)
	}
	shot.take("search")

	// A phone's screen: the service page fits its width.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 740)); err != nil {
		t.Fatal(err)
	}
	visit(t, ctx, base+"/services/"+*cart.Service.Id, `tr[data-instance="cart-1"]`)
	if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`); over {
		t.Errorf("the service page is wider than a 375 px screen (%v px)", eval[float64](t, ctx, `document.documentElement.scrollWidth`))
	}
	shot.take("service-narrow")
}
