package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cairn-dev/cairn/internal/api"
)

// accountList is a repeatable --account flag that also takes commas.
type accountList []string

func (a *accountList) String() string { return strings.Join(*a, ",") }
func (a *accountList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*a = append(*a, s)
		}
	}
	return nil
}

// shareCommand runs `cairn share`, `cairn unshare` or `cairn shares`: it
// calls a running cairn's sharing operations, signed with the caller's AWS
// credentials (environment, shared files or --profile), which must be the
// namespace owner's.
func shareCommand(cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := newAdminFlags(cmd, getenv, stderr)
	namespace := a.fs.String("namespace", "", "the namespace's ID or ARN")
	var accounts accountList
	if cmd != "shares" {
		a.fs.Var(&accounts, "account", "a 12-digit account ID to "+cmd+" with; repeat or separate with commas")
	}
	usage := "Usage: cairn " + cmd + " --namespace ID-or-ARN"
	if cmd != "shares" {
		usage += " --account 111111111111 [--account …]"
	}
	usage += " [flags]\n\nSigned with your AWS credentials, which must be the namespace owner's.\n\n"
	if code, ok := a.parse(args, usage); !ok {
		return code
	}
	if *namespace == "" || (cmd != "shares" && len(accounts) == 0) {
		a.fs.Usage()
		return 2
	}
	target := map[string]string{"share": "ShareNamespace", "unshare": "UnshareNamespace", "shares": "ListNamespaceShares"}[cmd]
	body, _ := json.Marshal(map[string]any{"NamespaceId": *namespace, "Accounts": accounts})
	if cmd == "shares" {
		body, _ = json.Marshal(map[string]any{"NamespaceId": *namespace})
	}
	out, err := a.call(target, body)
	if err != nil {
		fmt.Fprintf(stderr, "cairn %s: %v\n", cmd, err)
		return 1
	}
	switch cmd {
	case "shares":
		var res api.SharesResponse
		if err := json.Unmarshal(out, &res); err != nil {
			fmt.Fprintf(stderr, "cairn shares: unexpected answer %s\n", out)
			return 1
		}
		for _, a := range res.Accounts {
			fmt.Fprintln(stdout, a)
		}
	default:
		fmt.Fprintf(stdout, "%sd %s with %s\n", cmd, *namespace, strings.Join(accounts, ", "))
	}
	return 0
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// signedCall sends one SigV4-signed call to cairn and returns the body of
// a 200 answer, or an error with the AWS error it got.
func signedCall(ctx context.Context, endpoint, region, profile, target string, body []byte) ([]byte, error) {
	opts := []func(*config.LoadOptions) error{config.WithRegion(region)}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS credentials: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("no AWS credentials to sign with (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --profile): %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), api.SigningName, region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"Message"`
			Lower   string `json:"message"`
		}
		_ = json.Unmarshal(out, &e)
		if e.Message == "" {
			e.Message = e.Lower
		}
		return nil, fmt.Errorf("%s: %s (HTTP %d)", e.Type, e.Message, resp.StatusCode)
	}
	return out, nil
}
