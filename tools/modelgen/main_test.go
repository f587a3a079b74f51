package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/cairn-dev/cairn/tools/internal/genfile"
)

// The checked-in shapes_gen.go is what the generator makes of the model
// today: a change to either without `go generate ./internal/cloudmap` fails
// here.
func TestGeneratedFileIsCurrent(t *testing.T) {
	g := &gen{m: readModel(t), patterns: map[string]string{}}
	src, err := genfile.Format(g.run())
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("../../internal/cloudmap/shapes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, have) {
		t.Errorf("internal/cloudmap/shapes_gen.go is stale: run go generate ./internal/cloudmap")
	}
}

// Every model pattern compiles in Go's RE2, directly or through its
// look-around rewrite, and each rewrite has a condition.
func TestPatternsCompile(t *testing.T) {
	m := readModel(t)
	used := map[string]bool{}
	for name, s := range m.Shapes {
		if s.Pattern == "" {
			continue
		}
		re := s.Pattern
		if l, ok := lookaround[re]; ok {
			used[re] = true
			if l.cond == "" {
				t.Errorf("%s: rewrite without condition", name)
			}
			re = l.re
		}
		re = regexp.MustCompile(`\{1,1024\}`).ReplaceAllString(re, "+")
		if _, err := regexp.Compile(re); err != nil {
			t.Errorf("%s: pattern %q does not compile: %v", name, re, err)
		}
	}
	for pat := range lookaround {
		if !used[pat] {
			t.Errorf("look-around rewrite of %q matches no model pattern", pat)
		}
	}
}

// readModel is the model the generator reads, Cloud Map's service-2.json.
func readModel(t *testing.T) model {
	t.Helper()
	var m model
	if err := genfile.ReadJSON("../../internal/cloudmap/service-2.json", &m); err != nil {
		t.Fatal(err)
	}
	return m
}
