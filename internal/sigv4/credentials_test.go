package sigv4

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	good := []struct {
		name, file string
		want       Credentials
	}{
		{"two profiles, one with a session token", `
[team-a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key = secret/a+b==
aws_account_id = 111111111111

[team-b]
aws_access_key_id=ASIABBBBBBBBBBBBBBBB
aws_secret_access_key=secret-b
aws_session_token = FwoGZXIvYXdzEJr//////////wEa==
aws_account_id=222222222222
`, Credentials{
			"AKIAAAAAAAAAAAAAAAAA": {AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "secret/a+b==", AccountID: "111111111111", Profile: "team-a"},
			"ASIABBBBBBBBBBBBBBBB": {AccessKeyID: "ASIABBBBBBBBBBBBBBBB", SecretAccessKey: "secret-b", SessionToken: "FwoGZXIvYXdzEJr//////////wEa==", AccountID: "222222222222", Profile: "team-b"},
		}},
		{"[profile x] form, as in ~/.aws/config", `[profile ops]
aws_access_key_id = AKIAOPS
aws_secret_access_key = s
aws_account_id = 333333333333
[ default ]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = d
aws_account_id = 444444444444
`, Credentials{
			"AKIAOPS":     {AccessKeyID: "AKIAOPS", SecretAccessKey: "s", AccountID: "333333333333", Profile: "ops"},
			"AKIADEFAULT": {AccessKeyID: "AKIADEFAULT", SecretAccessKey: "d", AccountID: "444444444444", Profile: "default"},
		}},
		{"comments, blank lines, indentation, CRLF and other keys", "# cairn identities\r\n; another comment\r\n\r\n  [a]  \r\n" +
			"  # indented comment\r\n  aws_access_key_id = AKIAA  \r\n\tAWS_SECRET_ACCESS_KEY = s=with=equals\r\nregion = us-east-1\r\n" +
			"output = json\r\naws_account_id = 555555555555\r\n", Credentials{
			"AKIAA": {AccessKeyID: "AKIAA", SecretAccessKey: "s=with=equals", AccountID: "555555555555", Profile: "a"},
		}},
		{"a later value of a key wins", "[a]\naws_access_key_id = OLD\naws_access_key_id = NEW\naws_secret_access_key = s\naws_account_id = 666666666666\n",
			Credentials{"NEW": {AccessKeyID: "NEW", SecretAccessKey: "s", AccountID: "666666666666", Profile: "a"}}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials(strings.NewReader(tc.file), "creds")
			if err != nil {
				t.Fatalf("ParseCredentials: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}

	const ok = "aws_access_key_id = AKIAOK\naws_secret_access_key = s\naws_account_id = 111111111111\n"
	bad := []struct {
		name, file, msg string
	}{
		{"empty file", "", "creds has no profiles"},
		{"only comments", "# nothing\n; here\n\n", "creds has no profiles"},
		{"missing access key", "[a]\naws_secret_access_key = s\naws_account_id = 111111111111\n", `creds line 1: profile "a" has no aws_access_key_id`},
		{"empty access key", "[a]\naws_access_key_id =\naws_secret_access_key = s\naws_account_id = 111111111111\n", `line 1: profile "a" has no aws_access_key_id`},
		{"missing secret", "[a]\naws_access_key_id = AKIA\naws_account_id = 111111111111\n", `line 1: profile "a" has no aws_secret_access_key`},
		{"missing account id", "[a]\n" + "aws_access_key_id = AKIA\naws_secret_access_key = s\n", `line 1: profile "a" needs aws_account_id of 12 digits, not ""`},
		{"bad account id in a later profile", "[a]\n" + ok + "\n# second\n[b]\naws_access_key_id = AKIAB\naws_secret_access_key = s\naws_account_id = 12345678901x\n",
			`creds line 7: profile "b" needs aws_account_id of 12 digits, not "12345678901x"`},
		{"account id too short", "[a]\naws_access_key_id = AKIA\naws_secret_access_key = s\naws_account_id = 12345\n", `line 1: profile "a" needs aws_account_id of 12 digits`},
		{"account id too long", "[a]\naws_access_key_id = AKIA\naws_secret_access_key = s\naws_account_id = 1234567890123\n", "12 digits"},
		{"account id with dashes", "[a]\naws_access_key_id = AKIA\naws_secret_access_key = s\naws_account_id = 1234-5678-9012\n", "12 digits"},
		{"duplicate profile", "[a]\n" + ok + "[b]\naws_access_key_id = AKIAB\naws_secret_access_key = s\naws_account_id = 111111111111\n[a]\n",
			`creds line 9: profile "a" appears twice (first at line 1)`},
		{"duplicate profile, one in profile form", "[a]\n" + ok + "[profile a]\n", `line 5: profile "a" appears twice (first at line 1)`},
		{"duplicate access key", "[a]\n" + ok + "[b]\n" + ok, `creds line 5: profile "b" reuses the access key of profile "a"`},
		{"key before any section", "aws_access_key_id = AKIA\n[a]\n" + ok, `creds line 1: "aws_access_key_id" comes before any [profile-name] section`},
		{"key after a comment before any section", "# header\n\naws_secret_access_key = s\n", "line 3:"},
		{"line without =", "[a]\n" + ok + "not a key value\n", "creds line 5: expected key = value or [profile-name]"},
		{"unclosed section", "[a\n" + ok, "creds line 1: a section header must look like [profile-name]"},
		{"empty section name", "[]\n" + ok, "line 1: a section header must look like [profile-name]"},
		{"access key with a slash", "[a]\naws_access_key_id = AK/IA\naws_secret_access_key = s\naws_account_id = 111111111111\n", `line 1: profile "a" has an aws_access_key_id with /`},
		{"access key with a comma", "[a]\naws_access_key_id = AK,IA\naws_secret_access_key = s\naws_account_id = 111111111111\n", "with /, space, comma or ="},
		{"access key with a space", "[a]\naws_access_key_id = AK IA\naws_secret_access_key = s\naws_account_id = 111111111111\n", "with /, space, comma or ="},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials(strings.NewReader(tc.file), "creds")
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if got != nil {
				t.Errorf("got %+v with the error", got)
			}
			if !strings.HasPrefix(err.Error(), "credentials: ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// A credentials file never puts a secret into an error message.
func TestParseCredentialsKeepsSecretsOutOfErrors(t *testing.T) {
	for _, file := range []string{
		"[a]\naws_access_key_id = AKIA\naws_secret_access_key = TOPSECRET\naws_session_token = TOKENSECRET\naws_account_id = 1\n",
		"[a]\naws_secret_access_key = TOPSECRET\naws_session_token = TOKENSECRET\naws_account_id = 111111111111\n",
		"[a]\naws_access_key_id = AKIA\naws_secret_access_key = TOPSECRET\naws_account_id = 111111111111\n[b]\naws_access_key_id = AKIA\naws_secret_access_key = TOPSECRET\naws_account_id = 111111111111\n",
		"aws_secret_access_key = TOPSECRET\n",
		"[a]\nTOPSECRET\n",
	} {
		_, err := ParseCredentials(strings.NewReader(file), "creds")
		if err == nil {
			t.Fatalf("no error for %q", file)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error %q shows a secret", err)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, []byte("[a]\naws_access_key_id = AKIA\naws_secret_access_key = s\naws_account_id = 111111111111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCredentials(path)
	if err != nil {
		t.Fatal(err)
	}
	if c["AKIA"].AccountID != "111111111111" || c["AKIA"].Profile != "a" {
		t.Errorf("LoadCredentials = %+v", c)
	}
	if err := os.WriteFile(path, []byte("[a]\naws_access_key_id = AKIA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), path+" line 1:") {
		t.Errorf("LoadCredentials of a bad file: %v; want the path and the line", err)
	}
	if _, err := LoadCredentials(filepath.Join(dir, "missing")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("LoadCredentials of a missing file: %v", err)
	}
	long := "[a]\naws_access_key_id = AKIA\naws_secret_access_key = " + strings.Repeat("s", 2<<20) + "\naws_account_id = 111111111111\n"
	if err := os.WriteFile(path, []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadCredentials of a file with a 2 MiB line: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestLoadCredentials_PolicyFile: policy_file is read relative to the
// credentials file, profiles without one have no policy (full access),
// and a bad policy file fails the load with the profile, the file and
// the line.
func TestLoadCredentials_PolicyFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "p"), 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p/read.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:Get*","Resource":"*"}}`)
	write("credentials", `
[reader]
aws_access_key_id = AKIAREADER
aws_secret_access_key = s
aws_account_id = 111111111111
policy_file = p/read.json

[admin]
aws_access_key_id = AKIAADMIN
aws_secret_access_key = s
aws_account_id = 111111111111
`)
	creds, err := LoadCredentials(filepath.Join(dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if r := creds["AKIAREADER"]; r.PolicyFile != "p/read.json" || r.Policy == nil || len(r.Policy.Statements()) != 1 {
		t.Errorf("reader: policy file %q, policy %v", r.PolicyFile, r.Policy)
	}
	if a := creds["AKIAADMIN"]; a.Policy != nil {
		t.Errorf("admin has a policy without a policy_file")
	}

	write("p/read.json", "{\"Version\":\"2012-10-17\",\n\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\n\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"a:b\":\"c\"}}}}")
	_, err = LoadCredentials(filepath.Join(dir, "credentials"))
	want := `profile "reader": policy: ` + filepath.Join(dir, "p/read.json") + ` line 3: unknown condition operator "StringEqualz"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
	if err := os.Remove(filepath.Join(dir, "p/read.json")); err != nil {
		t.Fatal(err)
	}
	if _, err = LoadCredentials(filepath.Join(dir, "credentials")); err == nil || !strings.Contains(err.Error(), "read.json: can't read it") {
		t.Fatalf("a missing policy file: %v", err)
	}
}
