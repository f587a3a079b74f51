package genfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"name":"us-east-1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"name":`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, want, wantErr string
	}{
		{good, "us-east-1", ""},
		{bad, "", "parse " + bad},
		{filepath.Join(dir, "missing.json"), "", "missing.json"},
	} {
		var v struct{ Name string }
		err := ReadJSON(tc.path, &v)
		if v.Name != tc.want || (err == nil) != (tc.wantErr == "") || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ReadJSON(%s) = %q, %v; want %q, %q", filepath.Base(tc.path), v.Name, err, tc.want, tc.wantErr)
		}
	}
}

func TestWrite(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x_gen.go")
	if err := Write(out, []byte("package x\nvar   A = []string{\n\"a\",\n}\n")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "package x\n\nvar A = []string{\n\t\"a\",\n}\n"; string(b) != want {
		t.Errorf("wrote %q, want %q", b, want)
	}
	if err := Write(out, []byte("package x\nfunc {")); err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Errorf("not Go: %v", err)
	}
}
