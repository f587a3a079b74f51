package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// writeInputs writes the credentials file and the state file cairn is
// seeded from: namespace bench, service svc, instances with five
// attributes, one in ten stage=canary.
func writeInputs(dir string, n int) error {
	creds := fmt.Sprintf("[bench]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_account_id = %s\n", accessKey, secretKey, accountID)
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		return err
	}
	type inst struct {
		ID         string            `json:"Id"`
		Attributes map[string]string `json:"Attributes"`
	}
	var insts []inst
	for i := range n {
		stage := "prod"
		if i%10 == 0 {
			stage = "canary"
		}
		insts = append(insts, inst{ID: fmt.Sprintf("i-%04d", i), Attributes: map[string]string{
			"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.%d.%d", i/250, i%250+1),
			"AWS_INSTANCE_PORT": "8080",
			"stage":             stage,
			"zone":              fmt.Sprintf("us-east-1%c", 'a'+i%3),
			"version":           "1.4.2",
		}})
	}
	state := map[string]any{"Namespaces": []any{map[string]any{
		"Name": "bench", "Type": "HTTP",
		"Services": []any{map[string]any{"Name": "svc", "Instances": insts}},
	}}}
	b, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600)
}

// cairnBinary builds or finds the cairn binary a -cairn value names.
func cairnBinary(ctx context.Context, dir string, i int, spec string) (string, error) {
	out := filepath.Join(dir, fmt.Sprintf("cairn-%d", i))
	switch {
	case spec == ".":
		return out, gobuild(ctx, ".", out)
	case strings.HasPrefix(spec, "git:"):
		src := filepath.Join(dir, fmt.Sprintf("src-%d", i))
		if err := os.Mkdir(src, 0o700); err != nil {
			return "", err
		}
		sh := fmt.Sprintf("git archive %q | tar -x -C %q", strings.TrimPrefix(spec, "git:"), src)
		if b, err := exec.CommandContext(ctx, "sh", "-c", sh).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v: %s", sh, err, b)
		}
		return out, gobuild(ctx, src, out)
	default:
		return spec, nil
	}
}

func gobuild(ctx context.Context, src, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/cairn")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v: %s", src, err, b)
	}
	return nil
}

// startCairn starts a cairn on free loopback ports, with credentials and
// the seeded service, and waits until it answers.
func startCairn(ctx context.Context, dir string, i int, bin string) (*server, error) {
	data := filepath.Join(dir, fmt.Sprintf("data-%d", i))
	cmd := exec.CommandContext(ctx, bin, "serve",
		"--api-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--dns-addr", "",
		"--credentials", filepath.Join(dir, "credentials"), "--account-id", accountID,
		"--init", filepath.Join(dir, "state.json"), "--data-dir", data,
		"--log-format", "json", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var last string
		for sc.Scan() {
			last = sc.Text()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line.Msg {
			case "serving the Cloud Map API":
				s.addr = line.Addr
			case "serving the admin listener":
				s.admin = line.Addr
			}
			if s.addr != "" && s.admin != "" && found != nil {
				found <- nil
				found = nil
			}
		}
		if found != nil {
			found <- fmt.Errorf("%s exited before serving: %s", bin, last)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case err := <-found:
		if err != nil {
			return nil, err
		}
	case <-time.After(2 * time.Minute):
		return nil, fmt.Errorf("%s did not start within 2 minutes", bin)
	}
	return s, nil
}

// signed returns the DiscoverInstances request to addr, signed now.
func signed(ctx context.Context, addr string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "servicediscovery", region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// fetch sends the signed request once and returns the answer.
func fetch(ctx context.Context, addr string) (int, http.Header, []byte, error) {
	req, err := signed(ctx, addr)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, nil, fmt.Errorf("%s answers %s: %s", addr, resp.Status, b)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// bareServer answers every request with fixed bytes.
type bareServer struct {
	addr string
	srv  *http.Server
}

func (b *bareServer) close() { _ = b.srv.Close() }

// startBare starts a net/http server that reads each request's body and
// answers the status, headers and body cairn answered. net/http writes
// the Date header itself, as cairn's does; the request ID is cairn's,
// of the same length.
func startBare(status int, hdr http.Header, body []byte) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fixed := hdr.Clone()
	fixed.Del("Date")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		h := w.Header()
		for k, v := range fixed {
			h[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &bareServer{addr: ln.Addr().String(), srv: srv}, nil
}
