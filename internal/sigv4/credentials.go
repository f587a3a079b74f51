package sigv4

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairn-dev/cairn/internal/policy"
)

// Credentials are the identities allowed to sign, by access key ID.
type Credentials map[string]Identity

// LoadCredentials reads a credentials file (see ParseCredentials) and the
// policy file each profile names with policy_file, relative to the
// credentials file's folder. A policy file that can't be used fails the
// whole load, with the profile, the policy file, its line and what is
// wrong.
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer f.Close()
	creds, err := ParseCredentials(f, path)
	if err != nil {
		return nil, err
	}
	// Profiles may share a policy file: each is compiled once.
	loaded := map[string]*policy.Policy{}
	for key, id := range creds {
		if id.PolicyFile == "" {
			continue
		}
		p := id.PolicyFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		pol, ok := loaded[p]
		if !ok {
			if pol, err = policy.ParseFile(p); err != nil {
				return nil, fmt.Errorf("credentials: %s: profile %q: %w", path, id.Profile, err)
			}
			loaded[p] = pol
		}
		id.Policy = pol
		creds[key] = id
	}
	return creds, nil
}

// ParseCredentials reads the AWS shared-credentials format, one profile per
// identity:
//
//	[team-a]
//	aws_access_key_id = AKIA…
//	aws_secret_access_key = …
//	aws_account_id = 111111111111
//	aws_session_token = …   (optional)
//	policy_file = team-a.json   (optional; see LoadCredentials)
//
// Blank lines and lines starting with # or ; are comments; other keys are
// ignored. An error names the file and the line at fault.
func ParseCredentials(r io.Reader, name string) (Credentials, error) {
	type section struct {
		name string
		line int
		vals map[string]string
	}
	var sections []*section
	var cur *section
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("credentials: %s line %d: a section header must look like [profile-name]", name, n)
			}
			p := strings.TrimSpace(strings.TrimPrefix(line[1:len(line)-1], "profile "))
			for _, s := range sections {
				if s.name == p {
					return nil, fmt.Errorf("credentials: %s line %d: profile %q appears twice (first at line %d)", name, n, p, s.line)
				}
			}
			cur = &section{name: p, line: n, vals: map[string]string{}}
			sections = append(sections, cur)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("credentials: %s line %d: expected key = value or [profile-name]", name, n)
		}
		if cur == nil {
			return nil, fmt.Errorf("credentials: %s line %d: %q comes before any [profile-name] section", name, n, strings.TrimSpace(k))
		}
		cur.vals[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("credentials: %s: %w", name, err)
	}
	creds := Credentials{}
	for _, s := range sections {
		id := Identity{Profile: s.name, AccessKeyID: s.vals["aws_access_key_id"], SecretAccessKey: s.vals["aws_secret_access_key"],
			AccountID: s.vals["aws_account_id"], SessionToken: s.vals["aws_session_token"], PolicyFile: s.vals["policy_file"]}
		switch {
		case id.AccessKeyID == "":
			return nil, fmt.Errorf("credentials: %s line %d: profile %q has no aws_access_key_id", name, s.line, s.name)
		case id.SecretAccessKey == "":
			return nil, fmt.Errorf("credentials: %s line %d: profile %q has no aws_secret_access_key", name, s.line, s.name)
		case len(id.AccountID) != 12 || !digits(id.AccountID):
			return nil, fmt.Errorf("credentials: %s line %d: profile %q needs aws_account_id of 12 digits, not %q", name, s.line, s.name, id.AccountID)
		case strings.ContainsAny(id.AccessKeyID, "/ ,="):
			return nil, fmt.Errorf("credentials: %s line %d: profile %q has an aws_access_key_id with /, space, comma or =", name, s.line, s.name)
		}
		if prev, dup := creds[id.AccessKeyID]; dup {
			return nil, fmt.Errorf("credentials: %s line %d: profile %q reuses the access key of profile %q", name, s.line, s.name, prev.Profile)
		}
		creds[id.AccessKeyID] = id
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("credentials: %s has no profiles", name)
	}
	return creds, nil
}
