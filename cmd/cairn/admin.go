package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
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
	if err := a.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
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
