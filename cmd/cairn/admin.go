package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/statefile"
)

// adminFlags are the flags every command that calls a running cairn's
// signed admin operations shares.
type adminFlags struct {
	fs                        *flag.FlagSet
	endpoint, region, profile *string
}

func newAdminFlags(cmd string, getenv func(string) string, stderr io.Writer) *adminFlags {
	fs := flag.NewFlagSet("cairn "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &adminFlags{
		fs:       fs,
		endpoint: fs.String("endpoint", envOr(getenv, "CAIRN_ENDPOINT", "http://127.0.0.1:9080"), "cairn's API endpoint (env CAIRN_ENDPOINT)"),
		region:   fs.String("region", envOr(getenv, "AWS_REGION", envOr(getenv, "AWS_DEFAULT_REGION", "us-east-1")), "the region the call is signed for (env AWS_REGION)"),
		profile:  fs.String("profile", getenv("AWS_PROFILE"), "the AWS profile whose credentials sign the call (env AWS_PROFILE)"),
	}
}

// parse parses args; ok is false when the command should end with code.
func (a *adminFlags) parse(args []string, usage string) (code int, ok bool) {
	a.fs.Usage = func() {
		fmt.Fprint(a.fs.Output(), usage)
		a.fs.PrintDefaults()
	}
	if code, ok := parseArgs(a.fs, args); !ok {
		return code, false
	}
	if a.fs.NArg() > 0 {
		fmt.Fprintf(a.fs.Output(), "%s: unexpected argument %q\n", a.fs.Name(), a.fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// call sends one signed admin operation and returns the answer's body.
func (a *adminFlags) call(op string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return signedCall(ctx, *a.endpoint, *a.region, *a.profile, api.AdminTargetPrefix+op, body)
}

// resetCommand runs `cairn reset`: the running cairn forgets everything of
// the caller's account in every region (in development mode, everything).
func resetCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := newAdminFlags("reset", getenv, stderr)
	if code, ok := a.parse(args, "Usage: cairn reset [--endpoint URL]\n\n"+
		"Forgets everything of your account in every region: namespaces, services, instances,\n"+
		"operations, idempotency tokens, health statuses and shares (in development mode,\n"+
		"everything). Signed with your AWS credentials.\n\n"); !ok {
		return code
	}
	if _, err := a.call("Reset", []byte("{}")); err != nil {
		fmt.Fprintf(stderr, "cairn reset: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "reset %s\n", *a.endpoint)
	return 0
}

// exportCommand runs `cairn export`: it writes the caller's account's
// namespaces, services and instances, every region, as JSON.
func exportCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := newAdminFlags("export", getenv, stderr)
	if code, ok := a.parse(args, "Usage: cairn export [--endpoint URL] > state.json\n\n"+
		"Writes your account's namespaces, services and instances (every region, with tags,\n"+
		"attributes and custom health statuses) as JSON, for cairn import and cairn serve --init.\n\n"); !ok {
		return code
	}
	out, err := a.call("Export", []byte("{}"))
	if err != nil {
		fmt.Fprintf(stderr, "cairn export: %v\n", err)
		return 1
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		fmt.Fprintf(stderr, "cairn export: unexpected answer %s\n", out)
		return 1
	}
	pretty.WriteByte('\n')
	_, _ = stdout.Write(pretty.Bytes())
	return 0
}

// importCommand runs `cairn import FILE`: the running cairn creates what
// the state file describes in the caller's account, unless it exists.
func importCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := newAdminFlags("import", getenv, stderr)
	usage := "Usage: cairn import [--endpoint URL] FILE\n\n" +
		"Creates, in your account, the namespaces, services and instances a state file (JSON or YAML,\n" +
		"the format of cairn export) describes; what exists already is left as it is.\n\n"
	a.fs.Usage = func() { fmt.Fprint(stderr, usage); a.fs.PrintDefaults() }
	if code, ok := parseArgs(a.fs, args); !ok {
		return code
	}
	if a.fs.NArg() != 1 {
		a.fs.Usage()
		return 2
	}
	st, err := statefile.Read(a.fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "cairn import: %v\n", err)
		return 1
	}
	body, _ := json.Marshal(st)
	if _, err := a.call("Import", body); err != nil {
		fmt.Fprintf(stderr, "cairn import: %s\n", importFailure(a.fs.Arg(0), st, err))
		return 1
	}
	fmt.Fprintf(stdout, "imported %s: %d namespaces\n", a.fs.Arg(0), len(st.Namespaces))
	return 0
}

// importPath finds the element path the server puts first in an import
// error's message: "[Namespaces[0].Services[1]] service …".
var importPath = regexp.MustCompile(`\[Namespaces\[(\d+)\](?:\.Services\[(\d+)\](?:\.Instances\[(\d+)\])?)?\] `)

// importFailure says why the server refused an import of file, starting
// with the file's line and column of the element at fault when the server
// named it, as serve --init does.
func importFailure(file string, st *registry.State, err error) string {
	msg := err.Error()
	m := importPath.FindStringSubmatchIndex(msg)
	if m == nil {
		return file + ": " + msg
	}
	index := func(g int) int {
		if m[2*g] < 0 {
			return -1
		}
		n, _ := strconv.Atoi(msg[m[2*g]:m[2*g+1]])
		return n
	}
	pos := ""
	if i := index(1); i < len(st.Namespaces) {
		ns := &st.Namespaces[i]
		pos = ns.Pos
		if j := index(2); j >= 0 && j < len(ns.Services) {
			svc := &ns.Services[j]
			pos = svc.Pos
			if k := index(3); k >= 0 && k < len(svc.Instances) {
				pos = svc.Instances[k].Pos
			}
		}
	}
	msg = msg[:m[0]] + msg[m[1]:]
	if pos == "" {
		return file + ": " + msg
	}
	return pos + ": " + msg
}

// faultCommand runs `cairn fault add|list|clear`: faults injected into a
// running cairn for the caller's account.
func faultCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const usage = "Usage:\n" +
		"  cairn fault add --operation OP [--error CODE] [--latency D] [--probability P] [--count N] [--service ID] [--namespace ID]\n" +
		"  cairn fault add --dns-name NAME --dns SERVFAIL|NOANSWER|DELAY [--latency D] [--probability P] [--count N]\n" +
		"  cairn fault add --health HEALTHY|UNHEALTHY --service ID --instance ID --duration D\n" +
		"  cairn fault list\n" +
		"  cairn fault clear [--id ID]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sub := args[0]
	a := newAdminFlags("fault "+sub, getenv, stderr)
	var req faultRequest
	switch sub {
	case "add":
		req.addFlags(a.fs)
	case "clear":
		a.fs.StringVar(&req.id, "id", "", "the fault to remove (default: every fault of your account)")
	case "list":
	default:
		fmt.Fprint(stderr, usage)
		return 2
	}
	if code, ok := a.parse(args[1:], usage+"\nSigned with your AWS credentials; faults affect your account's requests.\n\n"); !ok {
		return code
	}
	op, body := req.operation(sub)
	out, err := a.call(op, body)
	if err != nil {
		fmt.Fprintf(stderr, "cairn fault %s: %v\n", sub, err)
		return 1
	}
	req.print(stdout, op, out)
	return 0
}

// faultSpec is the input of AddFault, as cairn fault add's flags give it.
type faultSpec struct {
	Operation, Error, Latency, ServiceId, NamespaceId, DNSName, DNS string
	Probability                                                     float64
	Count                                                           int
}

// faultRequest is what the flags of one cairn fault command ask.
type faultRequest struct {
	add    faultSpec
	health api.ForceHealthRequest
	id     string // the fault cairn fault clear removes
}

// addFlags adds the flags of cairn fault add: a fault of the API or of
// DNS, or a forced health status.
func (r *faultRequest) addFlags(fs *flag.FlagSet) {
	in, f := &r.add, &r.health
	fs.StringVar(&in.Operation, "operation", "", "the Cloud Map operation, such as DiscoverInstances")
	fs.StringVar(&in.Error, "error", "", "the error it answers: one of its modeled errors, or ThrottlingException, ServiceUnavailable, InternalFailure")
	fs.StringVar(&in.Latency, "latency", "", "latency added before the answer, such as 250ms")
	fs.Float64Var(&in.Probability, "probability", 0, "chance the fault fires on a matching request, 0 < P ≤ 1 (default 1)")
	fs.IntVar(&in.Count, "count", 0, "times it fires before it ends (default: until cleared)")
	fs.StringVar(&in.ServiceId, "service", "", "only requests naming this service ID (with --health: the instance's service)")
	fs.StringVar(&in.NamespaceId, "namespace", "", "only requests naming this namespace ID")
	fs.StringVar(&in.DNSName, "dns-name", "", "a DNS fault: the name (and the names under it) it affects")
	fs.StringVar(&in.DNS, "dns", "", "the DNS fault: SERVFAIL, NOANSWER (no reply) or DELAY (with --latency)")
	fs.StringVar(&f.Status, "health", "", "force an instance's health status: HEALTHY or UNHEALTHY (with --service, --instance, --duration)")
	fs.StringVar(&f.InstanceId, "instance", "", "the instance whose health --health forces")
	fs.StringVar(&f.Duration, "duration", "", "how long --health forces the status, such as 30s")
}

// operation is the admin operation the subcommand sub calls, and its body.
func (r *faultRequest) operation(sub string) (op string, body []byte) {
	switch {
	case sub == "add" && r.health.Status != "":
		r.health.ServiceId = r.add.ServiceId
		return "ForceHealth", mustJSON(r.health)
	case sub == "add":
		return "AddFault", mustJSON(r.add)
	case sub == "list":
		return "ListFaults", []byte("{}")
	}
	return "ClearFaults", mustJSON(map[string]string{"Id": r.id})
}

// print writes what the operation op answered (out) for a person.
func (r *faultRequest) print(stdout io.Writer, op string, out []byte) {
	switch op {
	case "AddFault":
		var res api.AddFaultResponse
		_ = json.Unmarshal(out, &res)
		fmt.Fprintln(stdout, res.Id)
	case "ForceHealth":
		f := r.health
		fmt.Fprintf(stdout, "%s of %s is %s for %s\n", f.InstanceId, f.ServiceId, f.Status, f.Duration)
	case "ListFaults":
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, out, "", "  ")
		pretty.WriteByte('\n')
		_, _ = stdout.Write(pretty.Bytes())
	default:
		var res api.ClearFaultsResponse
		_ = json.Unmarshal(out, &res)
		fmt.Fprintf(stdout, "cleared %d faults\n", res.Cleared)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// healthcheckCommand runs `cairn healthcheck`: it exits 0 when the cairn
// at the endpoint answers GET /healthz with "ok", 1 otherwise (a
// container's HEALTHCHECK).
func healthcheckCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cairn healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", envOr(getenv, "CAIRN_ENDPOINT", "http://127.0.0.1:9080"), "cairn's API endpoint (env CAIRN_ENDPOINT)")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: cairn healthcheck [--endpoint URL]\n\nExits 0 when GET /healthz answers ok, 1 otherwise.\n\n")
		fs.PrintDefaults()
	}
	if code, ok := parseArgs(fs, args); !ok {
		return code
	}
	client := &http.Client{Timeout: *timeout}
	resp, err := client.Get(strings.TrimSuffix(*endpoint, "/") + "/healthz")
	if err != nil {
		fmt.Fprintf(stderr, "cairn healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK || answer != "ok" {
		fmt.Fprintf(stderr, "cairn healthcheck: %s/healthz: HTTP %d %s\n", *endpoint, resp.StatusCode, answer)
		return 1
	}
	fmt.Fprintln(stdout, answer)
	return 0
}
