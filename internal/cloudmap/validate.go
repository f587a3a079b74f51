package cloudmap

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Validatable is implemented by every structure of the model.
type Validatable interface {
	validate(v *validator)
}

// ValidationError lists the constraints an input broke. Its message follows
// AWS's wording: "2 validation errors detected: Value '…' at 'Name' failed
// to satisfy constraint: …; …".
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	n := len(e.Problems)
	noun := "error"
	if n != 1 {
		noun = "errors"
	}
	return fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(e.Problems, "; "))
}

// maxProblems caps how many problems one error lists, so a hostile input
// cannot make the message large.
const maxProblems = 10

// Validate checks s against the model's constraints and returns a
// *ValidationError, or nil when s satisfies them all.
func Validate(s Validatable) error {
	v := validators.Get().(*validator)
	defer validators.Put(v)
	v.path, v.problems, v.count = v.pathBuf[:0], nil, 0
	s.validate(v)
	if v.count == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

// validators holds validators between calls: every request is
// validated, and a validator (passed to an interface method) would
// otherwise be allocated each time.
var validators = sync.Pool{New: func() any { return new(validator) }}

type validator struct {
	path     []string
	problems []string
	count    int
	pathBuf  [4]string // path's storage while it is short (the model nests 3 deep)
}

func (v *validator) push(name string) { v.path = append(v.path, name) }

func (v *validator) pushIndex(name string, i int) {
	v.path = append(v.path, name+"."+strconv.Itoa(i+1)+".member")
}

func (v *validator) pop() { v.path = v.path[:len(v.path)-1] }

func (v *validator) where(name string) string {
	parts := make([]string, 0, len(v.path)+1)
	for _, p := range v.path {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if name != "" {
		parts = append(parts, name)
	}
	return strings.Join(parts, ".")
}

func (v *validator) add(msg string) {
	v.count++
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, msg)
	}
}

func (v *validator) missing(name string) {
	v.add(fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", v.where(name)))
}

func (v *validator) fail(name string, value any, constraint string) {
	var shown string
	switch x := value.(type) {
	case string:
		shown = "'" + clipRunes(x, 64) + "'"
	case int:
		shown = "of length " + strconv.Itoa(x)
	default:
		shown = fmt.Sprintf("'%v'", x)
	}
	v.add(fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown, v.where(name), constraint))
}

// clipRunes shortens s to at most n runes, marking a cut with "…". It cuts
// between runes, so a shown value stays valid UTF-8.
func clipRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + "…"
		}
		count++
	}
	return s
}
